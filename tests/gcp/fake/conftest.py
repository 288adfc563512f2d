"""One fake for the whole run, reset before each test; clients built per test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from providers.gcp.fake import FakeCompute, start
from providers.gcp.seed import SeededCluster, SeedNode, client_kwargs, seed_cluster
from tests.gcp.fake.builders import PROJECT, REGION, ZONE, Clients


@pytest.fixture(scope="session")
def running() -> Iterator[FakeCompute]:
    with start() as fake:
        yield fake


@pytest.fixture
def fake(running: FakeCompute) -> FakeCompute:
    running.reset()
    return running


@pytest.fixture
def kw(fake: FakeCompute) -> dict[str, Any]:
    return client_kwargs(fake.url)


@pytest.fixture
def clients(kw: dict[str, Any]) -> Clients:
    return Clients(kw)


@pytest.fixture
def cluster(fake: FakeCompute) -> SeededCluster:
    """A network, a subnetwork in us-central1 and three nodes in zones a and b."""
    nodes = [SeedNode("node-1", ZONE), SeedNode("node-2", ZONE), SeedNode("node-3", f"{REGION}-b")]
    return seed_cluster(fake.url, project=PROJECT, nodes=nodes)
