"""A small AWS network for tests and the demo, created through plain boto3 clients.

The provider discovers everything from tags, so a usable fake cloud needs what a real
cluster has: a VPC, subnets tagged for load balancer roles in several zones, a node security
group tagged `kubernetes.io/cluster/<name>`, and node instances in it. These functions build
exactly that against any endpoint (moto in-process or in server mode) and return the ids, so
callers can write Node values with the right provider ids.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

DEFAULT_AMI = "ami-12c6146b"
"""An image id moto ships with; the instances only need to exist."""


@dataclass(frozen=True)
class SeededCluster:
    cluster_name: str
    vpc_id: str
    vpc_cidr: str
    public_subnets: tuple[str, ...]
    private_subnets: tuple[str, ...]
    node_security_group: str
    instance_ids: tuple[str, ...]
    zones: tuple[str, ...]
    provider_ids: tuple[str, ...]
    """`aws:///<zone>/<instance id>` for each instance, as the kubelet reports it."""


def _tags(resource_type: str, tags: Mapping[str, str]) -> list[dict[str, Any]]:
    return [
        {"ResourceType": resource_type, "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}
    ]


def seed_vpc(ec2: Any, *, cidr: str = "10.0.0.0/16", name: str = "cluster-vpc") -> str:
    vpc = ec2.create_vpc(CidrBlock=cidr, TagSpecifications=_tags("vpc", {"Name": name}))
    return str(vpc["Vpc"]["VpcId"])


def seed_subnet(
    ec2: Any, *, vpc_id: str, cidr: str, zone: str, tags: Mapping[str, str] | None = None
) -> str:
    args: dict[str, Any] = {"VpcId": vpc_id, "CidrBlock": cidr, "AvailabilityZone": zone}
    if tags:
        args["TagSpecifications"] = _tags("subnet", tags)
    return str(ec2.create_subnet(**args)["Subnet"]["SubnetId"])


def seed_node_security_group(
    ec2: Any, *, vpc_id: str, cluster_name: str, name: str = "nodes"
) -> str:
    group = ec2.create_security_group(
        GroupName=name,
        Description="cluster nodes",
        VpcId=vpc_id,
        TagSpecifications=_tags(
            "security-group", {f"kubernetes.io/cluster/{cluster_name}": "owned", "Name": name}
        ),
    )
    return str(group["GroupId"])


def seed_instances(
    ec2: Any, *, subnet_ids: Sequence[str], security_group_ids: Sequence[str], count: int
) -> list[tuple[str, str]]:
    """`count` instances spread over the subnets; returns (instance id, zone) pairs."""
    out: list[tuple[str, str]] = []
    for index in range(count):
        subnet = subnet_ids[index % len(subnet_ids)]
        reservation = ec2.run_instances(
            ImageId=DEFAULT_AMI,
            MinCount=1,
            MaxCount=1,
            InstanceType="t3.medium",
            NetworkInterfaces=[
                {"DeviceIndex": 0, "SubnetId": subnet, "Groups": list(security_group_ids)}
            ],
        )
        instance = reservation["Instances"][0]
        out.append((str(instance["InstanceId"]), str(instance["Placement"]["AvailabilityZone"])))
    return out


def seed_cluster(
    ec2: Any,
    *,
    cluster_name: str = "demo",
    region: str = "us-east-1",
    nodes: int = 3,
    zones: Sequence[str] = ("a", "b", "c"),
) -> SeededCluster:
    """A VPC with public and private subnets per zone, a node group and `nodes` instances."""
    vpc_id = seed_vpc(ec2)
    full_zones = tuple(region + z for z in zones)
    public: list[str] = []
    private: list[str] = []
    for index, zone in enumerate(full_zones):
        public.append(
            seed_subnet(
                ec2,
                vpc_id=vpc_id,
                cidr=f"10.0.{index}.0/24",
                zone=zone,
                tags={"kubernetes.io/role/elb": "1", "Name": f"public-{zone}"},
            )
        )
        private.append(
            seed_subnet(
                ec2,
                vpc_id=vpc_id,
                cidr=f"10.0.{100 + index}.0/24",
                zone=zone,
                tags={"kubernetes.io/role/internal-elb": "1", "Name": f"private-{zone}"},
            )
        )
    group = seed_node_security_group(ec2, vpc_id=vpc_id, cluster_name=cluster_name)
    instances = seed_instances(ec2, subnet_ids=private, security_group_ids=[group], count=nodes)
    return SeededCluster(
        cluster_name=cluster_name,
        vpc_id=vpc_id,
        vpc_cidr="10.0.0.0/16",
        public_subnets=tuple(public),
        private_subnets=tuple(private),
        node_security_group=group,
        instance_ids=tuple(i for i, _ in instances),
        zones=full_zones,
        provider_ids=tuple(f"aws:///{zone}/{iid}" for iid, zone in instances),
    )


def self_signed(host: str) -> tuple[bytes, bytes]:
    """(certificate PEM, private key PEM) valid for `host` for a month.

    ACM needs a real certificate to import; `cryptography` comes with moto, which is what
    this module seeds, so it is imported here only.
    """
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return certificate.public_bytes(serialization.Encoding.PEM), private


def import_certificates(acm: Any, *hosts: str) -> tuple[str, ...]:
    """Import one self-signed certificate per host into ACM; returns their ARNs in order."""
    arns = []
    for host in hosts:
        pem, key = self_signed(host)
        arns.append(str(acm.import_certificate(Certificate=pem, PrivateKey=key)["CertificateArn"]))
    return tuple(arns)
