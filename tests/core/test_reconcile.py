"""reconcile(): the one path from key to cloud, checked with a recording provider."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from providers.aws.annotations import ANNOTATIONS
from providers.aws.ingress_annotations import INGRESS_ANNOTATIONS
from providers.base import Action, Change, Plan, Status, Throttled
from provisioner.annotations import AnnotationSet
from provisioner.manifests import Manifests
from provisioner.model import Key, LoadBalancer
from provisioner.output import apply_json, plan_json
from provisioner.reconcile import Selection, reconcile
from tests.translate.builders import node, service


@dataclass
class RecordingProvider:
    name: str = "aws"
    annotations: AnnotationSet = ANNOTATIONS
    ingress_annotations: AnnotationSet = INGRESS_ANNOTATIONS
    planned: list[tuple[Key, LoadBalancer | None]] = field(default_factory=list)
    applied: list[Plan] = field(default_factory=list)
    fail_apply: Exception | None = None

    def plan(self, key: Key, desired: LoadBalancer | None) -> Plan:
        self.planned.append((key, desired))
        action = Action.CREATE if desired else Action.DELETE
        return Plan(key=key, changes=(Change(action, "load-balancer", "lb", key),))

    def apply(self, plan: Plan) -> Status:
        if self.fail_apply:
            raise self.fail_apply
        self.applied.append(plan)
        deleting = plan.changes[0].action is Action.DELETE
        return Status(hostnames=() if deleting else ("lb.example",), holds_resources=not deleting)

    def owned(self) -> set[Key]:
        return set()


SELECTION = Selection(
    load_balancer_class="provisioner.io/nlb", classless_service=lambda annotations: False
)


def view(*objects: dict[str, Any]) -> Manifests:
    manifests = Manifests()
    for obj in (node("n1", instance="i-1"), *objects):
        manifests.replace(obj)
    return manifests


def test_a_valid_service_is_planned_and_applied() -> None:
    provider = RecordingProvider()
    outcome = reconcile("Service/default/web", view(service()), provider, selection=SELECTION)
    assert outcome.error is None and outcome.ours
    ((key, desired),) = provider.planned
    assert desired is not None and desired.key == key
    assert outcome.status is not None and outcome.status.hostnames == ("lb.example",)
    assert [e.reason for e in outcome.events] == ["Provisioned"]
    body = apply_json([outcome], [], pruned=set())
    assert body["objects"][0]["status"] == {
        "loadBalancer": {"ingress": [{"hostname": "lb.example"}]}
    }


def test_plan_only_never_applies() -> None:
    provider = RecordingProvider()
    outcome = reconcile(
        "Service/default/web", view(service()), provider, selection=SELECTION, dry_run=True
    )
    assert provider.applied == [] and outcome.plan is not None
    assert plan_json([outcome], [])["changes"][0] == {
        "action": "create",
        "type": "load-balancer",
        "name": "lb",
        "owner": "Service/default/web",
        "replace": False,
    }


def test_an_invalid_service_makes_no_cloud_call_and_keeps_its_resources() -> None:
    provider = RecordingProvider()
    svc = service(annotations={"provisioner.io/scheme": "public"})
    outcome = reconcile("Service/default/web", view(svc), provider, selection=SELECTION)
    assert provider.planned == [] and provider.applied == []
    assert outcome.error and "provisioner.io/scheme" in outcome.error
    assert outcome.holds_resources is True
    assert outcome.events[0].type == "Warning"


def test_missing_or_foreign_services_are_planned_for_deletion() -> None:
    for objects in ((), (service(loadBalancerClass="other"),), (service(type="NodePort"),)):
        provider = RecordingProvider()
        outcome = reconcile("Service/default/web", view(*objects), provider, selection=SELECTION)
        assert provider.planned == [("Service/default/web", None)]
        assert outcome.ours is False and outcome.holds_resources is False


def test_cloud_errors_are_reported_with_their_retryability() -> None:
    provider = RecordingProvider(fail_apply=Throttled("slow down"))
    outcome = reconcile("Service/default/web", view(service()), provider, selection=SELECTION)
    assert outcome.error == "slow down" and outcome.retryable
    assert outcome.error_kind == "Throttled"
    assert outcome.holds_resources is True
