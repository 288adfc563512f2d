"""The provider contract on moto, in-process and in server mode: create, re-apply, update,
replace, delete, ownership, crash recovery and garbage collection."""

from __future__ import annotations

from dataclasses import replace

import pytest

from providers.aws import marks as m
from providers.aws.provider import AwsProvider
from providers.aws.seed import SeededCluster
from providers.base import OwnershipConflict, Plan
from provisioner.model import HealthCheck, LoadBalancer, Protocol, Scheme
from tests.aws.builders import KEY, service, with_backend
from tests.aws.conftest import CLUSTER, LB_CLASS, Cloud


def converge(provider: AwsProvider, desired: LoadBalancer | None, key: str = KEY) -> Plan:
    plan = provider.plan(key, desired)
    provider.apply(plan)
    return plan


def ops(plan: Plan) -> list[tuple[str, str]]:
    return [(c.action.value, c.type) for c in plan.changes]


def test_create_sets_marks_in_create_calls(
    cloud: Cloud, seeded: SeededCluster, provider: AwsProvider
) -> None:
    desired = service(seeded)
    plan = provider.plan(KEY, desired)
    kinds = ops(plan)
    assert kinds[0] == ("create", "security-group")
    assert ("create", "load-balancer") in kinds
    assert kinds.count(("create", "target-group")) == 2
    assert kinds.count(("create", "listener")) == 2
    status = provider.apply(plan)
    assert status.hostnames and status.hostnames[0].endswith("amazonaws.com")
    lbs = cloud.elbv2.describe_load_balancers()["LoadBalancers"]
    assert len(lbs) == 1
    lb = lbs[0]
    assert lb["Scheme"] == "internal"
    assert sorted(z["SubnetId"] for z in lb["AvailabilityZones"]) == sorted(seeded.private_subnets)
    tags = m.tag_dict(
        cloud.elbv2.describe_tags(ResourceArns=[lb["LoadBalancerArn"]])["TagDescriptions"][0][
            "Tags"
        ]
    )
    assert tags == {
        m.CLUSTER: CLUSTER,
        m.CLASS: LB_CLASS,
        m.OWNER: KEY,
        m.RESOURCE: "load-balancer",
    }
    tgs = cloud.elbv2.describe_target_groups()["TargetGroups"]
    assert sorted(tg["Port"] for tg in tgs) == [30080, 30443]
    for tg in tgs:
        health = cloud.elbv2.describe_target_health(TargetGroupArn=tg["TargetGroupArn"])
        ids = sorted(t["Target"]["Id"] for t in health["TargetHealthDescriptions"])
        assert ids == sorted(seeded.instance_ids)
    listeners = cloud.elbv2.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
    assert sorted(x["Port"] for x in listeners) == [80, 443]
    rules = cloud.ec2.describe_security_group_rules(
        Filters=[{"Name": "group-id", "Values": [seeded.node_security_group]}]
    )["SecurityGroupRules"]
    ours = [r for r in rules if m.tag_dict(r.get("Tags")).get(m.OWNER) == KEY]
    assert sorted(r["FromPort"] for r in ours) == [30080, 30443]
    assert {m.tag_dict(r["Tags"])[m.RESOURCE] for r in ours} == {"backend-rule"}
    # Both node rules, and both frontend rules, went in one call each.
    assert cloud.recorder.calls.count("AuthorizeSecurityGroupIngress") == 2
    # Every create call carried the marks itself (no separate tagging call).
    assert "AddTags" not in cloud.recorder.calls
    assert "CreateTags" not in cloud.recorder.calls


def test_second_plan_is_empty_and_apply_makes_no_mutating_call(
    cloud: Cloud, seeded: SeededCluster, provider: AwsProvider
) -> None:
    desired = service(seeded)
    converge(provider, desired)
    plan = provider.plan(KEY, desired)
    assert plan.empty, [c.as_json() for c in plan.changes]
    provider.clients.counter.reset()
    cloud.recorder.clear()
    status = provider.apply(plan)
    assert status.hostnames
    assert provider.clients.counter.mutating() == 0
    assert cloud.recorder.mutating() == []
    # A fresh provider (no cache) also sees nothing to do.
    assert cloud.provider().plan(KEY, desired).empty


def mutating_calls(cloud: Cloud, provider: AwsProvider, plan: Plan) -> list[str]:
    cloud.recorder.clear()
    provider.clients.counter.reset()
    provider.apply(plan)
    ours = [
        op
        for op, n in provider.clients.counter.by_operation().items()
        for _ in range(n)
        if not op.startswith(("Describe", "Get", "List"))
    ]
    assert sorted(ours) == sorted(cloud.recorder.mutating())
    return cloud.recorder.mutating()


