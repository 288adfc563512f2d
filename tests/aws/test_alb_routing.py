"""Routes to ALB rules and rule priorities, without a cloud.

The property test is the yardstick: an evaluator of ALB rules (first match by priority, ALB's
host-header and path-pattern globs, hosts case-insensitive, paths case-sensitive) over the
rules the conversion produces must answer every request exactly as an independent
first-match evaluator of the neutral routes does, deeper wildcard names included.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from providers.aws.priorities import MAX_PRIORITY, Slot, assign
from providers.aws.rules import AlbLimits, RuleSpec, listener_rules
from providers.base import InvalidSpec
from provisioner.model import Action, FixedResponse, PathType, Route
from tests.aws.builders import forward, route

# --- two independent evaluators -------------------------------------------------------------


def _glob(pattern: str, text: str, *, fold: bool) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, text, re.IGNORECASE | re.DOTALL if fold else re.DOTALL) is not None


def alb_answer(rules: Sequence[RuleSpec], default: Action, host: str, path: str) -> Action:
    """What an ALB answers: the first rule (by priority) whose every condition matches."""
    for rule in rules:
        if rule.host is not None and not _glob(rule.host, host, fold=True):
            continue
        if rule.paths and not any(_glob(p, path, fold=False) for p in rule.paths):
            continue
        return rule.action
    return default


def _host_matches(pattern: str, host: str) -> bool:
    pattern, host = pattern.lower(), host.lower()
    if pattern.startswith("*."):
        suffix = "." + pattern[2:]
        label = host[: -len(suffix)] if host.endswith(suffix) else ""
        return bool(label) and "." not in label
    return host == pattern


def _path_matches(item: Route, path: str) -> bool:
    if item.path is None:
        return True
    if item.path_type is PathType.EXACT:
        return path == item.path
    if item.path_type is PathType.GLOB:
        return _glob(item.path, path, fold=False)
    base = item.path.rstrip("/")
    return not base or path == base or path.startswith(base + "/")


def neutral_answer(routes: Sequence[Route], default: Action, host: str, path: str) -> Action:
    """The Kubernetes meaning: first route whose host (one label for `*.`) and path match."""
    for item in routes:
        if item.host is not None and not _host_matches(item.host, host):
            continue
        if _path_matches(item, path):
            return item.action
    return default


# --- the property ---------------------------------------------------------------------------

ROUTE_HOSTS = [None, "foo.com", "a.foo.com", "b.a.foo.com", "*.foo.com", "*.a.foo.com", "*.bar.com"]
ROUTE_PATHS = [
    None,
    ("/", PathType.EXACT),
    ("/a", PathType.EXACT),
    ("/a/", PathType.EXACT),
    ("/", PathType.PREFIX),
    ("/a", PathType.PREFIX),
    ("/a/", PathType.PREFIX),
    ("/a/b", PathType.PREFIX),
    ("/ab", PathType.PREFIX),
    ("/a*", PathType.GLOB),
    ("/?b", PathType.GLOB),
]
ACTIONS: list[Action] = [
    forward("x"),
    forward("y"),
    forward("z"),
    FixedResponse(404),
    FixedResponse(503),
]
REQUEST_HOSTS = [
    "foo.com",
    "FOO.com",
    "a.foo.com",
    "A.Foo.Com",
    "z.foo.com",
    "z.y.foo.com",
    "b.a.foo.com",
    "q.a.foo.com",
    "c.b.a.foo.com",
    "r.q.a.foo.com",
    "bar.com",
    "m.bar.com",
    "n.m.bar.com",
    "other.org",
]
REQUEST_PATHS = ["/", "/a", "/a/", "/a/b", "/a/b/c", "/ab", "/abc", "/A", "/b", "/xb", "/a/bc"]


@st.composite
def route_lists(draw: st.DrawFn) -> list[Route]:
    count = draw(st.integers(min_value=0, max_value=8))
    out = []
    for index in range(count):
        host = draw(st.sampled_from(ROUTE_HOSTS))
        path = draw(st.sampled_from(ROUTE_PATHS))
        out.append(
            Route(
                id=f"r{index}",
                action=draw(st.sampled_from(ACTIONS)),
                host=host,
                path=path[0] if path else None,
                path_type=path[1] if path else PathType.PREFIX,
                owner=draw(st.sampled_from([None, "ns/a", "ns/b"])),
            )
        )
    return out


@pytest.mark.parametrize("limits", [AlbLimits(), AlbLimits(condition_values=2)])
@settings(max_examples=120, deadline=None)
@given(routes=route_lists(), default=st.sampled_from(ACTIONS))
def test_alb_rules_route_like_the_neutral_routes(
    limits: AlbLimits, routes: list[Route], default: Action
) -> None:
    rules = listener_rules(routes, default, limits)
    assert len({r.role for r in rules}) == len(rules)
    for rule in rules:
        values = (1 if rule.host else 0) + len(rule.paths)
        assert values <= limits.condition_values
    for host in REQUEST_HOSTS:
        for path in REQUEST_PATHS:
            want = neutral_answer(routes, default, host, path)
            assert alb_answer(rules, default, host, path) == want, (host, path)


# --- conversion, by example -----------------------------------------------------------------

NOT_FOUND = FixedResponse(404)


def test_prefix_exact_and_root_paths() -> None:
    rules = listener_rules(
        [
            route("a", "x", path="/a/", owner="ns/i"),
            route("b", "x", path="/b", path_type=PathType.EXACT),
            route("c", "x", path="/"),
            route("d", "x", host="Shop.Example.com"),
        ],
        NOT_FOUND,
        AlbLimits(),
    )
    assert [(r.role, r.host, r.paths, r.owner) for r in rules] == [
        ("rule:a", None, ("/a", "/a/*"), "ns/i"),
        ("rule:b", None, ("/b",), None),
        ("rule:c", None, ("/*",), None),
        ("rule:d", "shop.example.com", (), None),
    ]


def test_deeper_names_of_a_wildcard_get_the_default_first() -> None:
    rules = listener_rules(
        [route("w", "x", host="*.foo.com", path="/a"), route("w-all", NOT_FOUND, host="*.foo.com")],
        forward("default"),
        AlbLimits(),
    )
    assert [(r.role, r.host, r.action) for r in rules] == [
        ("rule:default@*.*.foo.com", "*.*.foo.com", forward("default")),
        ("rule:w", "*.foo.com", forward("x")),
        ("rule:w-all", "*.foo.com", NOT_FOUND),
    ]


def test_deeper_names_follow_the_routes_without_host() -> None:
    rules = listener_rules(
        [route("w", "x", host="*.foo.com"), route("any", "y", path="/b")],
        NOT_FOUND,
        AlbLimits(),
    )
    assert [(r.host, r.paths, r.action) for r in rules] == [
        ("*.*.foo.com", ("/b", "/b/*"), forward("y")),
        ("*.*.foo.com", (), NOT_FOUND),
        ("*.foo.com", (), forward("x")),
        (None, ("/b", "/b/*"), forward("y")),
    ]


def test_frozen_owners_routes_are_left_out() -> None:
    rules = listener_rules(
        [route("a", "x", path="/a", owner="ns/bad"), route("b", "y", path="/b", owner="ns/ok")],
        NOT_FOUND,
        AlbLimits(),
        frozen=frozenset({"ns/bad"}),
    )
    assert [r.role for r in rules] == ["rule:b"]


@pytest.mark.parametrize(
    ("item", "match"),
    [
        (route("a", "x", path="/a*", owner="ns/i"), r"Ingress ns/i .* '/a\*'"),
        (route("a", "x", path="/a?", path_type=PathType.EXACT, owner="ns/i"), r"'/a\?'"),
        (route("a", "x", path="/a b"), "path"),
        (route("a", "x", path="/" + "a" * 128), "128"),
        (route("a", "x", host="localhost"), "two dot-separated labels"),
        (route("a", "x", host="a.*.com"), "host"),
    ],
)
def test_inexpressible_routes_are_refused(item: Route, match: str) -> None:
    with pytest.raises(InvalidSpec, match=match):
        listener_rules([item], NOT_FOUND, AlbLimits())


def test_duplicate_route_ids_refused() -> None:
    with pytest.raises(InvalidSpec, match="appears twice"):
        listener_rules([route("a", "x"), route("a", "y")], NOT_FOUND, AlbLimits())


def test_too_many_wildcards_for_one_rule_refused() -> None:
    item = route("a", "x", host="*.foo.com", path="/*/*/*/*/*", path_type=PathType.GLOB)
    with pytest.raises(InvalidSpec, match="does not fit one ALB rule"):
        listener_rules([item], NOT_FOUND, AlbLimits())


# --- priorities -----------------------------------------------------------------------------


def test_fresh_rules_are_spread_out() -> None:
    assert assign([Slot(None)] * 3, []) == [10, 20, 30]


def test_insert_between_moves_nothing() -> None:
    assert assign([Slot(10), Slot(None), Slot(20)], [10, 20]) == [10, 15, 20]


def test_reorder_moves_one_rule_to_a_free_number() -> None:
    result = assign([Slot(30), Slot(10), Slot(20)], [10, 20, 30])
    assert result[1:] == [10, 20] and result[0] < 10


def test_heavy_rules_stay_put() -> None:
    result = assign([Slot(20, weight=1000), Slot(10), Slot(15)], [10, 15, 20])
    assert result[0] == 20 and 20 < result[1] < result[2]


def test_rules_at_the_edges_move_when_there_is_no_room() -> None:
    result = assign([Slot(None), Slot(1), Slot(2)], [1, 2])
    assert result == sorted(result) and len(set(result)) == 3
    assert not {result[0]} & {1, 2}


@settings(max_examples=150, deadline=None)
@given(
    data=st.lists(
        st.one_of(st.none(), st.integers(min_value=1, max_value=60)), min_size=0, max_size=12
    ),
    foreign=st.sets(st.integers(min_value=1, max_value=60), max_size=10),
)
def test_priorities_increase_and_never_collide(data: list[int | None], foreign: set[int]) -> None:
    seen: set[int] = set()
    slots = []
    for value in data:
        if value is not None and value not in seen and value not in foreign:
            seen.add(value)
            slots.append(Slot(value))
        else:
            slots.append(Slot(None))
    occupied = seen | foreign
    result = assign(slots, occupied)
    assert len(result) == len(slots)
    assert all(a < b for a, b in pairwise(result))
    assert all(1 <= n <= MAX_PRIORITY for n in result)
    for slot, number in zip(slots, result, strict=True):
        assert number == slot.current or number not in occupied
