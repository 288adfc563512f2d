"""`provisioner demo`: the whole pipeline on an embedded default, with no account or cluster.

The provider brings its own local cloud (a fake that speaks the real API); everything else is
the code path `apply` uses against a real cloud.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from providers import base
from provisioner import output
from provisioner.cli import (
    DEFAULT_INGRESS_CONTROLLER,
    DEFAULT_LOAD_BALANCER_CLASS,
    EXIT_ERRORS,
    UsageError,
    run_one_shot,
)
from provisioner.manifests import load

CLUSTER_NAME = "demo"


def default_examples() -> Path:
    return Path(__file__).resolve().parents[1] / "examples"


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
        _, planned, _, _ = run_one_shot(one_shot, dry_run=True, manifests=manifests)
        if text:
            print(f"\n== plan for {examples}")
            print(output.plan_text(planned, manifests.errors))
        code, applied, _, pruned = run_one_shot(one_shot, dry_run=False, manifests=manifests)
        if text:
            print("\n== applied")
            print(output.apply_text(applied, manifests.errors, pruned=pruned))
        else:
            print(json.dumps(output.apply_json(applied, manifests.errors, pruned=pruned), indent=2))
        _, again, _, _ = run_one_shot(one_shot, dry_run=True, manifests=manifests)
        if text:
            print("\n== plan again (the cloud should already match)")
            print(output.plan_text(again, manifests.errors))
        if any(o.plan and o.plan.changes for o in again):
            return EXIT_ERRORS
    return code