def test_one_target_added_is_one_register_call(
    cloud: Cloud, seeded: SeededCluster, provider: AwsProvider
) -> None:
    converge(provider, service(seeded, instances=seeded.instance_ids[:2]))
    plan = provider.plan(KEY, service(seeded))
    assert ops(plan) == [("update", "targets"), ("update", "targets")]
    added = f"{seeded.instance_ids[2]}:30080"
    assert any(c.diff["register"] == [added] and c.diff["deregister"] == [] for c in plan.changes)
    one = service(seeded, ports=((80, 30080),))
    converge(provider, service(seeded, ports=((80, 30080),), instances=seeded.instance_ids[:2]))
    plan = provider.plan(KEY, one)
    assert ops(plan) == [("update", "targets")]
    assert mutating_calls(cloud, provider, plan) == ["RegisterTargets"]
    assert provider.plan(KEY, one).empty


def test_target_removed_is_deregistered(
    cloud: Cloud, seeded: SeededCluster, provider: AwsProvider
) -> None:
    converge(provider, service(seeded))
    smaller = service(seeded, instances=seeded.instance_ids[1:])
    plan = provider.plan(KEY, smaller)
    assert {tuple(c.diff["deregister"]) for c in plan.changes} == {
        (f"{seeded.instance_ids[0]}:30080",),
        (f"{seeded.instance_ids[0]}:30443",),
    }
    assert sorted(mutating_calls(cloud, provider, plan)) == ["DeregisterTargets"] * 2


def test_health_check_change_is_one_modify(
    cloud: Cloud, seeded: SeededCluster, provider: AwsProvider
) -> None:
    desired = service(seeded)
    converge(provider, desired)
    changed = with_backend(
        desired,
        "default/web:80",
        health_check=HealthCheck(protocol=Protocol.HTTP, path="/healthz", interval_seconds=30),
    )
    plan = provider.plan(KEY, changed)
    assert ops(plan) == [("update", "target-group")]
    diff = plan.changes[0].diff["health_check"]
    assert diff["HealthCheckProtocol"] == ["TCP", "HTTP"]
    assert mutating_calls(cloud, provider, plan) == ["ModifyTargetGroup"]
    assert provider.plan(KEY, changed).empty


def test_attribute_change_sends_only_differing_keys(
    cloud: Cloud, seeded: SeededCluster, provider: AwsProvider
) -> None:
    desired = service(seeded, attributes={"deregistration_delay.timeout_seconds": "30"})
    converge(provider, desired)
    assert provider.plan(KEY, desired).empty
    changed = with_backend(
        desired,
        "default/web:80",
        attributes={"deregistration_delay.timeout_seconds": "30", "stickiness.enabled": "true"},
        proxy_protocol=True,
    )
    plan = provider.plan(KEY, changed)
    assert ops(plan) == [("update", "attributes")]
    assert plan.changes[0].params["attributes"] == {
        "proxy_protocol_v2.enabled": "true",
        "stickiness.enabled": "true",
    }
    assert plan.changes[0].diff["attributes"]["proxy_protocol_v2.enabled"] == ["false", "true"]
    assert mutating_calls(cloud, provider, plan) == ["ModifyTargetGroupAttributes"]
    assert provider.plan(KEY, changed).empty


def test_load_balancer_attributes(
    cloud: Cloud, seeded: SeededCluster, provider: AwsProvider
) -> None:
    desired = service(seeded)
    converge(provider, desired)
    changed = replace(desired, deletion_protection=True, cross_zone=True)
    plan = provider.plan(KEY, changed)
    assert ops(plan) == [("update", "attributes")]
    assert plan.changes[0].diff == {
        "attributes": {
            "deletion_protection.enabled": ["false", "true"],
            "load_balancing.cross_zone.enabled": ["false", "true"],
        }
    }
    assert mutating_calls(cloud, provider, plan) == ["ModifyLoadBalancerAttributes"]
    assert provider.plan(KEY, changed).empty


def test_listener_port_added_and_removed(
    cloud: Cloud, seeded: SeededCluster, provider: AwsProvider
) -> None:
    converge(provider, service(seeded))
    three = service(seeded, ports=((80, 30080), (443, 30443), (8080, 31080)))
    plan = provider.plan(KEY, three)
    assert ops(plan) == [
        ("create", "security-group-rule"),
        ("create", "security-group-rule"),
        ("create", "target-group"),
        ("update", "targets"),
        ("create", "listener"),
    ]
    provider.apply(plan)
    assert provider.plan(KEY, three).empty
    one = service(seeded, ports=((80, 30080),))
    plan = provider.plan(KEY, one)
    kinds = ops(plan)
    assert kinds.count(("delete", "listener")) == 2
    assert kinds.count(("delete", "target-group")) == 2
    # Listeners stop routing before their target groups go.
    assert kinds.index(("delete", "listener")) < kinds.index(("delete", "target-group"))
    provider.apply(plan)
    assert provider.plan(KEY, one).empty
    assert len(cloud.elbv2.describe_target_groups()["TargetGroups"]) == 1


