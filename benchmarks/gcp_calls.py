"""Compute API calls and time of Service -> passthrough load balancer reconciles on GCP.

Run: `.venv/bin/python benchmarks/gcp_calls.py [--services 1,10,25] [--nodes 3,30]`.
It runs the real provider against the Compute fake in-process (HTTP on localhost) and
prints one table row per (services, nodes) size, then the calls for `examples/web.yaml`.
The yardstick for writes is the minimum a fresh Service needs: an address, a health check,
a backend service, two firewall rules and one forwarding rule per five ports (6 for the two
ports here); the first Service also creates each zone's instance group and fills it (2 per
zone). Times include the fake's work and the HTTP round trips, so they compare versions of
this code, not Compute Engine latencies (where each write is an operation of seconds).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from providers.gcp.client import Compute, build_sdk, is_mutating
from providers.gcp.fake import start
from providers.gcp.provider import GcpConfig, GcpProvider
from providers.gcp.seed import SeedNode, seed_cluster
from provisioner.manifests import Manifests, load
from provisioner.reconcile import Selection, reconcile

PORTS = 2
CLASS = "provisioner.io/nlb"
PROJECT = "bench-project"
REGION = "us-central1"
ZONES = ("us-central1-a", "us-central1-b", "us-central1-c")


def service(index: int) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": f"svc-{index}", "namespace": "bench"},
        "spec": {
            "type": "LoadBalancer",
            "loadBalancerClass": CLASS,
            "ports": [
                {"name": f"p{p}", "port": 80 + p, "nodePort": 30000 + index * PORTS + p}
                for p in range(PORTS)
            ],
        },
    }


def node(index: int) -> dict[str, Any]:
    zone = ZONES[index % len(ZONES)]
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": f"node-{index}", "labels": {"topology.kubernetes.io/zone": zone}},
        "spec": {"providerID": f"gce://{PROJECT}/{zone}/node-{index}"},
    }


def counts(provider: GcpProvider) -> Counter[str]:
    out: Counter[str] = Counter()
    for (_, operation, _), number in provider.call_counts().items():
        out[operation] += number
    return out


def writes(calls: Counter[str]) -> int:
    return sum(n for op, n in calls.items() if is_mutating(op))


def run_pass(provider: GcpProvider, view: Manifests, keys: list[str]) -> tuple[Counter[str], float]:
    selection = Selection(load_balancer_class=CLASS, classless_service=lambda _: False)
    before = counts(provider)
    begin = time.perf_counter()
    for key in keys:
        outcome = reconcile(key, view, provider, selection=selection)
        assert outcome.error is None, outcome.error
    return counts(provider) - before, time.perf_counter() - begin


def provider_for(url: str) -> GcpProvider:
    compute = Compute(project=PROJECT, region=REGION, sdk=build_sdk(endpoint=url, credentials=None))
    return GcpProvider(GcpConfig(cluster_name="bench", load_balancer_class=CLASS), compute=compute)


def measure(services: int, nodes: int) -> dict[str, Any]:
    with start() as fake:
        seeds = [SeedNode(name=f"node-{i}", zone=ZONES[i % 3]) for i in range(nodes + 1)]
        seed_cluster(fake.url, project=PROJECT, nodes=seeds)
        provider = provider_for(fake.url)
        view = Manifests()
        for i in range(nodes):
            view.replace(node(i))
        for i in range(services):
            view.replace(service(i))
        keys = [f"Service/bench/svc-{i}" for i in range(services)]
        created, create_time = run_pass(provider, view, keys)
        noop, noop_time = run_pass(provider, view, keys)
        view.replace(node(nodes))
        grown, _ = run_pass(provider, view, keys)
    return {
        "services": services,
        "nodes": nodes,
        "create_calls": sum(created.values()) / services,
        "create_writes": writes(created) / services,
        "noop_calls": sum(noop.values()) / services,
        "noop_writes": writes(noop),
        "node_added_writes": writes(grown),
        "create_ms": 1000 * create_time / services,
        "noop_ms": 1000 * noop_time / services,
    }


def example() -> tuple[Counter[str], Counter[str]]:
    """Calls of `examples/web.yaml` (create, then a no-op), with its three nodes."""
    root = Path(__file__).resolve().parents[1] / "examples"
    manifests = load([root / "web.yaml"])
    with start() as fake:
        seed_cluster(
            fake.url, project=PROJECT, nodes=[SeedNode(f"node-{i}", ZONES[i]) for i in range(3)]
        )
        for i in range(3):
            manifests.replace(node(i))
        provider = provider_for(fake.url)
        created, _ = run_pass(provider, manifests, ["Service/default/web"])
        noop, _ = run_pass(provider, manifests, ["Service/default/web"])
    return created, noop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--services", default="1,10,25")
    parser.add_argument("--nodes", default="3,30")
    args = parser.parse_args()
    print(
        "| services | nodes | calls/create | writes/create | calls/no-op | "
        "writes no-op (all) | writes node added (all) | ms/create | ms/no-op |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for services in (int(x) for x in args.services.split(",")):
        for nodes in (int(x) for x in args.nodes.split(",")):
            r = measure(services, nodes)
            print(
                f"| {r['services']} | {r['nodes']} | {r['create_calls']:.1f} | "
                f"{r['create_writes']:.1f} | {r['noop_calls']:.1f} | {r['noop_writes']} | "
                f"{r['node_added_writes']} | {r['create_ms']:.0f} | {r['noop_ms']:.0f} |"
            )
    created, noop = example()
    print()
    print("examples/web.yaml, create:", dict(sorted(created.items())))
    print("examples/web.yaml, no-op: ", dict(sorted(noop.items())))


if __name__ == "__main__":
    main()
