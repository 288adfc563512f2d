"""The GCP provider through the Compute fake: create, re-apply, update, delete, sharing,
ownership, and what GCP cannot express."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace

import pytest

from providers.base import Conflict, InvalidSpec, OwnershipConflict, Plan
from providers.gcp import marks as m
from providers.gcp.provider import GcpProvider
from provisioner.model import LoadBalancer, Protocol, Scheme, TargetType
from tests.gcp.builders import KEY, PROJECT, REGION, service
from tests.gcp.conftest import CLUSTER, LB_CLASS, Cloud

API = "Service/default/api"


def converge(provider: GcpProvider, desired: LoadBalancer | None, key: str = KEY) -> Plan:
    plan = provider.plan(key, desired)
    provider.apply(plan)
    return plan


def ops(plan: Plan) -> list[tuple[str, str]]:
    return [(c.action.value, c.type) for c in plan.changes]


def test_create_external_service(cloud: Cloud, provider: GcpProvider) -> None:
    plan = provider.plan(KEY, service(scheme=Scheme.INTERNET_FACING, tags={"team": "web"}))
    assert ops(plan) == [
        ("create", "address"),
        ("create", "health-check"),
        ("create", "instance-group"),
        ("create", "instance-group"),
        ("create", "instance-group"),
        ("create", "backend-service"),
        ("create", "firewall"),
        ("create", "firewall"),
        ("create", "forwarding-rule"),
    ]
    status = provider.apply(plan)
    (ip,) = status.ips
    (rule,) = cloud.listing("forwardingRules")
    assert rule["IPAddress"] == ip
    assert rule["loadBalancingScheme"] == "EXTERNAL"
    assert rule["ports"] == ["80", "443"]
    assert rule["labels"]["team"] == "web"
    assert rule["labels"][m.LABEL_OWNER] == m.label_hash(KEY)
    assert json.loads(str(rule["description"])) == {
        m.CLUSTER: CLUSTER,
        m.CLASS: LB_CLASS,
        m.OWNER: KEY,
        m.RESOURCE: "forwarding-rule:tcp",
    }
    (backend,) = cloud.listing("regionBackendServices")
    assert backend["protocol"] == "TCP"
    assert len(backend["backends"]) == 3  # type: ignore[arg-type]
    (check,) = cloud.listing("regionHealthChecks")
    assert check["httpHealthCheck"]["port"] == 10256  # type: ignore[index]
    firewalls = {str(f["name"]): f for f in cloud.listing("firewalls")}
    assert all(f["destinationRanges"] == [ip] for f in firewalls.values())
    groups = cloud.listing("instanceGroups")
    assert len(groups) == 3
    assert all(m.owner(g).startswith(m.SHARED_GROUP_PREFIX) for g in groups)
    # Every resource was created marked: no call after the inserts set marks.
    writes = cloud.mutating()
    assert "forwardingRules.setLabels" not in writes
    assert writes["instanceGroups.addInstances"] == 3


def test_reapply_plans_nothing_and_writes_nothing(cloud: Cloud, provider: GcpProvider) -> None:
    desired = service(scheme=Scheme.INTERNET_FACING)
    first = provider.apply(provider.plan(KEY, desired))
    cloud.fake.clear_calls()
    plan = provider.plan(KEY, desired)
    assert plan.empty, [c.as_json() for c in plan.changes]
    status = provider.apply(plan)
    assert status.ips == first.ips
    assert cloud.mutating() == Counter()
    assert cloud.fake.calls(), "the re-apply read nothing at all"
    assert cloud.provider().plan(KEY, desired).empty  # a fresh provider agrees


def test_port_added_makes_a_new_rule_on_the_same_address(
    cloud: Cloud, provider: GcpProvider
) -> None:
    first = provider.apply(provider.plan(KEY, service()))
    plan = provider.plan(KEY, service(ports=((80, 30080), (443, 30443), (8080, 30880))))
    assert ops(plan) == [("update", "firewall"), ("create", "forwarding-rule")]
    cloud.fake.clear_calls()
    status = provider.apply(plan)
    assert status.ips == first.ips
    assert cloud.mutating() == Counter({"firewalls.patch": 1, "forwardingRules.insert": 1})
    assert sorted(len(r["ports"]) for r in cloud.listing("forwardingRules")) == [1, 2]  # type: ignore[arg-type]


def test_port_removed_replaces_the_rule_delete_first(cloud: Cloud, provider: GcpProvider) -> None:
    first = provider.apply(provider.plan(KEY, service()))
    plan = provider.plan(KEY, service(ports=((80, 30080),)))
    assert ops(plan) == [
        ("update", "firewall"),
        ("delete", "forwarding-rule"),
        ("create", "forwarding-rule"),
    ]
    assert all(c.replace for c in plan.changes if c.type == "forwarding-rule")
    assert provider.apply(plan).ips == first.ips
    (rule,) = cloud.listing("forwardingRules")
    assert rule["ports"] == ["80"]
    assert provider.plan(KEY, service(ports=((80, 30080),))).empty


def test_source_range_changed_patches_only_the_firewall(
    cloud: Cloud, provider: GcpProvider
) -> None:
    converge(provider, service())
    plan = provider.plan(KEY, service(source_ranges=("10.0.0.0/8",)))
    assert ops(plan) == [("update", "firewall")]
    assert plan.changes[0].diff["sourceRanges"] == [["0.0.0.0/0"], ["10.0.0.0/8"]]
    cloud.fake.clear_calls()
    provider.apply(plan)
    assert cloud.mutating() == Counter({"firewalls.patch": 1})


def test_node_added_and_removed_change_only_group_membership(
    cloud: Cloud, provider: GcpProvider
) -> None:
    converge(provider, service(node_count=3))
    plan = provider.plan(KEY, service(node_count=4))
    assert ops(plan) == [("update", "instance-group")]
    assert plan.changes[0].owner == m.group_key("us-central1-a")
    assert plan.changes[0].diff == {"add": ["node-3"], "remove": []}
    cloud.fake.clear_calls()
    provider.apply(plan)
    assert cloud.mutating() == Counter({"instanceGroups.addInstances": 1})
    plan = provider.plan(KEY, service(node_count=2))
    # node-2 was the only node in zone c: it leaves the group, the group leaves the service,
    # and with no user left the group goes too.
    assert ops(plan) == [
        ("update", "instance-group"),
        ("update", "backend-service"),
        ("delete", "instance-group"),
    ]
    converge(provider, service(node_count=2))
    assert provider.plan(KEY, service(node_count=2)).empty
    assert len(cloud.listing("instanceGroups")) == 2


def test_delete_removes_everything(cloud: Cloud, provider: GcpProvider) -> None:
    converge(provider, service())
    plan = provider.plan(KEY, None)
    assert plan.deleting
    assert [c.type for c in plan.changes] == [
        "forwarding-rule",
        "backend-service",
        "health-check",
        "firewall",
        "firewall",
        "address",
        "instance-group",
        "instance-group",
        "instance-group",
    ]
    status = provider.apply(plan)
    assert not status.holds_resources
    for collection in (
        "forwardingRules",
        "addresses",
        "regionBackendServices",
        "regionHealthChecks",
    ):
        assert cloud.listing(collection) == []
    assert cloud.listing("firewalls") == []
    assert cloud.listing("instanceGroups") == []
    assert provider.plan(KEY, None).empty


def test_delete_while_another_service_uses_the_groups(cloud: Cloud, provider: GcpProvider) -> None:
    converge(provider, service())
    second = provider.plan(API, service(key=API))
    assert "instance-group" not in {c.type for c in second.changes}  # found, not created
    provider.apply(second)
    assert provider.owned() == {
        KEY,
        API,
        *(m.group_key(z) for z in ("us-central1-a", "us-central1-b", "us-central1-c")),
    }
    plan = provider.plan(KEY, None)
    assert "instance-group" not in {c.type for c in plan.changes}
    provider.apply(plan)
    assert len(cloud.listing("instanceGroups")) == 3
    assert provider.plan(API, service(key=API)).empty
    plan = provider.plan(API, None)
    assert [c.type for c in plan.changes].count("instance-group") == 3
    provider.apply(plan)
    assert cloud.listing("instanceGroups") == []
    assert provider.owned() == set()


def test_shared_key_deletes_its_group_only_when_unused(cloud: Cloud, provider: GcpProvider) -> None:
    converge(provider, service())
    shared = m.group_key("us-central1-a")
    assert provider.plan(shared, None).empty  # used by the Service's backend service
    # Left behind with no user (as after a crash between creating it and using it):
    compute = cloud.compute
    compute.mutate(
        "forwardingRules",
        "delete",
        project=PROJECT,
        region=REGION,
        forwarding_rule=str(cloud.listing("forwardingRules")[0]["name"]),
    )
    compute.mutate(
        "regionBackendServices",
        "delete",
        project=PROJECT,
        region=REGION,
        backend_service=str(cloud.listing("regionBackendServices")[0]["name"]),
    )
    plan = provider.plan(shared, None)
    assert ops(plan) == [("delete", "instance-group")]
    provider.apply(plan)
    assert len(cloud.listing("instanceGroups")) == 2


def test_tcp_and_udp_on_one_port_share_one_address(cloud: Cloud, provider: GcpProvider) -> None:
    desired = service(ports=((53, 30053),), protocol=Protocol.TCP_UDP)
    status = provider.apply(provider.plan(KEY, desired))
    rules = cloud.listing("forwardingRules")
    assert sorted(str(r["IPProtocol"]) for r in rules) == ["TCP", "UDP"]
    assert {r["IPAddress"] for r in rules} == set(status.ips)
    assert sorted(str(b["protocol"]) for b in cloud.listing("regionBackendServices")) == [
        "TCP",
        "UDP",
    ]
    (address,) = cloud.listing("addresses")
    assert address["purpose"] == "SHARED_LOADBALANCER_VIP"
    assert provider.plan(KEY, desired).empty


def test_more_than_five_ports_use_several_rules_on_one_address(
    cloud: Cloud, provider: GcpProvider
) -> None:
    ports = tuple((8000 + i, 30000 + i) for i in range(7))
    status = provider.apply(provider.plan(KEY, service(ports=ports, scheme=Scheme.INTERNET_FACING)))
    rules = cloud.listing("forwardingRules")
    assert sorted(len(r["ports"]) for r in rules) == [2, 5]  # type: ignore[arg-type]
    assert {r["IPAddress"] for r in rules} == set(status.ips)
    assert provider.plan(KEY, service(ports=ports, scheme=Scheme.INTERNET_FACING)).empty


def test_scheme_change_replaces_address_rules_and_backend_service(
    cloud: Cloud, provider: GcpProvider
) -> None:
    converge(provider, service())
    plan = provider.plan(KEY, service(scheme=Scheme.INTERNET_FACING))
    created = [c.type for c in plan.changes if c.action.value == "create"]
    deleted = [c.type for c in plan.changes if c.action.value == "delete"]
    assert created == ["address", "backend-service", "forwarding-rule"]
    assert deleted == ["forwarding-rule", "backend-service", "address"]
    provider.apply(plan)
    (rule,) = cloud.listing("forwardingRules")
    assert rule["loadBalancingScheme"] == "EXTERNAL"
    assert provider.plan(KEY, service(scheme=Scheme.INTERNET_FACING)).empty


def test_a_name_held_by_someone_else_is_an_ownership_conflict(
    cloud: Cloud, provider: GcpProvider
) -> None:
    plan = provider.plan(KEY, service())
    name = next(c.name for c in plan.changes if c.type == "health-check")
    cloud.compute.mutate(
        "regionHealthChecks",
        "insert",
        project=PROJECT,
        region=REGION,
        health_check_resource={"name": name, "type": "TCP", "tcpHealthCheck": {"port": 1}},
    )
    cloud.fake.clear_calls()
    with pytest.raises(OwnershipConflict, match=r"no provisioner\.io marks"):
        provider.plan(KEY, service())
    assert cloud.mutating() == Counter()


def test_another_clusters_resources_are_neither_adopted_nor_deleted(
    cloud: Cloud, provider: GcpProvider
) -> None:
    other = cloud.provider(cluster="other", network="default")
    converge(other, service(key=API, node_count=0, scheme=Scheme.INTERNET_FACING), key=API)
    assert provider.plan(API, None).empty
    assert provider.owned() == set()
    converge(provider, service(key=API), key=API)
    assert len(cloud.listing("forwardingRules")) == 2
    converge(provider, None, key=API)
    (rule,) = cloud.listing("forwardingRules")
    assert m.parse_description(str(rule["description"]))[m.CLUSTER] == "other"


def test_a_stale_fingerprint_is_a_conflict_not_a_retry(cloud: Cloud, provider: GcpProvider) -> None:
    converge(provider, service(node_count=3))
    plan = provider.plan(KEY, service(node_count=2))
    (backend,) = cloud.listing("regionBackendServices")
    cloud.compute.mutate(
        "regionBackendServices",
        "patch",
        project=PROJECT,
        region=REGION,
        backend_service=str(backend["name"]),
        backend_service_resource={
            "fingerprint": backend["fingerprint"],
            "sessionAffinity": "CLIENT_IP",
        },
    )
    with pytest.raises(Conflict):
        provider.apply(plan)
    converge(provider, service(node_count=2))
    assert provider.plan(KEY, service(node_count=2)).empty


def test_what_gcp_cannot_express_is_refused_before_any_call(
    cloud: Cloud, provider: GcpProvider
) -> None:
    desired = service()
    ip = replace(
        desired, backends=tuple(replace(b, target_type=TargetType.IP) for b in desired.backends)
    )
    with pytest.raises(InvalidSpec, match=r"Service/default/web.*provisioner\.io/target-type"):
        provider.plan(KEY, ip)
    assert cloud.fake.calls() == []


def test_pending_operations_are_waited_for_with_our_own_endpoint(
    cloud: Cloud, provider: GcpProvider
) -> None:
    cloud.fake.set_pending_polls(2)
    converge(provider, service(scheme=Scheme.INTERNET_FACING))
    waits = {op: n for (_, op, _), n in provider.call_counts().items() if op.endswith(".wait")}
    assert waits, "no operation was waited for"
    cloud.fake.set_pending_polls(0)
    assert provider.plan(KEY, service(scheme=Scheme.INTERNET_FACING)).empty
