"""One harness per provider: its fake cloud, providers for two clusters, desired states.

The contract tests below see only `Harness`, so a provider joins the suite by adding a
harness here (AWS on moto in-process, GCP on the Compute fake in-process).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import boto3
import pytest
from moto import mock_aws

from providers.aws.annotations import ANNOTATIONS as AWS_ANNOTATIONS
from providers.aws.client import SDK_CONFIG, RetryPolicy, TokenBucket, wrap_clients
from providers.aws.ingress_annotations import INGRESS_ANNOTATIONS as AWS_INGRESS_ANNOTATIONS
from providers.aws.provider import AwsConfig, AwsProvider
from providers.aws.seed import seed_cluster as seed_aws
from providers.base import Provider
from providers.gcp.client import Compute, build_sdk
from providers.gcp.client import RetryPolicy as GcpRetry
from providers.gcp.fake import start
from providers.gcp.provider import GcpConfig, GcpProvider
from providers.gcp.seed import SeedNode
from providers.gcp.seed import seed_cluster as seed_gcp
from provisioner.model import LoadBalancer, Scheme
from provisioner.reconcile import Selection, desired_for
from tests.aws import builders as aws_builders
from tests.gcp import builders as gcp_builders
from tests.gcp import ingress as gcp_ingress

CLUSTER = "contract"
OTHER = "other-cluster"
LB_CLASS = "provisioner.io/nlb"
Ports = Sequence[tuple[int, int]]
EXTERNAL = Scheme.INTERNET_FACING


class AwsStub:
    """Translation needs only the provider's name and vocabularies."""

    name = "aws"
    annotations = AWS_ANNOTATIONS
    ingress_annotations = AWS_INGRESS_ANNOTATIONS


AWS_SELECTION = Selection(
    load_balancer_class=LB_CLASS,
    classless_service=lambda _: False,
    ingress_controller="provisioner.io/alb",
    ingress_annotations=AWS_INGRESS_ANNOTATIONS,
)


@dataclass
class Harness:
    name: str
    make: Callable[[str], Provider]
    """A provider for a cluster name, with fresh clients and counters."""
    desired: Callable[[str, Ports, str], LoadBalancer]
    """The desired state of a key with (port, nodePort) pairs on every node of a cluster
    (clusters do not share nodes)."""
    is_read: Callable[[str], bool]
    application: Callable[[str, Sequence[str]], LoadBalancer] | None = None
    """The desired application load balancer of an Ingress key routing the given Prefix
    paths to one Service, translated from manifests; None: the provider does not serve
    Ingresses yet (its application scenarios are skipped, saying so)."""

    def provider(self, cluster: str = CLUSTER) -> Provider:
        return self.make(cluster)

    def want(self, key: str, ports: Ports, cluster: str = CLUSTER) -> LoadBalancer:
        return self.desired(key, ports, cluster)

    def writes(self, provider: Provider) -> int:
        return sum(n for (_, op, _), n in provider.call_counts().items() if not self.is_read(op))


def _aws() -> Iterator[Harness]:
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    region = "us-east-1"
    with mock_aws():
        session = boto3.Session(region_name=region)
        sdk = {
            name: session.client(name, config=SDK_CONFIG)
            for name in ("ec2", "elbv2", "resourcegroupstaggingapi")
        }
        seeded = {
            name: seed_aws(sdk["ec2"], cluster_name=name, region=region, nodes=3)
            for name in (CLUSTER, OTHER)
        }

        def make(cluster: str) -> Provider:
            clients = wrap_clients(
                elbv2=sdk["elbv2"],
                ec2=sdk["ec2"],
                tagging=sdk["resourcegroupstaggingapi"],
                region=region,
                retry=RetryPolicy(attempts=3, multiplier=0.001, max_wait=0.005),
                limits={c: TokenBucket(10_000, 10_000) for c in ("describe", "targets", "modify")},
            )
            config = AwsConfig(cluster_name=cluster, load_balancer_class=LB_CLASS, region=region)
            return AwsProvider(config, clients=clients)

        def desired(key: str, ports: Ports, cluster: str) -> LoadBalancer:
            return aws_builders.service(seeded[cluster], key=key, ports=ports)

        def application(key: str, paths: Sequence[str]) -> LoadBalancer:
            # The same manifests as GCP's, translated with the AWS vocabulary, on the
            # seeded instances of this cluster.
            _, namespace, name = key.split("/")
            routed = [gcp_ingress.path(p, "Prefix", "store") for p in paths]
            nodes = [
                {
                    "apiVersion": "v1",
                    "kind": "Node",
                    "metadata": {
                        "name": f"node-{i}",
                        "labels": {"topology.kubernetes.io/zone": pid.split("/")[3]},
                    },
                    "spec": {"providerID": pid},
                }
                for i, pid in enumerate(seeded[CLUSTER].provider_ids)
            ]
            objects = [
                gcp_ingress.ingress_class(),
                *nodes,
                gcp_ingress.service("store", namespace, 30180),
                gcp_ingress.ingress(name, namespace, rules=[("www.example.com", routed)]),
            ]
            found = desired_for(key, gcp_ingress.view(objects), AwsStub(), AWS_SELECTION)
            assert found.error is None and found.desired is not None, found.error
            return found.desired

        yield Harness(
            "aws",
            make,
            desired,
            lambda op: op.startswith(("Describe", "Get", "List")),
            application=application,
        )


def _gcp() -> Iterator[Harness]:
    with start() as fake:
        nodes = [SeedNode(name=n, zone=z) for n, z in gcp_builders.vm_names(3)]
        seed_gcp(fake.url, project=gcp_builders.PROJECT, nodes=nodes, network="default")

        def make(cluster: str) -> Provider:
            compute = Compute(
                project=gcp_builders.PROJECT,
                region=gcp_builders.REGION,
                sdk=build_sdk(endpoint=fake.url, credentials=None),
                retry=GcpRetry(attempts=3, multiplier=0.001, max_wait=0.005),
            )
            config = GcpConfig(
                cluster_name=cluster, load_balancer_class=LB_CLASS, network="default"
            )
            return GcpProvider(config, compute=compute)

        def desired(key: str, ports: Ports, cluster: str) -> LoadBalancer:
            # The seeded VMs are this cluster's; the other one has none (yet) in the fake.
            count = 3 if cluster == CLUSTER else 0
            return gcp_builders.service(key=key, ports=ports, node_count=count, scheme=EXTERNAL)

        def application(key: str, paths: Sequence[str]) -> LoadBalancer:
            _, namespace, name = key.split("/")
            routed = [gcp_ingress.path(p, "Prefix", "store") for p in paths]
            objects = [
                gcp_ingress.ingress_class(),
                *gcp_ingress.nodes(3),
                gcp_ingress.service("store", namespace, 30180),
                gcp_ingress.ingress(name, namespace, rules=[("www.example.com", routed)]),
            ]
            return gcp_ingress.desired(key, objects)

        reads = ("get", "list", "aggregatedList", "listInstances", "getHealth", "wait")
        yield Harness(
            "gcp",
            make,
            desired,
            lambda op: op.rsplit(".", 1)[-1] in reads,
            application=application,
        )


@pytest.fixture(params=["aws", "gcp"])
def harness(request: pytest.FixtureRequest) -> Iterator[Harness]:
    yield from (_aws() if request.param == "aws" else _gcp())
