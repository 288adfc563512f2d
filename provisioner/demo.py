"""`provisioner demo`: the whole pipeline on an embedded default, with no account or cluster.

The provider brings its own local cloud (a fake that speaks the real API); everything else is
the code path `apply` uses against a real cloud.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from providers import base
from provisioner import output
from provisioner.cli import (
    DEFAULT_INGRESS_CONTROLLER,
    DEFAULT_LOAD_BALANCER_CLASS,
    EXIT_ERRORS,
    UsageError,
    make_provider,
    run_one_shot,
)
from provisioner.manifests import load

CLUSTER_NAME = "demo"
READS = ("Describe", "Get", "List")


def default_examples() -> Path:
    return Path(__file__).resolve().parents[1] / "examples"


def _calls(provider: base.Provider) -> Counter[str]:
    counts: Counter[str] = Counter()
    for (_, operation, _), number in provider.call_counts().items():
        counts[operation] += number
    return counts


def _summary(what: str, calls: Counter[str]) -> str:
    writes = {op: n for op, n in calls.items() if not op.startswith(READS)}
    listed = ", ".join(f"{op} {n}" for op, n in sorted(writes.items())) or "none"
    return (
        f"cloud calls for {what}: {sum(calls.values())} in all, "
        f"{sum(writes.values())} changing anything ({listed})"
    )


def run_demo(args: argparse.Namespace) -> int:
    examples: Path = args.examples or default_examples()
    if not examples.exists():
        raise UsageError(f"--examples {examples}: no such file or directory")
    manifests = load([examples])
    factory = base.load("aws")
    text = args.output == "text"
    with factory.demo_cloud(manifests.list("Node"), cluster_name=CLUSTER_NAME) as cloud:
        for node in cloud.nodes:
            manifests.replace(node)
        if text:
            print("\n".join(cloud.summary))
        one_shot = argparse.Namespace(
            files=[examples],
            provider="aws",
            cluster_name=CLUSTER_NAME,
            load_balancer_class=DEFAULT_LOAD_BALANCER_CLASS,
            ingress_controller=DEFAULT_INGRESS_CONTROLLER,
            legacy_ingress_class=None,
            prune=False,
            output=args.output,
            region=cloud.env["AWS_DEFAULT_REGION"],
            vpc_id=None,
        )
        made = make_provider(one_shot)
        _, planned, _, _ = run_one_shot(one_shot, dry_run=True, manifests=manifests, made=made)
        if text:
            print(f"\n== plan for {examples}")
            print(output.plan_text(planned, manifests.errors))
        before = _calls(made[1])
        code, applied, _, pruned = run_one_shot(
            one_shot, dry_run=False, manifests=manifests, made=made
        )
        created = _calls(made[1]) - before
        if text:
            print("\n== applied")
            print(output.apply_text(applied, manifests.errors, pruned=pruned))
            print(_summary("apply", created))
        else:
            print(json.dumps(output.apply_json(applied, manifests.errors, pruned=pruned), indent=2))
        before = _calls(made[1])
        _, again, _, _ = run_one_shot(one_shot, dry_run=False, manifests=manifests, made=made)
        repeated = _calls(made[1]) - before
        if text:
            print("\n== apply again (the cloud should already match)")
            print(output.plan_text(again, manifests.errors))
            print(_summary("apply again", repeated))
        if any(o.plan and o.plan.changes for o in again):
            return EXIT_ERRORS
    return code
