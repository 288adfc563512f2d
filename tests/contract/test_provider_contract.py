"""What every provider must do, whatever the cloud: create, re-apply with an empty plan and
no writes, update in place, delete, delete while another key shares resources, and leave
another cluster's resources alone."""

from __future__ import annotations

from providers.base import Provider, Status
from provisioner.model import LoadBalancer
from tests.contract.conftest import OTHER, Harness

WEB = "Service/default/web"
API = "Service/default/api"
PORTS = ((80, 30080), (443, 30443))


def converge(provider: Provider, key: str, desired: LoadBalancer | None) -> Status:
    return provider.apply(provider.plan(key, desired))


def address(status: Status) -> tuple[str, ...]:
    return (*status.hostnames, *status.ips)


def test_create_gives_an_address(harness: Harness) -> None:
    provider = harness.provider()
    plan = provider.plan(WEB, harness.want(WEB, PORTS))
    assert not plan.empty and not plan.deleting
    assert not any(c.action.value == "delete" for c in plan.changes)
    status = provider.apply(plan)
    assert status.holds_resources
    assert len(address(status)) == 1
    assert WEB in provider.owned()


def test_reapply_is_an_empty_plan_and_no_writes(harness: Harness) -> None:
    provider = harness.provider()
    first = converge(provider, WEB, harness.want(WEB, PORTS))
    fresh = harness.provider()
    plan = fresh.plan(WEB, harness.want(WEB, PORTS))
    assert plan.empty, [c.as_json() for c in plan.changes]
    assert address(fresh.apply(plan)) == address(first)
    assert harness.writes(fresh) == 0


def test_update_in_place_keeps_the_address(harness: Harness) -> None:
    provider = harness.provider()
    first = converge(provider, WEB, harness.want(WEB, PORTS))
    more = (*PORTS, (8080, 30880))
    plan = provider.plan(WEB, harness.want(WEB, more))
    assert plan.changes and not any(c.replace for c in plan.changes)
    assert address(provider.apply(plan)) == address(first)
    assert provider.plan(WEB, harness.want(WEB, more)).empty


def test_delete_removes_everything_and_is_idempotent(harness: Harness) -> None:
    provider = harness.provider()
    converge(provider, WEB, harness.want(WEB, PORTS))
    plan = provider.plan(WEB, None)
    assert plan.deleting and plan.changes
    assert all(c.action.value == "delete" for c in plan.changes)
    assert not provider.apply(plan).holds_resources
    assert not any(k.startswith("Service/") for k in provider.owned())
    assert provider.plan(WEB, None).empty


def test_delete_while_another_key_shares_resources(harness: Harness) -> None:
    provider = harness.provider()
    converge(provider, WEB, harness.want(WEB, PORTS))
    converge(provider, API, harness.want(API, ((81, 30081),)))
    converge(provider, WEB, None)
    assert provider.plan(API, harness.want(API, ((81, 30081),))).empty
    assert API in provider.owned() and WEB not in provider.owned()
    converge(provider, API, None)
    assert provider.owned() == set()


def test_another_clusters_resources_are_left_alone(harness: Harness) -> None:
    theirs = harness.provider(OTHER)
    converge(theirs, API, harness.want(API, ((81, 30081),), OTHER))
    ours = harness.provider()
    assert ours.owned() == set()
    assert ours.plan(API, None).empty
    assert theirs.plan(API, harness.want(API, ((81, 30081),), OTHER)).empty
