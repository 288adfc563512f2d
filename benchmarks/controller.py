"""Controller latency and restart cost, end to end over HTTP.

Starts a moto server (its own process, with its request recorder), the dev cluster and one
`provisioner run` process, then measures:

- from creating a Service through the API to its status hostname;
- from scaling a Deployment (ip targets) to the target group holding the new pod IPs;
- the cloud calls a restarted controller makes over N converged Services (none may change
  anything; the reads are the price of looking).

Run: .venv/bin/python -m benchmarks.controller [--services 50]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

from provisioner.kube.api import SERVICES, Resource
from tests.e2e.controller import Stack, deployment, hostname, running_stack, service, wait_for
from tests.e2e.moto_server import READ_PREFIXES

DEPLOYMENTS = Resource("Deployment", "deployments", "apps")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--services", type=int, default=50)
    parser.add_argument("--samples", type=int, default=5)
    parser.add_argument(
        "--aws-api-rate",
        action="append",
        default=[],
        help="passed to the controller (e.g. modify=100:100); default: AWS's published rates",
    )
    args = parser.parse_args()
    with running_stack(Path(tempfile.mkdtemp(prefix="bench-controller-"))) as stack:
        rates = [flag for rate in args.aws_api_rate for flag in ("--aws-api-rate", rate)]
        run(stack, args.services, args.samples, rates)


def run(stack: Stack, services: int, samples: int, rates: list[str]) -> None:
    ctl = stack.controller("--no-leader-elect", "--workers", "4", *rates)
    ctl.wait_ready()
    api = stack.api
    to_status = []
    for i in range(samples):
        name = f"latency-{i}"
        started = time.monotonic()
        api.create(SERVICES, "default", service(name))
        wait_for(lambda name=name: hostname(api, name), what=name)
        to_status.append(time.monotonic() - started)
    print(
        f"create Service -> status hostname: median {statistics.median(to_status):.2f}s, "
        f"max {max(to_status):.2f}s over {samples}"
    )
    api.create(DEPLOYMENTS, "default", deployment("scaled", 1))
    api.create(
        SERVICES, "default", service("scaled", annotations={"provisioner.io/target-type": "ip"})
    )
    host = wait_for(lambda: hostname(api, "scaled"), what="scaled")
    wait_for(lambda: len(stack.targets(host)) == 1, what="one target")
    to_targets = []
    for replicas in (2, 3, 2, 1, 2)[:samples]:
        started = time.monotonic()
        api.merge_patch(DEPLOYMENTS, "default", "scaled", {"spec": {"replicas": replicas}})
        wait_for(
            lambda replicas=replicas: len(stack.targets(host)) == replicas,
            what=f"{replicas} targets",
        )
        to_targets.append(time.monotonic() - started)
    print(
        f"scale Deployment -> targets registered or deregistered: median "
        f"{statistics.median(to_targets):.2f}s, max {max(to_targets):.2f}s over {len(to_targets)}"
    )
    quiet = {"provisioner.io/manage-backend-security-group-rules": "false"}
    names = [f"many-{i:03d}" for i in range(services)]
    started = time.monotonic()
    for name in names:
        api.create(SERVICES, "default", service(name, annotations=quiet))
    for name in names:
        wait_for(lambda name=name: hostname(api, name), timeout=600, what=name)
    print(f"{services} Services provisioned in {time.monotonic() - started:.1f}s")
    ctl.terminate()
    total = services + samples + 1
    stack.moto.clear_recording()
    restarted = stack.controller("--no-leader-elect", "--workers", "4", *rates)
    started = time.monotonic()
    restarted.wait_ready()
    wait_for(
        lambda: sum(e.get("msg") == "reconciled" for e in restarted.log_entries()) >= total,
        timeout=600,
        what="every key looked at",
    )
    took = time.monotonic() - started
    time.sleep(0.5)
    calls = Counter(stack.moto.calls())
    writes = {op: n for op, n in calls.items() if not op.startswith(READ_PREFIXES)}
    print(
        f"restart over {total} converged Services: {sum(calls.values())} cloud calls "
        f"({sum(calls.values()) / total:.1f} per Service), {sum(writes.values())} mutating "
        f"{writes or ''}; converged in {took:.1f}s"
    )
    print("  reads: " + ", ".join(f"{op} {n}" for op, n in calls.most_common()))


if __name__ == "__main__":
    main()
