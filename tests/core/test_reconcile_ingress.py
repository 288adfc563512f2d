"""Ingress and IngressGroup keys through reconcile(), the outputs, and the one-shot CLI."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from providers.aws import AwsProviderFactory
from provisioner.cli import run_one_shot
from provisioner.manifests import load
from provisioner.output import apply_json, apply_text, plan_json
from provisioner.reconcile import reconcile
from tests.core.test_reconcile import RecordingProvider
from tests.translate.alb import SELECTION, view
from tests.translate.builders import ingress, node_port_service, path, rule

EXAMPLE = Path(__file__).parents[2] / "examples" / "ingress.yaml"
NODES = Path(__file__).parents[2] / "examples" / "nodes.yaml"
GROUP = "alb.ingress.kubernetes.io/group.name"


def _member(name: str, namespace: str = "default", **extra: str) -> dict[str, Any]:
    return ingress(
        name,
        namespace=namespace,
        annotations={GROUP: "g", **extra},
        rules=[rule(f"{name}.example.com", path("/", "web"))],
    )


def test_a_group_is_applied_with_a_member_in_error_frozen() -> None:
    provider = RecordingProvider()
    good = _member("a")
    bad = _member("b", **{"alb.ingress.kubernetes.io/group.order": "2000"})
    outcome = reconcile(
        "IngressGroup/g", view(node_port_service(), good, bad), provider, selection=SELECTION
    )
    assert outcome.ours and outcome.error is None
    assert outcome.members == ("Ingress/default/a", "Ingress/default/b")
    assert list(outcome.member_errors) == ["Ingress/default/b"]
    ((_, desired),) = provider.planned
    assert desired is not None and desired.frozen == frozenset({"default/b"})
    warnings = [e for e in outcome.events if e.type == "Warning"]
    assert [e.member for e in warnings] == ["Ingress/default/b"]
    assert [e.reason for e in outcome.events if e.type == "Normal"] == ["Provisioned"]
    body = apply_json([outcome], [], pruned=set())
    assert body["objects"] == [
        {
            "kind": "Ingress",
            "namespace": "default",
            "name": "a",
            "status": {"loadBalancer": {"ingress": [{"hostname": "lb.example"}]}},
        },
        {
            "kind": "Ingress",
            "namespace": "default",
            "name": "b",
            "error": outcome.member_errors["Ingress/default/b"],
        },
    ]
    assert "Ingress/default/b: error:" in apply_text([outcome], [], pruned=set())


def test_an_invalid_lone_ingress_makes_no_cloud_call() -> None:
    provider = RecordingProvider()
    bad = ingress("a", rules=[rule(None, path("/", "missing"))])
    outcome = reconcile("Ingress/default/a", view(bad), provider, selection=SELECTION)
    assert provider.planned == [] and outcome.error and "missing" in outcome.error
    assert plan_json([outcome], [])["errors"][0]["kind"] == "Ingress"


def test_the_last_member_leaving_deletes_the_group() -> None:
    provider = RecordingProvider()
    outcome = reconcile("IngressGroup/g", view(node_port_service()), provider, selection=SELECTION)
    assert provider.planned == [("IngressGroup/g", None)] and not outcome.ours


def test_cli_plan_covers_every_ingress_key_of_the_example() -> None:
    factory = AwsProviderFactory()
    provider = RecordingProvider()
    args = argparse.Namespace(
        files=[EXAMPLE, NODES],
        provider="aws",
        cluster_name="demo",
        load_balancer_class="provisioner.io/nlb",
        ingress_controller="provisioner.io/alb",
        legacy_ingress_class=None,
        prune=False,
        output="json",
    )
    code, outcomes, manifests, _ = run_one_shot(
        args, dry_run=True, manifests=load([EXAMPLE, NODES]), made=(factory, provider)
    )
    assert code == 0, [(o.key, o.error, o.member_errors) for o in outcomes]
    planned = {key: desired for key, desired in provider.planned if desired is not None}
    assert sorted(planned) == ["Ingress/default/storefront", "IngressGroup/shared"]
    shared = planned["IngressGroup/shared"]
    assert {r.owner for listener in shared.listeners for r in listener.routes} == {
        "shop/cart",
        "default/site",
    }
    group = next(o for o in outcomes if o.key == "IngressGroup/shared")
    assert group.members == ("Ingress/default/site", "Ingress/shop/cart")
    assert manifests.errors == []
