"""Routing on GCP URL maps checked against the independent oracle of the Ingress semantics.

The URL maps are the ones the provider wrote to the Compute fake, read back and evaluated
with GCP's rules (`url_map_eval`); each request of the table must reach the Service the
oracle names (or 404). Names deeper than a wildcard's one label are GCP's documented
deviation and are checked separately.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from providers.gcp import marks as m
from providers.gcp.provider import GcpProvider
from tests.gcp import ingress as ing
from tests.gcp.builders import PROJECT
from tests.gcp.conftest import Cloud
from tests.gcp.url_map_eval import answer, evaluate, host_matches
from tests.translate.routing_oracle import by_port_number, route

HOSTS = ("shop.example.com", "www.example.com", "a.shops.example.com", "other.example.com")
PATHS = (
    "/",
    "/cart",
    "/cart/",
    "/cart/x",
    "/cartx",
    "/CART",
    "/cart/checkout",
    "/cart/checkout/",
    "/api",
    "/api/v1",
    "/apix",
    "/docs/a.txt",
    "/docs/a/b.txt",
    "/exact",
    "/exact/",
)
PEM = (
    "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----",
    "-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----",
)


def richer() -> list[dict[str, Any]]:
    """More shapes than the example: no-host rules, Exact and Prefix on one path, a glob,
    a wildcard host and ImplementationSpecific without a path."""
    loose = ing.ingress(
        "loose",
        rules=[
            (
                None,
                [
                    ing.path("/exact", "Exact", "cart-alias"),
                    ing.path("/exact", "Prefix", "store"),
                    ing.path("/docs/*.txt", "ImplementationSpecific", "cart-alias"),
                    ing.path("/api", "Prefix", "store"),
                ],
            ),
            ("*.shops.example.com", [ing.path("/api", "Prefix", "cart-alias")]),
        ],
        annotations={"provisioner.io/group-name": "rich"},
    )
    return [
        ing.ingress_class(),
        *ing.nodes(),
        ing.service("store", "default", 30180),
        ing.service("cart-alias", "default", 30380),
        loose,
    ]


def _services(cloud: Cloud, provider: GcpProvider, key: str, objects: list[Any]) -> dict[str, str]:
    desired = ing.desired(key, objects)
    plan = provider.plan(key, desired)
    provider.apply(plan)
    return {name: backend for backend, name in plan.observed["backend_services"].items()}


def _url_map(cloud: Cloud, port: str) -> dict[str, Any]:
    """The URL map the listener on `port` uses (its role lists the ports it serves)."""
    for url_map in cloud.compute.listing("urlMaps", project=PROJECT):
        ports = json.loads(url_map["description"])[m.RESOURCE].split(":", 1)[1].split(",")
        if port in ports:
            return url_map
    raise AssertionError(f"no URL map for port {port}")


@pytest.mark.parametrize(
    ("key", "objects", "port"),
    [
        (ing.SHARED, ing.example(), "80"),
        (ing.STOREFRONT, ing.example(), "443"),
        ("IngressGroup/rich", richer(), "80"),
    ],
    ids=["group", "storefront-https", "richer"],
)
def test_every_request_reaches_the_oracles_service(
    cloud: Cloud, provider: GcpProvider, key: str, objects: list[Any], port: str
) -> None:
    cloud.compute.mutate(
        "sslCertificates",
        "insert",
        project=PROJECT,
        ssl_certificate_resource={"name": ing.CERT, "certificate": PEM[0], "privateKey": PEM[1]},
    )
    services = _services(cloud, provider, key, objects)
    url_map = _url_map(cloud, port)
    members = [
        o
        for o in objects
        if o.get("kind") == "Ingress"
        and f"Ingress/{o['metadata']['namespace']}/{o['metadata']['name']}"
        in ing.translate(key, objects).members
    ]
    wrong = []
    for host in HOSTS:
        for path in PATHS:
            want = by_port_number(route(members, host, path), objects)
            got = answer(url_map, host, path, services)
            if got != want:
                wrong.append((host, path, want, got))
    assert wrong == []


def test_deeper_names_under_a_wildcard_are_the_documented_deviation(
    cloud: Cloud, provider: GcpProvider
) -> None:
    services = _services(cloud, provider, "IngressGroup/rich", richer())
    url_map = _url_map(cloud, "80")
    # Kubernetes: b.a.shops.example.com does not match *.shops.example.com (one label), so
    # the no-host rules answer; GCP's wildcard matches it, so the wildcard host's rules do.
    assert route(richer()[-1:], "b.a.shops.example.com", "/api") == "default/store:80"
    assert answer(url_map, "b.a.shops.example.com", "/api", services) == "default/cart-alias:80"
    assert answer(url_map, "a.shops.example.com", "/api", services) == "default/cart-alias:80"


@pytest.mark.parametrize(
    ("pattern", "host", "matches"),
    [
        ("*.foo.com", "a.foo.com", True),
        ("*.foo.com", "a.b.foo.com", True),
        ("*.foo.com", "foo.com", False),
        ("*", "anything.example", True),
        ("foo.com", "foo.com", True),
        ("foo.com", "a.foo.com", False),
    ],
)
def test_gcp_host_patterns(pattern: str, host: str, matches: bool) -> None:
    assert host_matches(pattern, host) is matches


def test_evaluator_prefers_exact_hosts_then_longest_wildcard_and_path_rules_longest() -> None:
    url_map = {
        "defaultService": "bs/top",
        "hostRules": [
            {"hosts": ["*"], "pathMatcher": "any"},
            {"hosts": ["*.foo.com"], "pathMatcher": "short"},
            {"hosts": ["*.a.foo.com"], "pathMatcher": "long"},
            {"hosts": ["x.a.foo.com"], "pathMatcher": "exact"},
        ],
        "pathMatchers": [
            {"name": "any", "defaultService": "bs/any"},
            {"name": "short", "defaultService": "bs/short"},
            {
                "name": "long",
                "defaultService": "bs/long",
                "pathRules": [
                    {"paths": ["/a/*"], "service": "bs/a"},
                    {"paths": ["/a/b/*"], "service": "bs/ab"},
                    {"paths": ["/a/b"], "service": "bs/exact"},
                ],
            },
            {"name": "exact", "defaultService": "bs/exact-host"},
        ],
    }
    assert evaluate(url_map, "x.a.foo.com", "/") == {"defaultService": "bs/exact-host"}
    assert evaluate(url_map, "y.a.foo.com", "/a/b/c") == {"service": "bs/ab"}
    assert evaluate(url_map, "y.a.foo.com", "/a/b") == {"service": "bs/exact"}
    assert evaluate(url_map, "y.a.foo.com", "/a/x") == {"service": "bs/a"}
    assert evaluate(url_map, "y.a.foo.com", "/a") == {"defaultService": "bs/long"}
    assert evaluate(url_map, "b.foo.com", "/a") == {"defaultService": "bs/short"}
    assert evaluate(url_map, "bar.com", "/") == {"defaultService": "bs/any"}
