"""Cloud calls of Ingress group -> ALB reconciles: create, no-op, one path added.

Run: `.venv/bin/python benchmarks/alb_calls.py [--ingresses 2,10,25] [--nodes 3]`.
It runs the real provider against moto in-process on hand-built desired states: a group of
Ingresses on one ALB, each with its own host, two paths to two Services and the host's
catch-all (three rules per Ingress). The yardstick for writes on create is the minimum: a
security group, one rule call for it and one for the node group, the load balancer, the
listener, per backend a target group and a registration, and one CreateRule per rule:
5 + 2 x backends + rules. Adding one path must cost one CreateRule (and at most one
SetRulePriorities); a no-op reconcile must write nothing. Times include moto's own work and
exclude client-side pacing, so read them as relative.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import boto3
from moto import mock_aws

from providers.aws.client import wrap_clients
from providers.aws.provider import AwsConfig, AwsProvider
from providers.aws.seed import SeededCluster, seed_cluster
from provisioner.model import (
    Backend,
    FixedResponse,
    Forward,
    HealthCheck,
    IpFamily,
    Kind,
    Listener,
    LoadBalancer,
    Node,
    Protocol,
    Route,
    Scheme,
    Target,
    TargetType,
    WeightedBackend,
)

KEY = "IngressGroup/bench"
READS = ("Describe", "Get", "List")
CHECK = HealthCheck(protocol=Protocol.HTTP, path="/healthz", interval_seconds=15, timeout_seconds=5)


def backend(seeded: SeededCluster, backend_id: str, node_port: int) -> Backend:
    return Backend(
        id=backend_id,
        protocol=Protocol.HTTP,
        port=node_port,
        target_type=TargetType.INSTANCE,
        health_check=CHECK,
        targets=frozenset(Target(address=i, port=node_port) for i in seeded.instance_ids),
    )


def group(seeded: SeededCluster, ingresses: int, *, extra_path: bool = False) -> LoadBalancer:
    """`ingresses` Ingresses on one ALB; `extra_path` adds one path to the first of them."""
    routes: list[Route] = []
    backends: list[Backend] = []
    for i in range(ingresses):
        owner, host = f"bench/ing-{i}", f"app{i}.example.com"
        api, web = f"bench/api-{i}:80", f"bench/web-{i}:80"
        backends += [backend(seeded, api, 30000 + 2 * i), backend(seeded, web, 30001 + 2 * i)]
        if extra_path and i == 0:
            routes.append(
                Route(id=f"{owner}:2", action=_to(api), host=host, path="/v2", owner=owner)
            )
        routes += [
            Route(id=f"{owner}:0", action=_to(api), host=host, path="/api", owner=owner),
            Route(id=f"{owner}:1", action=_to(web), host=host, path="/", owner=owner),
            Route(id=f"catch-all:{host}", action=FixedResponse(404), host=host),
        ]
    listener = Listener(
        port=80, protocol=Protocol.HTTP, default=FixedResponse(404), routes=tuple(routes)
    )
    return LoadBalancer(
        key=KEY,
        kind=Kind.APPLICATION,
        scheme=Scheme.INTERNAL,
        ip_family=IpFamily.IPV4,
        listeners=(listener,),
        backends=tuple(backends),
        source_ranges=("0.0.0.0/0",),
        nodes=tuple(
            Node(name=f"node-{n}", provider_id=pid) for n, pid in enumerate(seeded.provider_ids)
        ),
    )


def _to(backend_id: str) -> Forward:
    return Forward(backends=(WeightedBackend(backend_id),))


def reconcile(provider: AwsProvider, desired: LoadBalancer) -> tuple[Counter[str], float]:
    before = Counter(provider.clients.counter.by_operation())
    start = time.perf_counter()
    provider.apply(provider.plan(KEY, desired))
    elapsed = time.perf_counter() - start
    return Counter(provider.clients.counter.by_operation()) - before, elapsed


def writes(calls: Counter[str]) -> Counter[str]:
    return Counter({op: n for op, n in calls.items() if not op.startswith(READS)})


def measure(ingresses: int, nodes: int) -> dict[str, Any]:
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    with mock_aws():
        args = {"region_name": "us-east-1"}
        ec2 = boto3.client("ec2", **args)
        seeded = seed_cluster(ec2, cluster_name="bench", nodes=nodes)
        clients = wrap_clients(
            elbv2=boto3.client("elbv2", **args),
            ec2=ec2,
            tagging=boto3.client("resourcegroupstaggingapi", **args),
            acm=boto3.client("acm", **args),
            region="us-east-1",
            limits={},
        )
        provider = AwsProvider(
            AwsConfig(
                cluster_name="bench", load_balancer_class="provisioner.io/nlb", region="us-east-1"
            ),
            clients=clients,
        )
        desired = group(seeded, ingresses)
        created, create_time = reconcile(provider, desired)
        noop, noop_time = reconcile(provider, desired)
        added, _ = reconcile(provider, group(seeded, ingresses, extra_path=True))
    rules = 3 * ingresses
    return {
        "ingresses": ingresses,
        "rules": rules,
        "create_calls": sum(created.values()),
        "create_writes": sum(writes(created).values()),
        "minimum": 5 + 2 * (2 * ingresses) + rules,
        "noop_calls": sum(noop.values()),
        "noop_writes": sum(writes(noop).values()),
        "added": ", ".join(f"{op} x{n}" for op, n in sorted(writes(added).items())) or "none",
        "create_ms": 1000 * create_time,
        "noop_ms": 1000 * noop_time,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ingresses", default="2,10,25")
    parser.add_argument("--nodes", type=int, default=3)
    args = parser.parse_args()
    print(
        "| ingresses | rules | calls/create | writes/create (min) | calls/no-op | writes no-op | "
        "writes to add one path | ms/create | ms/no-op |"
    )
    print("|---:|---:|---:|---:|---:|---:|---|---:|---:|")
    for ingresses in (int(x) for x in args.ingresses.split(",")):
        r = measure(ingresses, args.nodes)
        print(
            f"| {r['ingresses']} | {r['rules']} | {r['create_calls']} | "
            f"{r['create_writes']} ({r['minimum']}) | {r['noop_calls']} | {r['noop_writes']} | "
            f"{r['added']} | {r['create_ms']:.0f} | {r['noop_ms']:.0f} |"
        )


if __name__ == "__main__":
    main()
