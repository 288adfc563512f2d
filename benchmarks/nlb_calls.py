"""Cloud calls, time and memory of Service -> NLB reconciles as the cluster grows.

Run: `.venv/bin/python benchmarks/nlb_calls.py [--services 1,10,50] [--nodes 3,30]`.
It runs the real provider against moto in-process (no network) and prints one table row per
(services, nodes) size. The yardstick for writes is the minimum a fresh Service needs:
a security group, one rule call for it and one for the node group, then per port a target
group, a registration and a listener, and the load balancer: 4 + 3 x ports.
Times include moto's own work, so read them as relative, not as AWS latencies; client-side
rate limits are off here (in production writes are paced at 3/s, burst 20, as AWS Load
Balancer Controller paces them). Each instance-mode Service adds one rule per port to the
node security group, whose default AWS quota is 60 inbound rules: moto enforces it, which is
why the default sizes stop at 25 two-port Services.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import tracemalloc
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import boto3
from moto import mock_aws

from providers.aws.client import wrap_clients
from providers.aws.provider import AwsConfig, AwsProvider
from providers.aws.seed import seed_cluster
from provisioner.manifests import Manifests
from provisioner.reconcile import Selection, reconcile
from provisioner.translate.service import ServiceContext, build_service

PORTS = 2
CLASS = "provisioner.io/nlb"
READS = ("Describe", "Get", "List")


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


def node(index: int, provider_id: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": f"node-{index}"},
        "spec": {"providerID": provider_id},
    }


def counts(provider: AwsProvider) -> Counter[str]:
    out: Counter[str] = Counter()
    for (_, operation, _), number in provider.call_counts().items():
        out[operation] += number
    return out


def run_pass(provider: AwsProvider, view: Manifests, keys: list[str]) -> tuple[Counter[str], float]:
    selection = Selection(load_balancer_class=CLASS, classless_service=lambda _: False)
    before = counts(provider)
    start = time.perf_counter()
    for key in keys:
        outcome = reconcile(key, view, provider, selection=selection)
        assert outcome.error is None, outcome.error
    return counts(provider) - before, time.perf_counter() - start


def writes(calls: Counter[str]) -> int:
    return sum(n for op, n in calls.items() if not op.startswith(READS))


def measure(services: int, nodes: int) -> dict[str, Any]:
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    with mock_aws():
        args = {"region_name": "us-east-1"}
        ec2 = boto3.client("ec2", **args)
        seeded = seed_cluster(ec2, cluster_name="bench", nodes=nodes + 1)
        clients = wrap_clients(
            elbv2=boto3.client("elbv2", **args),
            ec2=ec2,
            tagging=boto3.client("resourcegroupstaggingapi", **args),
            region="us-east-1",
            limits={},  # time our code and moto, not the client-side pacing of writes
        )
        provider = AwsProvider(
            AwsConfig(cluster_name="bench", load_balancer_class=CLASS, region="us-east-1"),
            clients=clients,
        )
        view = Manifests()
        for i, pid in enumerate(seeded.provider_ids[:nodes]):
            view.replace(node(i, pid))
        for i in range(services):
            view.replace(service(i))
        keys = [f"Service/bench/svc-{i}" for i in range(services)]
        created, create_time = run_pass(provider, view, keys)
        noop, noop_time = run_pass(provider, view, keys)
        view.replace(node(nodes, seeded.provider_ids[nodes]))
        grown, _ = run_pass(provider, view, keys)
    return {
        "services": services,
        "nodes": nodes,
        "create_calls": sum(created.values()) / services,
        "create_writes": writes(created) / services,
        "minimum_writes": 4 + 3 * PORTS,
        "noop_calls": sum(noop.values()) / services,
        "noop_writes": writes(noop),
        "node_added_writes": writes(grown) / services,
        "noop_ms": 1000 * noop_time / services,
        "create_ms": 1000 * create_time / services,
    }


def translation_memory(endpoints: int) -> tuple[float, float]:
    """Peak KiB and ms to translate one ip-mode Service with `endpoints` ready endpoints."""
    svc = service(0)
    svc["metadata"]["annotations"] = {"provisioner.io/target-type": "ip"}
    slices = [
        {
            "apiVersion": "discovery.k8s.io/v1",
            "kind": "EndpointSlice",
            "metadata": {
                "name": f"s{i}",
                "namespace": "bench",
                "labels": {"kubernetes.io/service-name": "svc-0"},
            },
            "ports": [{"name": f"p{p}", "port": 8080 + p} for p in range(PORTS)],
            "endpoints": [
                {
                    "addresses": [
                        f"10.{(i * 100 + e) // 65536 % 256}."
                        f"{(i * 100 + e) // 256 % 256}.{(i * 100 + e) % 256}"
                    ],
                    "conditions": {"ready": True},
                }
                for e in range(min(100, endpoints - i * 100))
            ],
        }
        for i in range((endpoints + 99) // 100)
    ]
    from providers.aws.annotations import ANNOTATIONS

    context = ServiceContext(provider="aws", annotations=ANNOTATIONS, endpoint_slices=slices)
    start = time.perf_counter()
    build_service(svc, context=context)
    elapsed = time.perf_counter() - start
    tracemalloc.start()  # measured apart: tracing slows allocation-heavy code several-fold
    build_service(svc, context=context)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1024, elapsed * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--services", default="1,10,25")
    parser.add_argument("--nodes", default="3,30")
    parser.add_argument("--endpoints", default="100,1000,10000")
    args = parser.parse_args()
    print(
        "| services | nodes | calls/create | writes/create (min) | calls/no-op | "
        "writes no-op (all) | writes/node added | ms/create | ms/no-op |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for services in (int(x) for x in args.services.split(",")):
        for nodes in (int(x) for x in args.nodes.split(",")):
            r = measure(services, nodes)
            print(
                f"| {r['services']} | {r['nodes']} | {r['create_calls']:.1f} | "
                f"{r['create_writes']:.1f} ({r['minimum_writes']}) | {r['noop_calls']:.1f} | "
                f"{r['noop_writes']} | {r['node_added_writes']:.1f} | {r['create_ms']:.0f} | "
                f"{r['noop_ms']:.0f} |"
            )
    print()
    print("| endpoints | translation peak KiB | translation ms |")
    print("|---:|---:|---:|")
    for endpoints in (int(x) for x in args.endpoints.split(",")):
        kib, ms = translation_memory(endpoints)
        print(f"| {endpoints} | {kib:.0f} | {ms:.1f} |")


if __name__ == "__main__":
    main()
