"""Informers: initial list, watch events, 410 Gone answered by a relist that reports deletions."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from provisioner.devcluster import DevCluster, start
from provisioner.kube.api import SERVICES, Api, load_configuration
from provisioner.kube.informer import Informer


@pytest.fixture
def cluster() -> Iterator[DevCluster]:
    with start(0, bookmark_interval=0.5) as running:
        yield running


def svc(name: str) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"ports": [{"port": 80}]},
    }


def wait(check: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_list_watch_relist_after_410_and_restart(cluster: DevCluster) -> None:
    api = Api(load_configuration(str(cluster.kubeconfig)))
    seen: list[tuple[str, str]] = []

    def handler(kind: str, old: dict[str, object] | None, new: dict[str, object] | None) -> None:
        obj = new or old or {}
        seen.append((kind, obj["metadata"]["name"]))  # type: ignore[index]

    cluster.create(svc("first"))
    informer = Informer(api, SERVICES, handler=handler, watch_timeout=30, backoff_max=0.5)
    informer.start()
    wait(informer.synced.is_set)
    names = {s["metadata"]["name"] for s in informer.list("default")}
    assert "first" in names
    api.create(SERVICES, "default", svc("second"))
    wait(lambda: informer.get("default", "second") is not None)
    assert ("ADDED", "second") in seen
    # While the server is away, one object goes and one comes; history is compacted.
    cluster.stop_serving()
    cluster.registry.delete(cluster.resource("services"), "default", "first")
    cluster.create(svc("third"))
    cluster.compact()
    cluster.resume_serving()
    wait(lambda: informer.get("default", "third") is not None)
    wait(lambda: informer.get("default", "first") is None)
    assert ("DELETED", "first") in seen
    assert informer.relists >= 2
    informer.stop()
    api.close()
