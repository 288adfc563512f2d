"""Fixtures for end-to-end runs of the CLI against a moto server in its own process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from providers.aws.seed import SeededCluster, seed_cluster
from tests.e2e.moto_server import MotoServer

CLUSTER = "e2e"


@pytest.fixture(scope="module")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    server = MotoServer(tmp_path_factory.mktemp("moto"))
    yield server
    server.stop()


@dataclass
class Cloud:
    server: MotoServer
    seeded: SeededCluster
    ec2: Any
    elbv2: Any
    tmp: Path

    def cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, **self.server.env()}
        return subprocess.run(
            [sys.executable, "-m", "provisioner.cli", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=timeout,
            check=False,
        )

    def run(self, verb: str, *files: Path, extra: tuple[str, ...] = ()) -> tuple[int, Any]:
        args = [verb]
        for path in files:
            args += ["-f", str(path)]
        args += ["--provider", "aws", "--cluster-name", CLUSTER, "-o", "json", *extra]
        done = self.cli(*args)
        assert "Traceback" not in done.stderr, done.stderr
        try:
            body = json.loads(done.stdout)
        except json.JSONDecodeError:
            raise AssertionError(f"not JSON: {done.stdout!r} {done.stderr!r}") from None
        return done.returncode, body

    def nodes(self, count: int | None = None) -> list[dict[str, Any]]:
        ids = self.seeded.provider_ids[:count]
        return [
            {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {
                    "name": f"node-{i + 1}",
                    "labels": {"topology.kubernetes.io/zone": pid.split("/")[3]},
                },
                "spec": {"providerID": pid},
            }
            for i, pid in enumerate(ids)
        ]

    def write(self, name: str, *docs: dict[str, Any]) -> Path:
        path = self.tmp / name
        path.write_text(yaml.safe_dump_all(docs))
        return path

    def owned_load_balancers(self, owner: str) -> list[str]:
        return self._owned("elasticloadbalancing:loadbalancer", owner)

    def owned_target_groups(self, owner: str) -> list[str]:
        return self._owned("elasticloadbalancing:targetgroup", owner)

    def _owned(self, kind: str, owner: str) -> list[str]:
        tagging = boto3.client("resourcegroupstaggingapi", **self._client_args())
        found = tagging.get_resources(
            ResourceTypeFilters=[kind],
            TagFilters=[{"Key": "provisioner.io/owner", "Values": [owner]}],
        )
        return [r["ResourceARN"] for r in found["ResourceTagMappingList"]]

    def _client_args(self) -> dict[str, str]:
        env = self.server.env()
        return {
            "endpoint_url": env["AWS_ENDPOINT_URL"],
            "region_name": env["AWS_DEFAULT_REGION"],
            "aws_access_key_id": "testing",
            "aws_secret_access_key": "testing",
        }


@pytest.fixture
def cloud(moto_server: MotoServer, tmp_path: Path) -> Cloud:
    moto_server.reset()
    env = moto_server.env()
    args = {
        "endpoint_url": env["AWS_ENDPOINT_URL"],
        "region_name": env["AWS_DEFAULT_REGION"],
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
    }
    ec2 = boto3.client("ec2", **args)
    seeded = seed_cluster(ec2, cluster_name=CLUSTER, nodes=3)
    moto_server.clear_recording()
    return Cloud(
        server=moto_server,
        seeded=seeded,
        ec2=ec2,
        elbv2=boto3.client("elbv2", **args),
        tmp=tmp_path,
    )


def service(
    name: str,
    *,
    annotations: dict[str, str] | None = None,
    ports: list[dict[str, Any]] | None = None,
    **spec: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "LoadBalancer",
        "loadBalancerClass": "provisioner.io/nlb",
        "selector": {"app": name},
        "ports": ports or [{"name": "http", "port": 80, "targetPort": 8080, "nodePort": 30080}],
        **spec,
    }
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": "default", "annotations": annotations or {}},
        "spec": body,
    }


def endpoint_slice(service_name: str, ips: list[str], *, port: int = 8080) -> dict[str, Any]:
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "name": f"{service_name}-1",
            "namespace": "default",
            "labels": {"kubernetes.io/service-name": service_name},
        },
        "addressType": "IPv4",
        "ports": [{"name": "http", "port": port, "protocol": "TCP"}],
        "endpoints": [{"addresses": [ip], "conditions": {"ready": True}} for ip in ips],
    }
