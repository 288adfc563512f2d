"""Ingress groups through the CLI against a moto server: create, no-op, add a path, break and
mend a member, remove a member, delete the group."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import boto3
import pytest

from providers.aws.seed import import_certificates
from tests.e2e.conftest import Cloud

pytestmark = pytest.mark.e2e

CLASS = {
    "apiVersion": "networking.k8s.io/v1",
    "kind": "IngressClass",
    "metadata": {
        "name": "alb",
        "annotations": {"ingressclass.kubernetes.io/is-default-class": "true"},
    },
    "spec": {"controller": "provisioner.io/alb"},
}


def backend(name: str, namespace: str, node_port: int) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "type": "NodePort",
            "selector": {"app": name},
            "ports": [{"name": "http", "port": 80, "targetPort": 8080, "nodePort": node_port}],
        },
    }


def member(
    name: str, namespace: str, order: int, paths: list[str], **annotations: str
) -> dict[str, Any]:
    target = {"service": {"name": name, "port": {"number": 80}}}
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "annotations": {
                "alb.ingress.kubernetes.io/group.name": "shop",
                "alb.ingress.kubernetes.io/group.order": str(order),
                "alb.ingress.kubernetes.io/scheme": "internet-facing",
                **annotations,
            },
        },
        "spec": {
            "rules": [
                {
                    "host": "shop.example.com",
                    "http": {
                        "paths": [
                            {"path": p, "pathType": "Prefix", "backend": target} for p in paths
                        ]
                    },
                }
            ]
        },
    }


def paths(cloud: Cloud) -> set[str]:
    found: set[str] = set()
    for lb in cloud.elbv2.describe_load_balancers()["LoadBalancers"]:
        for listener in cloud.elbv2.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])[
            "Listeners"
        ]:
            for rule in cloud.elbv2.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"]:
                for condition in rule.get("Conditions") or []:
                    if condition.get("Field") == "path-pattern":
                        config = condition.get("PathPatternConfig") or {}
                        found |= set(config.get("Values") or condition.get("Values") or [])
    return found


def albs(cloud: Cloud) -> list[str]:
    return [
        lb["LoadBalancerArn"]
        for lb in cloud.elbv2.describe_load_balancers()["LoadBalancers"]
        if lb.get("Type") == "application"
    ]


def write(cloud: Cloud, name: str, *members: dict[str, Any]) -> Path:
    return cloud.write(
        name,
        CLASS,
        *cloud.nodes(),
        backend("front", "default", 30100),
        backend("cart", "shop", 30200),
        *members,
    )


def test_an_ingress_group_through_the_cli(cloud: Cloud) -> None:
    env = cloud.server.env()
    acm = boto3.client(
        "acm",
        endpoint_url=env["AWS_ENDPOINT_URL"],
        region_name=env["AWS_DEFAULT_REGION"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    (certificate,) = import_certificates(acm, "shop.example.com")
    tls = {
        "alb.ingress.kubernetes.io/certificate-arn": certificate,
        "alb.ingress.kubernetes.io/listen-ports": '[{"HTTP": 80}, {"HTTPS": 443}]',
        "alb.ingress.kubernetes.io/ssl-redirect": "443",
    }
    # Each member's rules are served on its own listen ports; with ssl-redirect the HTTP
    # listener only redirects, so both members list HTTPS.
    listen = "alb.ingress.kubernetes.io/listen-ports"
    https = {listen: tls[listen]}
    front = member("front", "default", 10, ["/"], **tls)
    cart = member("cart", "shop", -10, ["/cart"], **https)
    both = write(cloud, "both.yaml", front, cart)

    code, body = cloud.run("apply", both)
    assert code == 0, body
    entries = {(o["kind"], o["namespace"], o["name"]): o for o in body["objects"]}
    assert set(entries) == {("Ingress", "default", "front"), ("Ingress", "shop", "cart")}
    hosts = {e["status"]["loadBalancer"]["ingress"][0]["hostname"] for e in entries.values()}
    assert len(hosts) == 1  # one ALB for the group
    (alb,) = albs(cloud)
    listeners = cloud.elbv2.describe_listeners(LoadBalancerArn=alb)["Listeners"]
    assert sorted((x["Protocol"], x["Port"]) for x in listeners) == [("HTTP", 80), ("HTTPS", 443)]
    assert {"/cart", "/cart/*"} <= paths(cloud)

    # Apply again: nothing changes; plan is empty.
    cloud.server.clear_recording()
    assert cloud.run("apply", both)[0] == 0
    assert cloud.server.mutating() == Counter()
    assert cloud.run("plan", both) == (0, {"changes": [], "errors": []})

    # One more path: one CreateRule, at most one SetRulePriorities, nothing else.
    cloud.server.clear_recording()
    cart_wider = member("cart", "shop", -10, ["/cart", "/basket"], **https)
    wider = write(cloud, "wider.yaml", front, cart_wider)
    assert cloud.run("apply", wider)[0] == 0
    made = cloud.server.mutating()
    assert made["CreateRule"] == 1, made
    assert set(made) <= {"CreateRule", "SetRulePriorities"} and made["SetRulePriorities"] <= 1

    # A typo on one member: an error on that Ingress, exit 1, its rules kept, the other fine.
    broken = member(
        "cart",
        "shop",
        -10,
        ["/cart", "/basket"],
        **https,
        **{"alb.ingress.kubernetes.io/backend-protocol": "SMTP"},
    )
    cloud.server.clear_recording()
    code, body = cloud.run("apply", write(cloud, "broken.yaml", front, broken))
    assert code == 1
    errors = {o["name"]: o.get("error") for o in body["objects"]}
    assert errors["cart"] and "backend-protocol" in errors["cart"] and "SMTP" in errors["cart"]
    assert errors["front"] is None
    assert {"/cart", "/basket"} <= paths(cloud)
    assert cloud.server.mutating() == Counter()
    assert cloud.run("apply", wider)[0] == 0  # mended

    # A member leaves (pruned): its rules go, the ALB stays.
    alone = write(cloud, "alone.yaml", front)
    code, body = cloud.run("apply", alone, extra=("--prune",))
    assert code == 0, body
    assert "/cart" not in paths(cloud)
    assert albs(cloud) == [alb]

    # The last member leaves: the ALB and its target groups go.
    nothing = write(cloud, "nothing.yaml")
    code, body = cloud.run("apply", nothing, extra=("--prune",))
    assert code == 0, body
    assert albs(cloud) == []
    assert cloud.owned_target_groups("IngressGroup/shop") == []
