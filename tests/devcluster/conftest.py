"""Fixtures: a fresh dev cluster per test, the official client, and a kubectl runner."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config

from provisioner.devcluster import DevCluster, start


@pytest.fixture
def cluster() -> Iterator[DevCluster]:
    with start(3, bookmark_interval=0.2) as running:
        yield running


@pytest.fixture
def api(cluster: DevCluster) -> Iterator[Any]:
    api_client = config.new_client_from_config(config_file=str(cluster.kubeconfig))
    try:
        yield api_client
    finally:
        api_client.close()


@pytest.fixture
def core(api: Any) -> Any:
    return client.CoreV1Api(api)


class Kubectl:
    """Runs kubectl against one cluster with a private discovery cache."""

    def __init__(self, binary: str, cluster: DevCluster, cache: Path) -> None:
        self.binary = binary
        self.cluster = cluster
        self.cache = cache

    def command(self, *args: str) -> list[str]:
        return [
            self.binary,
            "--kubeconfig",
            str(self.cluster.kubeconfig),
            "--cache-dir",
            str(self.cache),
            *args,
        ]

    def run(self, *args: str, stdin: str | None = None, check: bool = True) -> str:
        result = subprocess.run(
            self.command(*args), input=stdin, capture_output=True, text=True, timeout=30
        )
        if check and result.returncode != 0:
            pytest.fail(f"kubectl {' '.join(args)} failed: {result.stderr}{result.stdout}")
        return result.stdout if check else result.stdout + result.stderr

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args, "-o", "json"))


@pytest.fixture
def kubectl(cluster: DevCluster, tmp_path: Path) -> Kubectl:
    binary = shutil.which("kubectl")
    if binary is None:
        pytest.fail("kubectl is required for this test but was not found on PATH")
    return Kubectl(binary, cluster, tmp_path / "kubectl-cache")
