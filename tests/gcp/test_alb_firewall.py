"""The Application Load Balancer's firewall rule opens the node ports on the nodes only:
the network tags every node instance shares, else their one service account, else (with
neither) every VM of the network, which the plan says. Through the Compute fake."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from providers.base import Action
from providers.gcp.client import Compute, build_sdk
from providers.gcp.fake import FakeCompute
from providers.gcp.network import node_target
from providers.gcp.seed import SeedNode, seed_cluster
from tests.gcp import ingress as ing
from tests.gcp.builders import PROJECT, REGION, vm_names
from tests.gcp.conftest import Cloud

ACCOUNT = "nodes@test-project.iam.gserviceaccount.com"


def seeded(
    fake: FakeCompute, tags: Sequence[tuple[str, ...]], *, service_account: str | None = None
) -> Cloud:
    """Four nodes with the given tags (one tuple per node), on a fresh project."""
    fake.reset()
    nodes = [
        SeedNode(name=name, zone=zone, tags=tags[i]) for i, (name, zone) in enumerate(vm_names(4))
    ]
    cluster = seed_cluster(
        fake.url, project=PROJECT, nodes=nodes, network="default", service_account=service_account
    )
    fake.clear_calls()
    compute = Compute(
        project=PROJECT, region=REGION, sdk=build_sdk(endpoint=fake.url, credentials=None)
    )
    return Cloud(fake=fake, compute=compute, seeded=cluster)


def firewall(cloud: Cloud) -> dict[str, Any]:
    (rule,) = cloud.compute.listing("firewalls", project=PROJECT)
    return rule


def create(cloud: Cloud) -> list[Any]:
    provider = cloud.provider()
    plan = provider.plan(ing.SHARED, ing.desired(ing.SHARED, ing.example()))
    provider.apply(plan)
    return [c for c in plan.changes if c.type == "firewall"]


def test_tags_every_node_shares_are_the_target(fake: FakeCompute) -> None:
    cloud = seeded(
        fake,
        [
            ("gke-c-node", "pool-a", "web"),
            ("web", "gke-c-node"),
            ("gke-c-node", "web"),
            ("web", "gke-c-node", "x"),
        ],
    )
    (change,) = create(cloud)
    assert change.diff["targetTags"] == ["gke-c-node", "web"]
    assert change.reason == "does not exist"
    rule = firewall(cloud)
    assert rule["targetTags"] == ["gke-c-node", "web"]
    assert not rule.get("targetServiceAccounts")


def test_no_shared_tag_falls_back_to_the_one_service_account(fake: FakeCompute) -> None:
    cloud = seeded(fake, [("a",), ("b",), (), ("a", "b")], service_account=ACCOUNT)
    (change,) = create(cloud)
    assert change.diff["targetServiceAccounts"] == [ACCOUNT]
    rule = firewall(cloud)
    assert rule["targetServiceAccounts"] == [ACCOUNT]
    assert not rule.get("targetTags")


def test_neither_keeps_the_rule_untargeted_and_says_why(fake: FakeCompute) -> None:
    cloud = seeded(fake, [("a",), ("b",), (), ("a",)])
    (change,) = create(cloud)
    assert change.diff["target"] == "every VM of the network"
    assert "applies to every VM of the network" in change.reason
    assert "no network tag and no single service account" in change.reason
    rule = firewall(cloud)
    assert not rule.get("targetTags") and not rule.get("targetServiceAccounts")


@pytest.mark.parametrize(
    ("tags", "account"), [([("n",)] * 4, None), ([("a",), ("b",), ("c",), ()], ACCOUNT)]
)
def test_a_no_op_writes_nothing_and_reads_the_nodes_once(
    fake: FakeCompute, tags: list[tuple[str, ...]], account: str | None
) -> None:
    cloud = seeded(fake, tags, service_account=account)
    create(cloud)
    fake.clear_calls()
    provider = cloud.provider()
    plan = provider.plan(ing.SHARED, ing.desired(ing.SHARED, ing.example()))
    assert plan.changes == ()
    provider.apply(plan)
    assert cloud.mutating() == {}
    assert fake.call_counts()["instances.aggregatedList"] == 1


def test_a_changed_tag_is_one_patch_and_a_new_kind_one_update(fake: FakeCompute) -> None:
    cloud = seeded(fake, [("n", "m")] * 4)
    create(cloud)
    name = str(firewall(cloud)["name"])
    cloud.compute.mutate(
        "firewalls",
        "patch",
        project=PROJECT,
        firewall=name,
        firewall_resource={"targetTags": ["old"]},
    )
    fake.clear_calls()
    provider = cloud.provider()
    plan = provider.plan(ing.SHARED, ing.desired(ing.SHARED, ing.example()))
    (change,) = plan.changes
    assert (change.action, change.type) == (Action.UPDATE, "firewall")
    assert change.diff == {"targetTags": [["old"], ["m", "n"]]}
    assert change.params["body"] == {"targetTags": ["m", "n"]}
    provider.apply(plan)
    assert cloud.mutating() == {"firewalls.patch": 1}
    assert firewall(cloud)["targetTags"] == ["m", "n"]
    # A rule that targets a service account must drop it: the whole rule is written.
    body = {**firewall(cloud), "targetServiceAccounts": [ACCOUNT]}
    body.pop("targetTags")
    cloud.compute.mutate(
        "firewalls", "update", project=PROJECT, firewall=name, firewall_resource=body
    )
    fake.clear_calls()
    plan = provider.plan(ing.SHARED, ing.desired(ing.SHARED, ing.example()))
    (change,) = plan.changes
    assert set(change.diff) == {"targetTags", "targetServiceAccounts"}
    provider.apply(plan)
    assert cloud.mutating() == {"firewalls.update": 1}
    rule = firewall(cloud)
    assert rule["targetTags"] == ["m", "n"] and not rule.get("targetServiceAccounts")
    assert provider.plan(ing.SHARED, ing.desired(ing.SHARED, ing.example())).changes == ()


@pytest.mark.parametrize(
    ("instances", "missing", "expected"),
    [
        ([{"tags": {"items": ["b", "a"]}}, {"tags": {"items": ["a", "b", "c"]}}], [], ("a", "b")),
        ([{"tags": {"items": ["a"]}}, {"tags": {}}], [], ()),
        ([{"tags": {"items": ["a"]}}], ["node-9"], ()),
    ],
)
def test_node_target_table(
    instances: list[dict[str, Any]], missing: list[str], expected: tuple[str, ...]
) -> None:
    assert node_target(instances, missing).tags == expected


def test_node_target_needs_one_service_account_on_every_node() -> None:
    one = {"serviceAccounts": [{"email": ACCOUNT}]}
    other = {"serviceAccounts": [{"email": "other@p.iam.gserviceaccount.com"}]}
    assert node_target([one, one], []).fields() == {"targetServiceAccounts": [ACCOUNT]}
    assert node_target([one, other], []).fields() == {}
    assert node_target([one, {}], []).untargeted
    assert "node-9" in node_target([one], ["node-9"]).untargeted
