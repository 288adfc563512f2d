"""Fixtures: moto in-process and in server mode, seeded clusters, and injected clients.

Each test gets fresh state: in-process through its own `mock_aws()` context, in server mode
through `POST /moto-api/reset` on a server shared by the worker. Clients are built by the
test and injected into the provider; SDK modules are never patched.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
import requests
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.server import ThreadedMotoServer

from providers.aws.client import SDK_CONFIG, Clients, RetryPolicy, TokenBucket, wrap_clients
from providers.aws.provider import AwsConfig, AwsProvider
from providers.aws.seed import SeededCluster, seed_cluster

REGION = "us-east-1"
logging.getLogger("werkzeug").setLevel(logging.WARNING)
CLUSTER = "test"
LB_CLASS = "provisioner.io/nlb"
FAST_RETRY = RetryPolicy(attempts=4, multiplier=0.001, max_wait=0.005)

os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", REGION)


def client_error(code: str, operation: str, *, status: int = 400) -> ClientError:
    """An error as botocore raises it, for hooks that inject failures into moto calls."""
    response: Any = {
        "Error": {"Code": code, "Message": "injected"},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return ClientError(response, operation)


@dataclass
class Recorder:
    """Counts calls independently of our counter, from botocore's own events."""

    calls: list[str] = field(default_factory=list)

    def hook(self, event_name: str, **_: Any) -> None:
        self.calls.append(event_name.split(".")[-1])

    def mutating(self) -> list[str]:
        return [c for c in self.calls if not c.startswith(("Describe", "Get", "List"))]

    def clear(self) -> None:
        self.calls.clear()


@dataclass
class Cloud:
    """Raw boto3 clients (for seeding and assertions) and a factory for wrapped ones."""

    ec2: Any
    elbv2: Any
    tagging: Any
    acm: Any
    recorder: Recorder
    mode: str

    def clients(self) -> Clients:
        return wrap_clients(
            elbv2=self.elbv2,
            ec2=self.ec2,
            tagging=self.tagging,
            acm=self.acm,
            region=REGION,
            retry=FAST_RETRY,
            limits={c: TokenBucket(10_000, 10_000) for c in ("describe", "targets", "modify")},
        )

    def provider(
        self, *, cluster: str = CLUSTER, lb_class: str = LB_CLASS, vpc_id: str | None = None
    ) -> AwsProvider:
        config = AwsConfig(
            cluster_name=cluster, load_balancer_class=lb_class, region=REGION, vpc_id=vpc_id
        )
        return AwsProvider(config, clients=self.clients())


_SESSION = boto3.Session(region_name=REGION)
"""One session per worker: botocore caches service models on it, so clients are cheap."""


def _make(endpoint: str | None, mode: str) -> Cloud:
    session = _SESSION
    extra: dict[str, Any] = {"config": SDK_CONFIG}
    if endpoint:
        extra["endpoint_url"] = endpoint
    recorder = Recorder()
    sdk = {
        name: session.client(name, **extra)
        for name in ("ec2", "elbv2", "resourcegroupstaggingapi", "acm")
    }
    for client in sdk.values():
        client.meta.events.register("before-call.*.*", recorder.hook)
    return Cloud(
        ec2=sdk["ec2"],
        elbv2=sdk["elbv2"],
        tagging=sdk["resourcegroupstaggingapi"],
        acm=sdk["acm"],
        recorder=recorder,
        mode=mode,
    )


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def inprocess_cloud() -> Iterator[Cloud]:
    with mock_aws():
        yield _make(None, "inprocess")


@pytest.fixture
def server_cloud(moto_server: str) -> Cloud:
    requests.post(f"{moto_server}/moto-api/reset", timeout=10)
    return _make(moto_server, "server")


@pytest.fixture(params=["inprocess", "server"])
def cloud(request: pytest.FixtureRequest) -> Cloud:
    """The contract tests run against both moto modes."""
    fixture = "inprocess_cloud" if request.param == "inprocess" else "server_cloud"
    value: Cloud = request.getfixturevalue(fixture)
    return value


@pytest.fixture
def seeded(cloud: Cloud) -> SeededCluster:
    return seed_cluster(cloud.ec2, cluster_name=CLUSTER, region=REGION, nodes=3)


@pytest.fixture
def provider(cloud: Cloud, seeded: SeededCluster) -> AwsProvider:
    return cloud.provider()


@pytest.fixture
def local_cloud(inprocess_cloud: Cloud) -> Cloud:
    """Tests of one behaviour that need no second moto mode."""
    return inprocess_cloud


@pytest.fixture
def local_seeded(local_cloud: Cloud) -> SeededCluster:
    return seed_cluster(local_cloud.ec2, cluster_name=CLUSTER, region=REGION, nodes=3)
