"""Fixtures: the Compute fake in-process, a seeded cluster network, and injected clients.

One fake serves the whole test run; each test starts from `reset()`. The provider's clients
are built by the test with the fake's URL and injected; SDK modules are never patched.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from providers.gcp.client import Compute, RetryPolicy, build_sdk, is_mutating
from providers.gcp.fake import FakeCompute, start
from providers.gcp.provider import GcpConfig, GcpProvider
from providers.gcp.seed import SeededCluster, SeedNode, seed_cluster
from tests.gcp.builders import PROJECT, REGION, vm_names

CLUSTER = "test"
LB_CLASS = "provisioner.io/nlb"
FAST_RETRY = RetryPolicy(attempts=4, multiplier=0.001, max_wait=0.005)


@dataclass
class Cloud:
    """The fake, a raw Compute wrapper for assertions, and a factory of providers."""

    fake: FakeCompute
    compute: Compute
    seeded: SeededCluster

    def provider(
        self, *, cluster: str = CLUSTER, lb_class: str = LB_CLASS, network: str | None = None
    ) -> GcpProvider:
        compute = Compute(
            project=PROJECT,
            region=REGION,
            sdk=build_sdk(endpoint=self.fake.url, credentials=None),
            retry=FAST_RETRY,
        )
        return GcpProvider(
            GcpConfig(cluster_name=cluster, load_balancer_class=lb_class, network=network),
            compute=compute,
        )

    def mutating(self) -> Counter[str]:
        """Writes the fake answered since the last `clear_calls`, by operation."""
        return Counter({op: n for op, n in self.fake.call_counts().items() if is_mutating(op)})

    def listing(self, collection: str, **scope: str) -> list[dict[str, object]]:
        if collection in ("firewalls",):
            return self.compute.listing(collection, project=PROJECT)
        if collection == "instanceGroups":
            return self.compute.aggregated("instanceGroups", "instanceGroups", project=PROJECT)
        return self.compute.listing(collection, project=PROJECT, region=REGION, **scope)


@pytest.fixture(scope="session")
def fake() -> Iterator[FakeCompute]:
    with start() as running:
        yield running


@pytest.fixture
def cloud(fake: FakeCompute) -> Cloud:
    fake.reset()
    compute = Compute(
        project=PROJECT, region=REGION, sdk=build_sdk(endpoint=fake.url, credentials=None)
    )
    nodes = [SeedNode(name=name, zone=zone) for name, zone in vm_names(4)]
    seeded = seed_cluster(fake.url, project=PROJECT, nodes=nodes, network="default")
    fake.clear_calls()
    return Cloud(fake=fake, compute=compute, seeded=seeded)


@pytest.fixture
def provider(cloud: Cloud) -> GcpProvider:
    return cloud.provider()
