"""Ordered routes give the Kubernetes answer: table-driven cases, then a property test
against the independent oracle."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provisioner.model import LoadBalancer
from tests.translate.alb import load_balancer
from tests.translate.builders import backend, ingress, node_port_service, path, rule
from tests.translate.evaluate import answer
from tests.translate.routing_oracle import by_port_number, route

SERVICES = [node_port_service(n) for n in ("a", "b", "c", "d")]


def _lb(*ingresses: dict[str, Any], group: bool = False) -> LoadBalancer:
    key = "IngressGroup/g" if group else "Ingress/default/site"
    return load_balancer(key, *SERVICES, *ingresses)


def _both(ingresses: list[dict[str, Any]], host: str, request: str, *, group: bool = False) -> str:
    (listener,) = _lb(*ingresses, group=group).listeners
    got = answer(listener, host, request)
    assert got == by_port_number(route(ingresses, host, request), SERVICES)
    return got


# Each case: rules of one Ingress, a request, the backend expected ("404": none).
CASES = [
    # Exact matches only itself, case-sensitively, without a trailing slash.
    ([rule(None, path("/foo", "a", kind="Exact"))], "x.io", "/foo", "default/a:80"),
    ([rule(None, path("/foo", "a", kind="Exact"))], "x.io", "/foo/", "404"),
    ([rule(None, path("/foo", "a", kind="Exact"))], "x.io", "/FOO", "404"),
    # Prefix matches whole path elements; a trailing slash in the rule is ignored.
    ([rule(None, path("/aaa", "a"))], "x.io", "/aaa/ccc", "default/a:80"),
    ([rule(None, path("/aaa", "a"))], "x.io", "/aaa/", "default/a:80"),
    ([rule(None, path("/aaa", "a"))], "x.io", "/aaaccc", "404"),
    ([rule(None, path("/aaa/", "a"))], "x.io", "/aaa", "default/a:80"),
    ([rule(None, path("/aaa/bbb/", "a"))], "x.io", "/aaa/bbb/c", "default/a:80"),
    ([rule(None, path("/", "a"))], "x.io", "/anything/at/all", "default/a:80"),
    # Exact wins over Prefix on the same path; the longest prefix wins.
    (
        [rule(None, path("/foo", "a"), path("/foo", "b", kind="Exact"))],
        "x.io",
        "/foo",
        "default/b:80",
    ),
    (
        [rule(None, path("/foo", "a"), path("/foo", "b", kind="Exact"))],
        "x.io",
        "/foo/x",
        "default/a:80",
    ),
    (
        [rule(None, path("/", "a"), path("/foo", "b"), path("/foo/bar", "c"))],
        "x.io",
        "/foo/bar/z",
        "default/c:80",
    ),
    (
        [rule(None, path("/", "a"), path("/foo", "b"), path("/foo/bar", "c"))],
        "x.io",
        "/foo/baz",
        "default/b:80",
    ),
    # The host decides first: a matched host never falls through to rules without a host.
    ([rule("a.io", path("/x", "a")), rule(None, path("/", "b"))], "a.io", "/y", "404"),
    ([rule("a.io", path("/x", "a")), rule(None, path("/", "b"))], "b.io", "/y", "default/b:80"),
    ([rule("a.io", path("/x", "a")), rule(None, path("/", "b"))], "A.IO", "/x", "default/a:80"),
    # A wildcard matches exactly one label; an exact host wins over a wildcard.
    ([rule("*.foo.com", path("/", "a"))], "bar.foo.com", "/", "default/a:80"),
    ([rule("*.foo.com", path("/", "a"))], "baz.bar.foo.com", "/", "404"),
    ([rule("*.foo.com", path("/", "a"))], "foo.com", "/", "404"),
    (
        [rule("*.foo.com", path("/", "a")), rule("bar.foo.com", path("/x", "b"))],
        "bar.foo.com",
        "/",
        "404",
    ),
    ([rule("*.foo.com", path("/x", "a")), rule(None, path("/", "b"))], "q.foo.com", "/y", "404"),
    # A host with no paths still owns its requests.
    ([rule("a.io"), rule(None, path("/", "b"))], "a.io", "/", "404"),
    # ImplementationSpecific paths are globs over the whole path.
    (
        [rule(None, path("/img/*.png", "a", kind="ImplementationSpecific"))],
        "x.io",
        "/img/x/y.png",
        "default/a:80",
    ),
    (
        [rule(None, path("/img/*.png", "a", kind="ImplementationSpecific"))],
        "x.io",
        "/img/y.jpg",
        "404",
    ),
    ([rule(None, path("/v?", "a", kind="ImplementationSpecific"))], "x.io", "/v2", "default/a:80"),
    ([rule(None, path("/v?", "a", kind="ImplementationSpecific"))], "x.io", "/v10", "404"),
    ([rule(None, path("/plain", "a", kind="ImplementationSpecific"))], "x.io", "/plain/x", "404"),
    ([rule(None, path(None, "a", kind="ImplementationSpecific"))], "x.io", "/any", "default/a:80"),
    # A port named in the path is the Service's port: one backend however it is named.
    ([rule(None, path("/", "a", port="http"))], "x.io", "/", "default/a:80"),
]


@pytest.mark.parametrize(("rules", "host", "request_path", "expected"), CASES)
def test_routing_table(
    rules: list[dict[str, Any]], host: str, request_path: str, expected: str
) -> None:
    assert _both([ingress(rules=rules)], host, request_path) == expected


def test_default_backend_answers_what_no_rule_matches() -> None:
    only_default = ingress(rules=[], default=backend("d"))
    assert _both([only_default], "any.io", "/x") == "default/d:80"
    with_host = ingress(rules=[rule("a.io", path("/x", "a"))], default=backend("d"))
    assert _both([with_host], "a.io", "/other") == "default/d:80"
    assert _both([with_host], "b.io", "/x") == "default/d:80"


def _member(name: str, namespace: str, order: int, rules: list[dict[str, Any]]) -> dict[str, Any]:
    annotations = {"alb.ingress.kubernetes.io/group.name": "g"}
    if order:
        annotations["alb.ingress.kubernetes.io/group.order"] = str(order)
    return ingress(name, namespace=namespace, annotations=annotations, rules=rules)


def test_group_ties_break_by_order_then_namespace_and_name() -> None:
    services = [
        node_port_service("a", namespace="other"),
        node_port_service("b", namespace="other"),
    ]
    first = _member("z", "default", -5, [rule("h.io", path("/p", "a"))])
    second = _member("a", "default", 0, [rule("h.io", path("/p", "b"))])
    third = _member("a", "other", 0, [rule("h.io", path("/p", "a"))])
    lb = load_balancer("IngressGroup/g", *SERVICES, *services, first, second, third)
    (listener,) = lb.listeners
    assert answer(listener, "h.io", "/p") == "default/a:80"
    assert [r.owner for r in listener.routes if r.owner] == ["default/z", "default/a", "other/a"]
    lb = load_balancer("IngressGroup/g", *SERVICES, *services, second, third)
    assert answer(lb.listeners[0], "h.io", "/p") == "default/b:80"


def test_route_ids_are_stable_and_distinct() -> None:
    rules = [rule("a.io", path("/x", "a"), path("/y", "b")), rule("*.b.io", path("/", "c"))]
    lb = _lb(ingress(rules=rules))
    ids = [r.id for r in lb.listeners[0].routes]
    assert ids == [
        "default/site/r0/p0",
        "default/site/r0/p1",
        "host:a.io",
        "default/site/r1/p0",
    ]
    assert _lb(ingress(rules=rules)) == lb


# Property: first-match evaluation of the model routes agrees with the oracle.
HOSTS = [
    "a.example.com",
    "b.example.com",
    "*.example.com",
    "x.a.example.com",
    "*.a.example.com",
    None,
]
PATHS = ["/", "/a", "/a/", "/a/b", "/ab", "/A", "/a/b/c"]
GLOBS = ["/a/*", "/a?", "/*b", "/a", None]
REQUEST_HOSTS = [
    "a.example.com",
    "b.example.com",
    "c.example.com",
    "x.a.example.com",
    "y.x.a.example.com",
    "example.com",
]
REQUEST_PATHS = ["/", "/a", "/a/", "/a/b", "/ab", "/A", "/a/b/c", "/abc", "/a/bx", "/b"]


@st.composite
def _paths(draw: Any) -> dict[str, Any]:
    kind = draw(st.sampled_from(["Exact", "Prefix", "ImplementationSpecific"]))
    value = draw(st.sampled_from(GLOBS if kind == "ImplementationSpecific" else PATHS))
    return path(value, draw(st.sampled_from(["a", "b", "c"])), kind=kind)


@st.composite
def _ingresses(draw: Any) -> list[dict[str, Any]]:
    count = draw(st.integers(1, 3))
    result = []
    defaults = draw(st.sampled_from([None, 0]))
    for index in range(count):
        rules = draw(
            st.lists(
                st.builds(
                    lambda host, paths: rule(host, *paths),
                    st.sampled_from(HOSTS),
                    st.lists(_paths(), max_size=3),
                ),
                max_size=3,
            )
        )
        member = _member(f"i{index}", "default", draw(st.sampled_from([0, -1, 1])), rules)
        if defaults == index:
            member["spec"]["defaultBackend"] = backend("d")
        result.append(member)
    return result


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(_ingresses(), st.sampled_from(REQUEST_HOSTS), st.sampled_from(REQUEST_PATHS))
def test_model_routes_agree_with_the_oracle(
    ingresses: list[dict[str, Any]], host: str, request_path: str
) -> None:
    lb = load_balancer("IngressGroup/g", *SERVICES, *ingresses)
    (listener,) = lb.listeners
    assert answer(listener, host, request_path) == route(ingresses, host, request_path)