def test_subnets_change_in_place(
    cloud: Cloud, seeded: SeededCluster, provider: AwsProvider
) -> None:
    converge(provider, service(seeded))
    two = service(seeded, subnets=seeded.private_subnets[:2])
    plan = provider.plan(KEY, two)
    assert ops(plan) == [("update", "load-balancer")]
    assert "subnets" in plan.changes[0].diff
    assert mutating_calls(cloud, provider, plan) == ["SetSubnets"]
    assert provider.plan(KEY, two).empty


def test_user_tags_added_on_create_and_updated(
    cloud: Cloud, seeded: SeededCluster, provider: AwsProvider
) -> None:
    converge(provider, service(seeded, tags={"team": "a"}))
    lb = cloud.elbv2.describe_load_balancers()["LoadBalancers"][0]
    tags = m.tag_dict(
        cloud.elbv2.describe_tags(ResourceArns=[lb["LoadBalancerArn"]])["TagDescriptions"][0][
            "Tags"
        ]
    )
    assert tags["team"] == "a"
    plan = provider.plan(KEY, service(seeded, tags={"team": "b"}))
    assert {c.type for c in plan.changes} == {"tags"}
    provider.apply(plan)
    assert provider.plan(KEY, service(seeded, tags={"team": "b"})).empty


def test_scheme_change_creates_new_before_deleting_old(
    cloud: Cloud, seeded: SeededCluster, provider: AwsProvider
) -> None:
    converge(provider, service(seeded))
    old = cloud.elbv2.describe_load_balancers()["LoadBalancers"][0]
    public = service(seeded, scheme=Scheme.INTERNET_FACING)
    plan = provider.plan(KEY, public)
    kinds = ops(plan)
    assert kinds.index(("create", "load-balancer")) < kinds.index(("delete", "load-balancer"))
    create = next(
        c for c in plan.changes if c.type == "load-balancer" and c.action.value == "create"
    )
    assert "scheme internal -> internet-facing cannot change in place" in create.reason
    assert create.name != old["LoadBalancerName"]
    assert kinds.count(("create", "target-group")) == 2
    assert kinds.count(("delete", "target-group")) == 2
    assert kinds.index(("delete", "load-balancer")) < kinds.index(("delete", "target-group"))
    status = provider.apply(plan)
    lbs = cloud.elbv2.describe_load_balancers()["LoadBalancers"]
    assert [lb["Scheme"] for lb in lbs] == ["internet-facing"]
    assert status.hostnames == (lbs[0]["DNSName"],)
    assert sorted(z["SubnetId"] for z in lbs[0]["AvailabilityZones"]) == sorted(
        seeded.public_subnets
    )
    assert len(cloud.elbv2.describe_target_groups()["TargetGroups"]) == 2
    assert provider.plan(KEY, public).empty


def test_user_name_change_is_delete_then_create(
    cloud: Cloud, seeded: SeededCluster, provider: AwsProvider
) -> None:
    converge(provider, service(seeded, name="web-a"))
    plan = provider.plan(KEY, service(seeded, name="web-b"))
    lb_changes = [c for c in plan.changes if c.type == "load-balancer"]
    assert [(c.action.value, c.name, c.replace) for c in lb_changes] == [
        ("delete", "web-a", True),
        ("create", "web-b", True),
    ]
    provider.apply(plan)
    names = [
        lb["LoadBalancerName"] for lb in cloud.elbv2.describe_load_balancers()["LoadBalancers"]
    ]
    assert names == ["web-b"]
    assert provider.plan(KEY, service(seeded, name="web-b")).empty


