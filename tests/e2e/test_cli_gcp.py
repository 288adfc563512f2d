"""The CLI end to end against the Compute fake in its own process: external, internal,
externalTrafficPolicy Local, a node removed, and a Service pruned while another still uses
the zone's instance group. Calls are counted from the fake's own call log."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from providers.gcp.seed import SeedNode, seed_cluster

pytestmark = pytest.mark.e2e

PROJECT = "e2e-project"
REGION = "us-central1"
CLUSTER = "e2e"
ZONES = ("us-central1-a", "us-central1-b", "us-central1-c")
READS = ("get", "list", "aggregatedList", "listInstances", "getHealth", "wait")


@pytest.fixture(scope="module")
def fake_url() -> Iterator[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "providers.gcp.fake", "--host", "127.0.0.1", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    url = process.stdout.readline().strip()
    assert url.startswith("http://"), url
    yield url
    process.terminate()
    process.wait(timeout=10)


@dataclass
class Gcp:
    url: str
    tmp: Path

    def run(self, verb: str, *files: Path, extra: tuple[str, ...] = ()) -> tuple[int, Any]:
        args = [sys.executable, "-m", "provisioner.cli", verb]
        for path in files:
            args += ["-f", str(path)]
        args += [
            "--provider", "gcp", "--project", PROJECT, "--region", REGION,
            "--cluster-name", CLUSTER, "--endpoint", self.url, "-o", "json", *extra,
        ]  # fmt: skip
        done = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
        assert "Traceback" not in done.stderr, done.stderr
        try:
            return done.returncode, json.loads(done.stdout)
        except json.JSONDecodeError:
            raise AssertionError(f"not JSON: {done.stdout!r} {done.stderr!r}") from None

    def calls(self) -> list[dict[str, Any]]:
        calls: list[dict[str, Any]] = requests.get(f"{self.url}/_fake/calls", timeout=10).json()[
            "calls"
        ]
        return calls

    def mutating(self) -> Counter[str]:
        return Counter(
            c["operation"] for c in self.calls() if c["operation"].rsplit(".", 1)[-1] not in READS
        )

    def clear(self) -> None:
        requests.delete(f"{self.url}/_fake/calls", timeout=10)

    def listing(self, path: str) -> list[dict[str, Any]]:
        body = requests.get(f"{self.url}/compute/v1/projects/{PROJECT}/{path}", timeout=10).json()
        items = body.get("items", [])
        if isinstance(items, dict):
            return [i for scoped in items.values() for v in scoped.values() for i in v]
        return list(items)

    def nodes(self, count: int = 3) -> list[dict[str, Any]]:
        return [
            {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {
                    "name": f"node-{i}",
                    "labels": {"topology.kubernetes.io/zone": ZONES[i % 3]},
                },
                "spec": {"providerID": f"gce://{PROJECT}/{ZONES[i % 3]}/node-{i}"},
            }
            for i in range(count)
        ]

    def write(self, name: str, *docs: dict[str, Any]) -> Path:
        path = self.tmp / name
        path.write_text(yaml.safe_dump_all(docs))
        return path


@pytest.fixture
def gcp(fake_url: str, tmp_path: Path) -> Gcp:
    requests.post(f"{fake_url}/_fake/reset", timeout=10)
    nodes = [SeedNode(name=f"node-{i}", zone=ZONES[i % 3]) for i in range(4)]
    seed_cluster(fake_url, project=PROJECT, nodes=nodes)
    requests.delete(f"{fake_url}/_fake/calls", timeout=10)
    return Gcp(url=fake_url, tmp=tmp_path)


def service(name: str, *, annotations: dict[str, str] | None = None, **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "LoadBalancer",
        "loadBalancerClass": "provisioner.io/nlb",
        "selector": {"app": name},
        "ports": [{"name": "http", "port": 80, "targetPort": 8080, "nodePort": 30080}],
        **spec,
    }
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": "default", "annotations": annotations or {}},
        "spec": body,
    }


EXTERNAL = {"provisioner.io/scheme": "internet-facing"}


def test_external_apply_then_noop(gcp: Gcp) -> None:
    manifests = gcp.write("web.yaml", *gcp.nodes(), service("web", annotations=EXTERNAL))
    code, body = gcp.run("apply", manifests)
    assert code == 0, body
    (entry,) = body["objects"]
    (ingress,) = entry["status"]["loadBalancer"]["ingress"]
    assert set(ingress) == {"ip"}
    writes = gcp.mutating()
    assert writes == Counter(
        {
            "addresses.insert": 1,
            "regionHealthChecks.insert": 1,
            "instanceGroups.insert": 3,
            "instanceGroups.addInstances": 3,
            "regionBackendServices.insert": 1,
            "firewalls.insert": 2,
            "forwardingRules.insert": 1,
        }
    )
    (rule,) = gcp.listing(f"regions/{REGION}/forwardingRules")
    assert rule["IPAddress"] == ingress["ip"]
    assert rule["loadBalancingScheme"] == "EXTERNAL"
    gcp.clear()
    assert gcp.run("plan", manifests) == (0, {"changes": [], "errors": []})
    code, again = gcp.run("apply", manifests)
    assert code == 0
    assert again["objects"][0]["status"] == entry["status"]
    assert gcp.mutating() == Counter()
    assert gcp.calls(), "the re-apply read nothing at all"


def test_internal_with_gke_annotations_and_local_traffic_policy(gcp: Gcp) -> None:
    api = service(
        "api",
        annotations={
            "networking.gke.io/load-balancer-type": "Internal",
            "networking.gke.io/internal-load-balancer-allow-global-access": "true",
        },
        externalTrafficPolicy="Local",
        healthCheckNodePort=32000,
    )
    manifests = gcp.write("api.yaml", *gcp.nodes(), api)
    code, body = gcp.run("apply", manifests)
    assert code == 0, body
    (rule,) = gcp.listing(f"regions/{REGION}/forwardingRules")
    assert rule["loadBalancingScheme"] == "INTERNAL"
    assert rule["allowGlobalAccess"] is True
    (check,) = gcp.listing(f"regions/{REGION}/healthChecks")
    assert check["httpHealthCheck"]["port"] == 32000
    assert check["httpHealthCheck"]["requestPath"] == "/healthz"
    health = next(
        f for f in gcp.listing("global/firewalls") if f["allowed"][0]["ports"] == ["32000"]
    )
    assert "35.191.0.0/16" in health["sourceRanges"]
    clash = service(
        "bad",
        annotations={
            "networking.gke.io/load-balancer-type": "Internal",
            "provisioner.io/scheme": "internet-facing",
        },
    )
    code, body = gcp.run("plan", gcp.write("bad.yaml", *gcp.nodes(), clash))
    assert code == 1
    (error,) = body["errors"]
    assert "networking.gke.io/load-balancer-type" in error["error"]
    assert "provisioner.io/scheme" in error["error"]


def test_ip_targets_are_refused_naming_the_service(gcp: Gcp) -> None:
    bad = service("pods", annotations={"provisioner.io/target-type": "ip"})
    code, body = gcp.run("apply", gcp.write("pods.yaml", *gcp.nodes(), bad))
    assert code == 1
    (entry,) = body["objects"]
    assert "Service/default/pods" in entry["error"]
    assert "provisioner.io/target-type" in entry["error"]
    assert gcp.mutating() == Counter()


def test_a_node_removed_is_one_membership_call(gcp: Gcp) -> None:
    web, api = service("web", annotations=EXTERNAL), service("api")
    assert gcp.run("apply", gcp.write("before.yaml", *gcp.nodes(4), web, api))[0] == 0
    after = gcp.write("after.yaml", *gcp.nodes(3), web, api)
    code, plan = gcp.run("plan", after)
    assert code == 0
    changes = [(c["action"], c["type"], c["owner"]) for c in plan["changes"]]
    group = ("update", "instance-group", "Shared/gcp/instance-group:us-central1-a")
    assert changes == [group, group]  # each Service's plan shows the shared group's change
    assert plan["changes"][0]["remove"] == ["node-3"]
    gcp.clear()
    assert gcp.run("apply", after)[0] == 0
    assert gcp.mutating() == Counter({"instanceGroups.removeInstances": 1})


def test_prune_keeps_groups_another_service_uses(gcp: Gcp) -> None:
    web, api = service("web", annotations=EXTERNAL), service("api")
    both = gcp.write("both.yaml", *gcp.nodes(), web, api)
    assert gcp.run("apply", both)[0] == 0
    only_web = gcp.write("web.yaml", *gcp.nodes(), web)
    code, body = gcp.run("apply", only_web, extra=("--prune",))
    assert code == 0, body
    pruned = [o for o in body["objects"] if o.get("pruned")]
    assert [o["name"] for o in pruned] == ["api"]
    assert len(gcp.listing("aggregated/instanceGroups")) == 3
    assert len(gcp.listing(f"regions/{REGION}/forwardingRules")) == 1
    nothing = gcp.write("nodes.yaml", *gcp.nodes())
    code, body = gcp.run("apply", nothing, extra=("--prune",))
    assert code == 0, body
    assert gcp.listing("aggregated/instanceGroups") == []
    for path in (
        f"regions/{REGION}/forwardingRules",
        f"regions/{REGION}/addresses",
        "global/firewalls",
    ):
        assert gcp.listing(path) == []
