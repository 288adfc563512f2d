"""A local AWS for the demo: moto in server mode, seeded to match the demo's Nodes.

The provider under demonstration is the real one, talking HTTP to the fake through the
standard AWS environment variables, exactly as it would talk to AWS.
"""

from __future__ import annotations

import copy
import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3

from providers.aws.seed import import_certificates, seed_cluster

REGION = "us-east-1"


EXAMPLE_CERTIFICATE = (
    "arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"
)
"""The certificate ARN examples/ names; the demo swaps in one it imports into its ACM."""

EXAMPLE_HOSTS = ("www.example.com", "*.shops.example.com")


@dataclass
class DemoCloud:
    env: dict[str, str]
    nodes: list[dict[str, Any]]
    summary: list[str] = field(default_factory=list)
    replacements: dict[str, str] = field(default_factory=dict)
    """Values in the manifests that stand for ids only the fake knows (certificate ARNs)."""


def _rewrite(node: Mapping[str, Any], *, provider_id: str, zone: str, ip: str) -> dict[str, Any]:
    body = copy.deepcopy(dict(node))
    body.setdefault("spec", {})["providerID"] = provider_id
    labels = body.setdefault("metadata", {}).setdefault("labels", {})
    labels["topology.kubernetes.io/zone"] = zone
    status = body.setdefault("status", {})
    others = [a for a in status.get("addresses") or [] if a.get("type") != "InternalIP"]
    status["addresses"] = [{"type": "InternalIP", "address": ip}, *others]
    return body


@contextmanager
def demo_cloud(nodes: Sequence[Mapping[str, Any]], *, cluster_name: str) -> Iterator[DemoCloud]:
    """Start moto, seed a cluster network with one instance per Node, yield the env to use."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        env = {
            "AWS_ENDPOINT_URL": f"http://{host}:{port}",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "demo",
            "AWS_SECRET_ACCESS_KEY": "demo",
        }
        ec2 = boto3.client(
            "ec2",
            endpoint_url=env["AWS_ENDPOINT_URL"],
            region_name=REGION,
            aws_access_key_id="demo",
            aws_secret_access_key="demo",
        )
        seeded = seed_cluster(ec2, cluster_name=cluster_name, region=REGION, nodes=len(nodes))
        acm = boto3.client(
            "acm",
            endpoint_url=env["AWS_ENDPOINT_URL"],
            region_name=REGION,
            aws_access_key_id="demo",
            aws_secret_access_key="demo",
        )
        (certificate,) = import_certificates(acm, EXAMPLE_HOSTS[0])
        described = ec2.describe_instances(InstanceIds=list(seeded.instance_ids))
        ips = {
            i["InstanceId"]: i.get("PrivateIpAddress", "")
            for r in described["Reservations"]
            for i in r["Instances"]
        }
        rewritten = []
        for node, provider_id, instance in zip(
            nodes, seeded.provider_ids, seeded.instance_ids, strict=True
        ):
            zone = provider_id.split("/")[3]
            rewritten.append(_rewrite(node, provider_id=provider_id, zone=zone, ip=ips[instance]))
        summary = [
            f"local AWS (moto) at {env['AWS_ENDPOINT_URL']}, region {REGION}",
            f"  VPC {seeded.vpc_id} ({seeded.vpc_cidr})",
            f"  public subnets  {', '.join(seeded.public_subnets)} (kubernetes.io/role/elb)",
            f"  private subnets {', '.join(seeded.private_subnets)} "
            "(kubernetes.io/role/internal-elb)",
            f"  node security group {seeded.node_security_group} "
            f"(kubernetes.io/cluster/{cluster_name})",
        ]
        summary.append(f"  certificate {certificate} ({EXAMPLE_HOSTS[0]}, self-signed, in ACM)")
        for node in rewritten:
            summary.append(
                f"  node {node['metadata']['name']} -> {node['spec']['providerID']} "
                f"({node['status']['addresses'][0]['address']})"
            )
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            yield DemoCloud(
                env=env,
                nodes=rewritten,
                summary=summary,
                replacements={EXAMPLE_CERTIFICATE: certificate},
            )
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
    finally:
        server.stop()
