"""What every provider must do for an Ingress's application load balancer: create with an
address, re-apply with an empty plan and no writes, add a path in place, delete everything,
and delete one load balancer while another shares the cluster's resources."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from providers.base import Provider, Status
from provisioner.model import LoadBalancer
from tests.contract.conftest import Harness

WEB = "Ingress/default/web"
API = "Ingress/default/api"


def want(harness: Harness, key: str, paths: Sequence[str] = ("/",)) -> LoadBalancer:
    if harness.application is None:
        pytest.skip(f"{harness.name}: application load balancers are not in this suite yet")
    return harness.application(key, paths)


def converge(provider: Provider, key: str, desired: LoadBalancer | None) -> Status:
    return provider.apply(provider.plan(key, desired))


def address(status: Status) -> tuple[str, ...]:
    return (*status.hostnames, *status.ips)


def test_create_gives_an_address(harness: Harness) -> None:
    desired = want(harness, WEB)
    provider = harness.provider()
    status = converge(provider, WEB, desired)
    assert status.holds_resources and len(address(status)) == 1
    assert WEB in provider.owned()


def test_reapply_is_an_empty_plan_and_no_writes(harness: Harness) -> None:
    desired = want(harness, WEB)
    first = converge(harness.provider(), WEB, desired)
    fresh = harness.provider()
    plan = fresh.plan(WEB, desired)
    assert plan.empty, [c.as_json() for c in plan.changes]
    assert address(fresh.apply(plan)) == address(first)
    assert harness.writes(fresh) == 0


def test_adding_a_path_updates_in_place(harness: Harness) -> None:
    provider = harness.provider()
    first = converge(provider, WEB, want(harness, WEB, ("/a",)))
    more = want(harness, WEB, ("/a", "/b"))
    plan = provider.plan(WEB, more)
    assert plan.changes and not any(c.replace or c.action.value == "delete" for c in plan.changes)
    assert address(provider.apply(plan)) == address(first)
    assert provider.plan(WEB, more).empty


def test_delete_removes_everything_and_is_idempotent(harness: Harness) -> None:
    provider = harness.provider()
    converge(provider, WEB, want(harness, WEB))
    plan = provider.plan(WEB, None)
    assert plan.deleting and all(c.action.value == "delete" for c in plan.changes)
    assert not provider.apply(plan).holds_resources
    assert provider.owned() == set()
    assert provider.plan(WEB, None).empty


def test_delete_while_another_load_balancer_shares_resources(harness: Harness) -> None:
    provider = harness.provider()
    converge(provider, WEB, want(harness, WEB))
    converge(provider, API, want(harness, API, ("/api",)))
    converge(provider, WEB, None)
    assert provider.plan(API, want(harness, API, ("/api",))).empty
    converge(provider, API, None)
    assert provider.owned() == set()
