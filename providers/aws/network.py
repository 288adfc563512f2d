"""Where the load balancer lives: the VPC, its subnets, and the nodes' security groups.

These are facts about the cluster's network rather than about one Service, and they rarely
change, so the provider caches the node-derived part per set of instance ids. Discovery
follows the rules users know from AWS Load Balancer Controller (role tags on subnets, one
subnet per zone, the single cluster-tagged group on a node's primary interface) and every
failure names what was looked for and where, because "no subnets" alone helps nobody.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from providers.aws.client import AwsClient
from providers.aws.marks import tag_dict
from providers.base import InvalidSpec, NotFound
from provisioner.model import Node, Scheme

CLUSTER_TAG_PREFIX = "kubernetes.io/cluster/"
ROLE_PUBLIC = "kubernetes.io/role/elb"
ROLE_INTERNAL = "kubernetes.io/role/internal-elb"


@dataclass(frozen=True)
class Instance:
    id: str
    vpc_id: str
    zone: str
    primary_groups: tuple[str, ...]


@dataclass(frozen=True)
class Network:
    """The VPC and the node instances, as read from EC2 for one set of nodes."""

    vpc_id: str
    cidrs: tuple[str, ...]
    instances: Mapping[str, Instance] = field(default_factory=dict)
    node_groups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Per instance: the cluster-tagged groups on its primary interface."""

    def node_security_groups(self) -> tuple[str, ...]:
        """The groups that receive backend rules; each instance must have exactly one."""
        chosen: set[str] = set()
        for instance_id in sorted(self.node_groups):
            groups = self.node_groups[instance_id]
            if len(groups) != 1:
                found = "none" if not groups else ", ".join(groups)
                raise InvalidSpec(
                    f"nodes: instance {instance_id} must have exactly one security group "
                    f"tagged {CLUSTER_TAG_PREFIX}<cluster> on its primary network interface; "
                    f"found {found}",
                    field="nodes",
                    value=instance_id,
                )
            chosen.add(groups[0])
        return tuple(sorted(chosen))

    def contains_ip(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(
            ip.version == net.version and ip in net
            for net in (ipaddress.ip_network(c, strict=False) for c in self.cidrs)
        )


@dataclass(frozen=True)
class Subnet:
    id: str
    zone: str
    tags: Mapping[str, str]


def instance_id(node: Node) -> str:
    """`aws:///us-east-1a/i-0123...` -> `i-0123...`."""
    segment = node.instance_id
    if not node.provider_id.startswith("aws://") or not segment.startswith("i-"):
        raise InvalidSpec(
            f"nodes: node {node.name} has providerID {node.provider_id!r}; accepted: "
            "aws:///<zone>/<instance id>",
            field="nodes",
            value=node.provider_id,
        )
    return segment


def discover(
    ec2: AwsClient, instance_ids: Iterable[str], *, vpc_id: str | None, cluster: str
) -> Network:
    """Read the node instances (one call), their groups (one) and the VPC's CIDRs (one)."""
    wanted = sorted(set(instance_ids))
    instances: dict[str, Instance] = {}
    if wanted:
        try:
            pages = list(ec2.pages("DescribeInstances", token="NextToken", InstanceIds=wanted))
        except NotFound as err:
            raise InvalidSpec(
                f"nodes: some node instances do not exist in EC2 ({err}); "
                f"instances asked for: {', '.join(wanted)}",
                field="nodes",
                value=",".join(wanted),
            ) from err
        for page in pages:
            for reservation in page.get("Reservations", []):
                for sdk_instance in reservation.get("Instances", []):
                    instances[sdk_instance["InstanceId"]] = _instance(sdk_instance)
        missing = [i for i in wanted if i not in instances]
        if missing:
            raise InvalidSpec(
                f"nodes: instance {missing[0]} does not exist in EC2",
                field="nodes",
                value=missing[0],
            )
    vpcs = sorted({i.vpc_id for i in instances.values()})
    if vpc_id is None:
        if len(vpcs) > 1:
            raise InvalidSpec(
                f"nodes: the node instances are in several VPCs ({', '.join(vpcs)}); "
                "set --vpc-id to choose one",
                field="nodes",
                value=",".join(vpcs),
            )
        if not vpcs:
            raise InvalidSpec(
                "nodes: no VPC found: there are no nodes with an aws:// providerID and no "
                "--vpc-id was given",
                field="nodes",
            )
        vpc_id = vpcs[0]
    outside = sorted(i.id for i in instances.values() if i.vpc_id != vpc_id)
    if outside:
        raise InvalidSpec(
            f"nodes: instance {outside[0]} is not in VPC {vpc_id}",
            field="nodes",
            value=outside[0],
        )
    return Network(
        vpc_id=vpc_id,
        cidrs=_vpc_cidrs(ec2, vpc_id),
        instances=instances,
        node_groups=_node_groups(ec2, instances.values(), cluster=cluster),
    )


def _instance(sdk: Mapping[str, Any]) -> Instance:
    groups: tuple[str, ...] = ()
    for eni in sdk.get("NetworkInterfaces", []):
        if eni.get("Attachment", {}).get("DeviceIndex") == 0:
            groups = tuple(g["GroupId"] for g in eni.get("Groups", []))
    if not sdk.get("NetworkInterfaces"):
        groups = tuple(g["GroupId"] for g in sdk.get("SecurityGroups", []))
    return Instance(
        id=sdk["InstanceId"],
        vpc_id=sdk.get("VpcId", ""),
        zone=sdk.get("Placement", {}).get("AvailabilityZone", ""),
        primary_groups=groups,
    )


def _vpc_cidrs(ec2: AwsClient, vpc_id: str) -> tuple[str, ...]:
    try:
        vpcs = ec2.call("DescribeVpcs", VpcIds=[vpc_id]).get("Vpcs", [])
    except NotFound as err:
        raise InvalidSpec(f"vpc: VPC {vpc_id} does not exist", field="vpc", value=vpc_id) from err
    cidrs: list[str] = []
    for vpc in vpcs:
        for assoc in vpc.get("CidrBlockAssociationSet", []):
            if assoc.get("CidrBlockState", {}).get("State", "associated") == "associated":
                cidrs.append(assoc["CidrBlock"])
        for assoc in vpc.get("Ipv6CidrBlockAssociationSet", []):
            if assoc.get("Ipv6CidrBlockState", {}).get("State", "associated") == "associated":
                cidrs.append(assoc["Ipv6CidrBlock"])
        if not cidrs and vpc.get("CidrBlock"):
            cidrs.append(vpc["CidrBlock"])
    return tuple(cidrs)


def _node_groups(
    ec2: AwsClient, instances: Iterable[Instance], *, cluster: str
) -> dict[str, tuple[str, ...]]:
    instances = list(instances)
    group_ids = sorted({g for i in instances for g in i.primary_groups})
    tagged: set[str] = set()
    if group_ids:
        for page in ec2.pages("DescribeSecurityGroups", token="NextToken", GroupIds=group_ids):
            for group in page.get("SecurityGroups", []):
                if CLUSTER_TAG_PREFIX + cluster in tag_dict(group.get("Tags")):
                    tagged.add(group["GroupId"])
    return {i.id: tuple(g for g in i.primary_groups if g in tagged) for i in instances}


def list_subnets(ec2: AwsClient, vpc_id: str) -> list[Subnet]:
    """Every subnet of the VPC in one listing; both discovery and lookup work from it."""
    subnets: list[Subnet] = []
    filters = [{"Name": "vpc-id", "Values": [vpc_id]}]
    for page in ec2.pages("DescribeSubnets", token="NextToken", Filters=filters):
        for sdk in page.get("Subnets", []):
            subnets.append(
                Subnet(
                    id=sdk["SubnetId"], zone=sdk["AvailabilityZone"], tags=tag_dict(sdk.get("Tags"))
                )
            )
    return subnets


def choose_subnets(
    subnets: Sequence[Subnet],
    *,
    desired: Sequence[str] | None,
    scheme: Scheme,
    cluster: str,
    vpc_id: str,
    tags: Mapping[str, Sequence[str]] | None = None,
) -> tuple[str, ...]:
    """The subnet ids for the load balancer (pure: tested by table).

    `tags` (IngressClassParams `subnets.tags`) replaces the role tag: a subnet qualifies when
    it carries every key with one of the listed values; the rest of discovery is the same.
    """
    if desired:
        return _named_subnets(subnets, desired, vpc_id=vpc_id)
    role = ROLE_PUBLIC if scheme is Scheme.INTERNET_FACING else ROLE_INTERNAL
    ours = CLUSTER_TAG_PREFIX + cluster
    best: dict[str, Subnet] = {}
    for subnet in subnets:
        if tags is not None:
            if any(subnet.tags.get(k) not in tuple(v) for k, v in tags.items()):
                continue
        elif subnet.tags.get(role) not in ("", "1"):
            continue
        others = [k for k in subnet.tags if k.startswith(CLUSTER_TAG_PREFIX) and k != ours]
        if others and ours not in subnet.tags:
            continue
        current = best.get(subnet.zone)
        if current is None or _rank(subnet, ours) < _rank(current, ours):
            best[subnet.zone] = subnet
    if not best and tags is not None:
        wanted = "; ".join(f"{k} in ({', '.join(v)})" for k, v in sorted(tags.items()))
        raise InvalidSpec(
            f"subnets: no subnets found in VPC {vpc_id} carrying the tags {wanted} (and not "
            "tagged for another cluster)",
            field="subnets",
            value=wanted,
        )
    if not best:
        raise InvalidSpec(
            f'subnets: no subnets found in VPC {vpc_id} with tag {role} (value "" or "1") '
            f"for a {scheme.value} load balancer (and not tagged for another cluster); "
            "tag subnets or set provisioner.io/subnets",
            field="subnets",
            value="",
        )
    return tuple(sorted(s.id for s in best.values()))


def _rank(subnet: Subnet, ours: str) -> tuple[int, str]:
    return (0 if ours in subnet.tags else 1, subnet.id)


def _named_subnets(
    subnets: Sequence[Subnet], desired: Sequence[str], *, vpc_id: str
) -> tuple[str, ...]:
    by_id = {s.id: s for s in subnets}
    chosen: dict[str, Subnet] = {}
    for wanted in desired:
        matches = (
            [by_id[wanted]]
            if wanted in by_id
            else [s for s in subnets if s.tags.get("Name") == wanted]
        )
        if not matches:
            raise InvalidSpec(
                f"subnets: subnet {wanted!r} not found in VPC {vpc_id}; accepted: subnet ids "
                "or Name tags of subnets in that VPC",
                field="subnets",
                value=wanted,
            )
        if len(matches) > 1:
            raise InvalidSpec(
                f"subnets: several subnets in VPC {vpc_id} are named {wanted!r} "
                f"({', '.join(s.id for s in matches)}); use subnet ids",
                field="subnets",
                value=wanted,
            )
        subnet = matches[0]
        if subnet.zone in chosen and chosen[subnet.zone].id != subnet.id:
            raise InvalidSpec(
                f"subnets: {chosen[subnet.zone].id} and {subnet.id} are both in "
                f"{subnet.zone}; accepted: at most one subnet per availability zone",
                field="subnets",
                value=wanted,
            )
        chosen[subnet.zone] = subnet
    return tuple(sorted(s.id for s in chosen.values()))


def resolve_security_groups(
    ec2: AwsClient, wanted: Sequence[str], *, vpc_id: str
) -> tuple[str, ...]:
    """User-named frontend groups (ids or Name tags) as ids, in the order given."""
    ids = [w for w in wanted if w.startswith("sg-")]
    names = [w for w in wanted if not w.startswith("sg-")]
    found: list[dict[str, Any]] = []
    vpc_filter = {"Name": "vpc-id", "Values": [vpc_id]}
    if ids:
        filters = [vpc_filter, {"Name": "group-id", "Values": ids}]
        found += ec2.call("DescribeSecurityGroups", Filters=filters).get("SecurityGroups", [])
    if names:
        filters = [vpc_filter, {"Name": "tag:Name", "Values": names}]
        found += ec2.call("DescribeSecurityGroups", Filters=filters).get("SecurityGroups", [])
    result: list[str] = []
    for item in wanted:
        matches = [
            g["GroupId"]
            for g in found
            if g["GroupId"] == item or tag_dict(g.get("Tags")).get("Name") == item
        ]
        if len(set(matches)) != 1:
            problem = "not found" if not matches else "ambiguous (several groups have that Name)"
            raise InvalidSpec(
                f"security-groups: security group {item!r} {problem} in VPC {vpc_id}; "
                "accepted: security group ids or Name tags in that VPC",
                field="security-groups",
                value=item,
            )
        if matches[0] not in result:
            result.append(matches[0])
    return tuple(result)