def test_delete_removes_everything_ours_and_nothing_else(
    cloud: Cloud, seeded: SeededCluster, provider: AwsProvider
) -> None:
    foreign_rule = cloud.ec2.authorize_security_group_ingress(
        GroupId=seeded.node_security_group,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 22,
                "ToPort": 22,
                "IpRanges": [{"CidrIp": "10.0.0.0/8"}],
            }
        ],
    )["SecurityGroupRules"][0]["SecurityGroupRuleId"]
    foreign_tg = cloud.elbv2.create_target_group(
        Name="someone-else", Protocol="TCP", Port=80, VpcId=seeded.vpc_id, TargetType="instance"
    )["TargetGroups"][0]["TargetGroupArn"]
    converge(provider, service(seeded))
    converge(provider, service(seeded, key="Service/default/other"), key="Service/default/other")
    plan = provider.plan(KEY, None)
    assert plan.deleting
    kinds = ops(plan)
    assert kinds[0] == ("delete", "load-balancer")
    assert kinds[-1] == ("delete", "security-group")
    status = provider.apply(plan)
    assert not status.holds_resources
    assert provider.plan(KEY, None).empty
    lbs = cloud.elbv2.describe_load_balancers()["LoadBalancers"]
    assert len(lbs) == 1  # the other key's
    tgs = {tg["TargetGroupArn"] for tg in cloud.elbv2.describe_target_groups()["TargetGroups"]}
    assert foreign_tg in tgs and len(tgs) == 3
    rules = cloud.ec2.describe_security_group_rules(
        Filters=[{"Name": "group-id", "Values": [seeded.node_security_group]}]
    )["SecurityGroupRules"]
    ids = {r["SecurityGroupRuleId"] for r in rules}
    assert foreign_rule in ids
    owners = {m.tag_dict(r.get("Tags")).get(m.OWNER) for r in rules if not r["IsEgress"]}
    assert KEY not in owners and "Service/default/other" in owners
    assert provider.owned() == {"Service/default/other"}


def test_foreign_load_balancer_with_our_name_is_a_conflict(
    cloud: Cloud, seeded: SeededCluster, provider: AwsProvider
) -> None:
    cloud.elbv2.create_load_balancer(
        Name="web-fixed", Type="network", Scheme="internal", Subnets=list(seeded.private_subnets)
    )
    cloud.recorder.clear()
    with pytest.raises(OwnershipConflict, match="web-fixed"):
        provider.plan(KEY, service(seeded, name="web-fixed"))
    assert cloud.recorder.mutating() == []
    assert len(cloud.elbv2.describe_load_balancers()["LoadBalancers"]) == 1


def test_load_balancer_of_another_key_with_our_name_is_a_conflict(
    cloud: Cloud, seeded: SeededCluster, provider: AwsProvider
) -> None:
    converge(
        provider, service(seeded, key="Service/default/a", name="shared"), key="Service/default/a"
    )
    with pytest.raises(OwnershipConflict, match="shared"):
        provider.plan(KEY, service(seeded, name="shared"))


@pytest.mark.parametrize("stop_after", [1, 3, 5, 7, 9])
def test_crash_between_applies_converges_without_duplicates(
    cloud: Cloud, seeded: SeededCluster, provider: AwsProvider, stop_after: int
) -> None:
    desired = service(seeded)
    plan = provider.plan(KEY, desired)
    partial = Plan(key=plan.key, changes=plan.changes[:stop_after], observed=plan.observed)
    provider.apply(partial)
    restarted = cloud.provider()
    converge(restarted, desired)
    assert restarted.plan(KEY, desired).empty
    assert len(cloud.elbv2.describe_load_balancers()["LoadBalancers"]) == 1
    assert len(cloud.elbv2.describe_target_groups()["TargetGroups"]) == 2
    groups = cloud.ec2.describe_security_groups(
        Filters=[{"Name": f"tag:{m.OWNER}", "Values": [KEY]}]
    )["SecurityGroups"]
    assert len(groups) == 1


def test_stale_plan_applied_twice_adopts_instead_of_duplicating(
    cloud: Cloud, seeded: SeededCluster, provider: AwsProvider
) -> None:
    plan = provider.plan(KEY, service(seeded))
    provider.apply(plan)
    provider.apply(plan)  # same creates again: adopt by name and marks
    assert len(cloud.elbv2.describe_load_balancers()["LoadBalancers"]) == 1
    assert len(cloud.elbv2.describe_target_groups()["TargetGroups"]) == 2
    lb = cloud.elbv2.describe_load_balancers()["LoadBalancers"][0]
    listeners = cloud.elbv2.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
    assert sorted(x["Port"] for x in listeners) == [80, 443]


def test_owned_lists_keys_of_this_cluster_and_class_only(
    cloud: Cloud, seeded: SeededCluster, provider: AwsProvider
) -> None:
    converge(provider, service(seeded))
    converge(provider, service(seeded, key="Service/other/api"), key="Service/other/api")
    other_class = cloud.provider(lb_class="example.com/other")
    converge(other_class, service(seeded, key="Service/x/y"), key="Service/x/y")
    assert provider.owned() == {KEY, "Service/other/api"}
    assert other_class.owned() == {"Service/x/y"}
