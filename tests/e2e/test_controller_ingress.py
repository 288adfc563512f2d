"""Ingress groups through the controller process: one ALB shared across namespaces, members
joining, breaking, mending and leaving, minimal calls for a new path."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from provisioner.kube.api import (
    INGRESS_CLASSES,
    INGRESSES,
    SERVICES,
    Api,
    ApiError,
    Resource,
)
from tests.e2e.controller import Stack, deployment, events_for, running_stack, wait_for
from tests.e2e.moto_server import READ_PREFIXES

pytestmark = pytest.mark.e2e

DEPLOYMENTS = Resource("Deployment", "deployments", "apps")
NAMESPACES = Resource("Namespace", "namespaces", namespaced=False)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("ingress")) as world:
        yield world


def backend_service(name: str, namespace: str, **annotations: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace, "annotations": annotations},
        "spec": {
            "type": "NodePort",
            "selector": {"app": name},
            "ports": [{"name": "http", "port": 80, "targetPort": 8080}],
        },
    }


def ingress(
    name: str, namespace: str, order: int, paths: list[str], **annotations: str
) -> dict[str, Any]:
    backend = {"service": {"name": name, "port": {"number": 80}}}
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "annotations": {
                "alb.ingress.kubernetes.io/group.name": "shared",
                "alb.ingress.kubernetes.io/group.order": str(order),
                "provisioner.io/scheme": "internet-facing",
                **annotations,
            },
        },
        "spec": {
            "rules": [
                {
                    "host": "shop.example.com",
                    "http": {
                        "paths": [
                            {"path": p, "pathType": "Prefix", "backend": backend} for p in paths
                        ]
                    },
                }
            ]
        },
    }


def address(api: Api, name: str, namespace: str) -> str | None:
    try:
        obj = api.get(INGRESSES, namespace, name)
    except ApiError:
        return None
    found = ((obj.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    return found[0].get("hostname") if found else None


def gone(api: Api, name: str, namespace: str) -> bool:
    try:
        api.get(INGRESSES, namespace, name)
    except ApiError as err:
        return err.not_found
    return False


def albs(stack: Stack) -> list[dict[str, Any]]:
    found = stack.elbv2.describe_load_balancers()["LoadBalancers"]
    return [lb for lb in found if lb.get("Type") == "application"]


def path_values(stack: Stack, lb_arn: str) -> set[str]:
    values: set[str] = set()
    for listener in stack.elbv2.describe_listeners(LoadBalancerArn=lb_arn)["Listeners"]:
        for rule in stack.elbv2.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"]:
            for condition in rule.get("Conditions") or []:
                if condition.get("Field") == "path-pattern":
                    config = condition.get("PathPatternConfig") or {}
                    values |= set(config.get("Values") or condition.get("Values") or [])
    return values


def writes(stack: Stack) -> Counter[str]:
    return Counter(op for op in stack.moto.calls() if not op.startswith(READ_PREFIXES))


def test_an_ingress_group_through_the_controller(stack: Stack) -> None:
    api = stack.api
    api.create(
        NAMESPACES, None, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}
    )
    api.create(
        INGRESS_CLASSES,
        None,
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "IngressClass",
            "metadata": {
                "name": "alb",
                "annotations": {"ingressclass.kubernetes.io/is-default-class": "true"},
            },
            "spec": {"controller": "provisioner.io/alb"},
        },
    )
    for name, namespace in (("site", "default"), ("cart", "shop")):
        api.create(DEPLOYMENTS, namespace, deployment(name, 2, namespace=namespace))
    api.create(SERVICES, "default", backend_service("site", "default"))
    api.create(
        SERVICES,
        "shop",
        backend_service("cart", "shop", **{"alb.ingress.kubernetes.io/target-type": "ip"}),
    )
    ctl = stack.controller("--no-leader-elect")
    ctl.wait_ready()

    # One member: the group's ALB appears and its hostname is written to the Ingress.
    api.create(INGRESSES, "default", ingress("site", "default", 10, ["/"]))
    host = wait_for(lambda: address(api, "site", "default"), timeout=60, what="site hostname")
    (lb,) = albs(stack)
    assert lb["DNSName"] == host and lb["Scheme"] == "internet-facing"
    obj = api.get(INGRESSES, "default", "site")
    assert "provisioner.io/resources" in obj["metadata"]["finalizers"]

    # A second member in another namespace joins the same ALB, which is not recreated.
    api.create(INGRESSES, "shop", ingress("cart", "shop", -10, ["/cart"]))
    wait_for(lambda: address(api, "cart", "shop") == host, timeout=60, what="cart hostname")
    wait_for(lambda: "/cart" in path_values(stack, lb["LoadBalancerArn"]), what="cart rule")
    assert [x["LoadBalancerArn"] for x in albs(stack)] == [lb["LoadBalancerArn"]]

    # A no-op wake-up (an annotation nothing reads) writes nothing to the cloud.
    stack.moto.clear_recording()
    api.merge_patch(
        INGRESSES, "default", "site", {"metadata": {"annotations": {"example.com/note": "x"}}}
    )
    wait_for(
        lambda: any(
            e.get("msg") == "reconciled" and e.get("key") == "IngressGroup/shared"
            for e in ctl.log_entries()[-5:]
        ),
        what="the group reconciled",
    )
    assert writes(stack) == Counter()

    # One more path: one CreateRule, and at most one SetRulePriorities.
    stack.moto.clear_recording()
    changed = ingress("site", "default", 10, ["/", "/new"])
    api.merge_patch(INGRESSES, "default", "site", {"spec": changed["spec"]})
    wait_for(lambda: "/new" in path_values(stack, lb["LoadBalancerArn"]), what="new path rule")
    wait_for(lambda: ctl.get("/readyz")[0] == 200, what="still ready")
    made = writes(stack)
    assert made["CreateRule"] == 1, made
    assert made.get("SetRulePriorities", 0) <= 1, made
    assert set(made) <= {"CreateRule", "SetRulePriorities"}, made

    # A typo on one member freezes it: its rules stay, a Warning names the annotation.
    api.merge_patch(
        INGRESSES,
        "shop",
        "cart",
        {"metadata": {"annotations": {"alb.ingress.kubernetes.io/backend-protocol": "SMTP"}}},
    )

    def warned() -> list[dict[str, Any]]:
        return [e for e in events_for(api, "cart", "shop") if e["type"] == "Warning"]

    warning = wait_for(warned, what="warning on cart")[0]
    assert "backend-protocol" in warning["message"] and "SMTP" in warning["message"]
    assert "/cart" in path_values(stack, lb["LoadBalancerArn"])
    assert not [e for e in events_for(api, "site", "default") if e["type"] == "Warning"]

    # Mended, it is planned again.
    def provisioned() -> int:
        return sum(e["type"] == "Normal" for e in events_for(api, "cart", "shop"))

    before = provisioned()
    api.merge_patch(
        INGRESSES,
        "shop",
        "cart",
        {"metadata": {"annotations": {"alb.ingress.kubernetes.io/backend-protocol": "HTTP"}}},
    )
    wait_for(lambda: provisioned() > before, what="cart provisioned again")

    # A member leaves: its rules go, the ALB stays, its finalizer is released.
    api.delete(INGRESSES, "shop", "cart")
    wait_for(lambda: gone(api, "cart", "shop"), timeout=60, what="cart deleted")
    assert "/cart" not in path_values(stack, lb["LoadBalancerArn"])
    assert [x["LoadBalancerArn"] for x in albs(stack)] == [lb["LoadBalancerArn"]]

    # The last member leaves: the ALB goes with it.
    api.delete(INGRESSES, "default", "site")
    wait_for(lambda: gone(api, "site", "default"), timeout=60, what="site deleted")
    assert albs(stack) == []
    assert ctl.terminate() == 0
