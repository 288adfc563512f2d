"""Where moto is laxer than AWS, the provider enforces AWS's rule itself; and the delete path
when AWS says "in use"."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import boto3
import pytest

from providers.aws import marks as m
from providers.aws import naming
from providers.aws.provider import AwsProvider
from providers.aws.seed import SeededCluster
from providers.base import CloudValidation, InUse, InvalidSpec, OwnershipConflict, Plan
from provisioner.model import Kind, Protocol, Target, Tls
from tests.aws.builders import KEY, ip_service, service, with_backend
from tests.aws.conftest import CLUSTER, LB_CLASS, Cloud, client_error


@pytest.fixture
def provider(local_cloud: Cloud, local_seeded: SeededCluster) -> AwsProvider:
    return local_cloud.provider()


def converge(provider: AwsProvider, desired: Any, key: str = KEY) -> Plan:
    plan = provider.plan(key, desired)
    provider.apply(plan)
    return plan


@pytest.mark.parametrize("name", ["internal-web", "a" * 33, "-web", "web_1"])
def test_invalid_names_refused_before_any_call(
    local_cloud: Cloud, local_seeded: SeededCluster, provider: AwsProvider, name: str
) -> None:
    local_cloud.recorder.clear()
    with pytest.raises(InvalidSpec, match="load-balancer-name") as raised:
        provider.plan(KEY, service(local_seeded, name=name))
    assert repr(name) in str(raised.value)
    assert local_cloud.recorder.calls == []


def test_unknown_target_group_attribute_refused(
    local_cloud: Cloud, local_seeded: SeededCluster, provider: AwsProvider
) -> None:
    local_cloud.recorder.clear()
    with pytest.raises(InvalidSpec, match=r"'bogus\.key'"):
        provider.plan(KEY, service(local_seeded, attributes={"bogus.key": "1"}))
    assert local_cloud.recorder.mutating() == []


def test_unknown_load_balancer_attribute_refused(
    local_seeded: SeededCluster, provider: AwsProvider
) -> None:
    desired = service(local_seeded, options={"aws": {"aws_load_balancer_attributes": {"x.y": "1"}}})
    with pytest.raises(InvalidSpec, match=r"'x\.y'"):
        provider.plan(KEY, desired)


def test_more_than_fifty_tags_refused(
    local_cloud: Cloud, local_seeded: SeededCluster, provider: AwsProvider
) -> None:
    local_cloud.recorder.clear()
    with pytest.raises(InvalidSpec, match="limit of 50"):
        provider.plan(KEY, service(local_seeded, tags={f"t{i}": "v" for i in range(47)}))
    assert local_cloud.recorder.calls == []
    with pytest.raises(InvalidSpec, match="reserved prefix"):
        provider.plan(KEY, service(local_seeded, tags={"provisioner.io/x": "v"}))


def test_network_listeners_refused_on_an_application_load_balancer(
    local_seeded: SeededCluster, provider: AwsProvider
) -> None:
    with pytest.raises(InvalidSpec, match="accepted on an ALB: HTTP, HTTPS"):
        provider.plan(KEY, replace(service(local_seeded), kind=Kind.APPLICATION))


def test_instance_target_not_a_node_refused(
    local_seeded: SeededCluster, provider: AwsProvider
) -> None:
    desired = service(local_seeded)
    bogus = with_backend(
        desired,
        "default/web:80",
        targets=frozenset({Target(address="i-00000000000000000", port=30080)}),
    )
    with pytest.raises(InvalidSpec, match="i-00000000000000000"):
        provider.plan(KEY, bogus)


def test_ip_targets_must_lie_in_the_vpc(
    local_cloud: Cloud, local_seeded: SeededCluster, provider: AwsProvider
) -> None:
    with pytest.raises(InvalidSpec, match=r"192\.168\.1\.5 .* outside VPC"):
        provider.plan(KEY, ip_service(local_seeded, ["10.0.100.5", "192.168.1.5"]))
    desired = ip_service(local_seeded, ["10.0.100.5", "10.0.101.7"])
    converge(provider, desired)
    tg = local_cloud.elbv2.describe_target_groups()["TargetGroups"][0]
    assert tg["TargetType"] == "ip"
    health = local_cloud.elbv2.describe_target_health(TargetGroupArn=tg["TargetGroupArn"])
    assert sorted(t["Target"]["Id"] for t in health["TargetHealthDescriptions"]) == [
        "10.0.100.5",
        "10.0.101.7",
    ]
    rules = local_cloud.ec2.describe_security_group_rules(
        Filters=[{"Name": f"tag:{m.OWNER}", "Values": [KEY]}]
    )["SecurityGroupRules"]
    assert {(r["FromPort"], r["GroupId"]) for r in rules} == {
        (8080, local_seeded.node_security_group)
    }
    assert provider.plan(KEY, desired).empty


def test_duplicate_target_group_name_in_apply_is_adopted(
    local_cloud: Cloud, local_seeded: SeededCluster, provider: AwsProvider
) -> None:
    desired = service(local_seeded, ports=((80, 30080),))
    plan = provider.plan(KEY, desired)
    create = next(c for c in plan.changes if c.type == "target-group")
    # Someone (an earlier apply whose response was lost) created it in between, with our marks.
    identical = {k: v for k, v in create.params.items() if k != "tags"}
    local_cloud.elbv2.create_target_group(**identical, Tags=m.tag_list(create.params["tags"]))
    provider.apply(plan)
    assert len(local_cloud.elbv2.describe_target_groups()["TargetGroups"]) == 1
    assert provider.plan(KEY, desired).empty


def test_duplicate_target_group_name_without_marks_is_a_conflict(
    local_cloud: Cloud, local_seeded: SeededCluster, provider: AwsProvider
) -> None:
    desired = service(local_seeded, ports=((80, 30080),))
    plan = provider.plan(KEY, desired)
    name = next(c for c in plan.changes if c.type == "target-group").name
    local_cloud.elbv2.create_target_group(
        Name=name, Protocol="TCP", Port=30080, VpcId=local_seeded.vpc_id, TargetType="instance"
    )
    with pytest.raises(OwnershipConflict, match=name):
        provider.apply(plan)
    with pytest.raises(OwnershipConflict, match=name):
        provider.plan(KEY, desired)


def test_resources_found_by_name_when_tag_search_lags(
    local_cloud: Cloud, local_seeded: SeededCluster, provider: AwsProvider
) -> None:
    desired = service(local_seeded)
    converge(provider, desired)

    def stale_index(parsed: dict[str, Any], **_: Any) -> None:
        parsed["ResourceTagMappingList"] = []

    local_cloud.tagging.meta.events.register("after-call.*.GetResources", stale_index)
    assert provider.plan(KEY, desired).empty


def test_duplicate_listener_on_a_port_is_removed(
    local_cloud: Cloud, local_seeded: SeededCluster, provider: AwsProvider
) -> None:
    desired = service(local_seeded)
    converge(provider, desired)
    lb = local_cloud.elbv2.describe_load_balancers()["LoadBalancers"][0]
    tg = next(
        t for t in local_cloud.elbv2.describe_target_groups()["TargetGroups"] if t["Port"] == 30080
    )
    local_cloud.elbv2.create_listener(  # moto accepts a second listener on port 80
        LoadBalancerArn=lb["LoadBalancerArn"],
        Port=80,
        Protocol="TCP",
        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}],
    )
    plan = provider.plan(KEY, desired)
    assert [(c.action.value, c.type, c.reason) for c in plan.changes] == [
        ("delete", "listener", "duplicate port")
    ]
    provider.apply(plan)
    ports = [
        x["Port"]
        for x in local_cloud.elbv2.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])[
            "Listeners"
        ]
    ]
    assert sorted(ports) == [80, 443]


def test_deletion_protection_blocks_delete(
    local_seeded: SeededCluster, provider: AwsProvider
) -> None:
    converge(provider, replace(service(local_seeded), deletion_protection=True))
    with pytest.raises(CloudValidation, match="deletion protection"):
        provider.plan(KEY, None)
    converge(provider, service(local_seeded))
    provider.apply(provider.plan(KEY, None))
    assert provider.plan(KEY, None).empty


def test_target_group_in_use_is_reported_and_retried_later(
    local_cloud: Cloud, local_seeded: SeededCluster, provider: AwsProvider
) -> None:
    converge(provider, service(local_seeded, ports=((80, 30080),)))
    ours = local_cloud.elbv2.describe_target_groups()["TargetGroups"][0]["TargetGroupArn"]
    foreign = local_cloud.elbv2.create_load_balancer(
        Name="foreign", Type="network", Subnets=list(local_seeded.private_subnets)
    )["LoadBalancers"][0]["LoadBalancerArn"]
    listener = local_cloud.elbv2.create_listener(
        LoadBalancerArn=foreign,
        Port=80,
        Protocol="TCP",
        DefaultActions=[{"Type": "forward", "TargetGroupArn": ours}],
    )["Listeners"][0]["ListenerArn"]
    with pytest.raises(InUse):
        provider.apply(provider.plan(KEY, None))
    local_cloud.elbv2.delete_listener(ListenerArn=listener)
    plan = provider.plan(KEY, None)
    assert [c.type for c in plan.changes] == [
        "target-group",
        "security-group-rule",
        "security-group",
    ]
    assert not provider.apply(plan).holds_resources
    assert [
        lb["LoadBalancerName"]
        for lb in local_cloud.elbv2.describe_load_balancers()["LoadBalancers"]
    ] == ["foreign"]


def test_security_group_dependency_violation_is_in_use(
    local_cloud: Cloud, local_seeded: SeededCluster, provider: AwsProvider
) -> None:
    converge(provider, service(local_seeded))
    state = {"left": 1}

    def busy(**_: Any) -> None:
        if state["left"]:
            state["left"] -= 1
            raise client_error("DependencyViolation", "DeleteSecurityGroup")

    local_cloud.ec2.meta.events.register("before-call.ec2.DeleteSecurityGroup", busy)
    with pytest.raises(InUse, match="DependencyViolation"):
        provider.apply(provider.plan(KEY, None))
    plan = provider.plan(KEY, None)
    assert [c.type for c in plan.changes] == ["security-group"]
    assert not provider.apply(plan).holds_resources
    assert provider.owned() == set()


def test_user_security_groups_replace_the_managed_one(
    local_cloud: Cloud, local_seeded: SeededCluster, provider: AwsProvider
) -> None:
    user = local_cloud.ec2.create_security_group(
        GroupName="user-frontend",
        Description="x",
        VpcId=local_seeded.vpc_id,
        TagSpecifications=[
            {"ResourceType": "security-group", "Tags": [{"Key": "Name", "Value": "user-frontend"}]}
        ],
    )["GroupId"]
    desired = service(local_seeded, security_groups=("user-frontend",))
    plan = provider.plan(KEY, desired)
    assert {c.type for c in plan.changes} == {
        "target-group",
        "targets",
        "load-balancer",
        "listener",
    }
    provider.apply(plan)
    lb = local_cloud.elbv2.describe_load_balancers()["LoadBalancers"][0]
    assert lb["SecurityGroups"] == [user]
    assert provider.plan(KEY, desired).empty
    managed = service(
        local_seeded,
        security_groups=("user-frontend",),
        options={"aws": {"manage_backend_security_group_rules": True}},
    )
    plan = provider.plan(KEY, managed)
    assert [c.type for c in plan.changes] == ["security-group-rule"] * 2
    assert all(c.params["source"] == user for c in plan.changes)
    with pytest.raises(InvalidSpec, match="not found"):
        provider.plan(KEY, service(local_seeded, security_groups=("sg-0000000000",)))


def test_other_cluster_resources_are_invisible(
    local_cloud: Cloud, local_seeded: SeededCluster
) -> None:
    ours = local_cloud.provider()
    theirs = local_cloud.provider(cluster="elsewhere")
    converge(
        theirs,
        service(
            local_seeded,
            name="theirs",
            options={"aws": {"manage_backend_security_group_rules": False}},
        ),
    )
    assert ours.owned() == set()
    assert ours.plan(KEY, None).empty
    with pytest.raises(OwnershipConflict, match="theirs"):
        ours.plan(KEY, service(local_seeded, name="theirs"))
    assert naming.load_balancer_name(KEY, scheme="internal") != "theirs"
    assert m.Marks(CLUSTER, LB_CLASS).ours({m.CLUSTER: CLUSTER, m.CLASS: LB_CLASS})


def test_tls_listener_with_sni_certificates(
    local_cloud: Cloud, local_seeded: SeededCluster, provider: AwsProvider
) -> None:
    acm = boto3.client("acm", region_name="us-east-1")
    certs = tuple(
        acm.request_certificate(DomainName=f"{name}.example.com")["CertificateArn"]
        for name in ("a", "b")
    )
    base = service(local_seeded, ports=((443, 30443),))
    listener = replace(
        base.listeners[0],
        protocol=Protocol.TLS,
        tls=Tls(certificates=certs, policy="ELBSecurityPolicy-TLS13-1-2-2021-06"),
    )
    desired = replace(base, listeners=(listener,))
    converge(provider, desired)
    lb = local_cloud.elbv2.describe_load_balancers()["LoadBalancers"][0]
    [observed] = local_cloud.elbv2.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])[
        "Listeners"
    ]
    assert observed["Protocol"] == "TLS"
    assert observed["SslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert provider.plan(KEY, desired).empty
    fewer = replace(
        desired,
        listeners=(
            replace(
                listener,
                tls=Tls(certificates=certs[:1], policy="ELBSecurityPolicy-TLS13-1-2-2021-06"),
            ),
        ),
    )
    plan = provider.plan(KEY, fewer)
    assert [(c.type, list(c.diff)) for c in plan.changes] == [("listener", ["sni_certificates"])]
    provider.apply(plan)
    assert provider.plan(KEY, fewer).empty
