"""VPC, subnet and node security group discovery: pure selection by table, errors on moto."""

from __future__ import annotations

from dataclasses import replace

import pytest

from providers.aws.network import CLUSTER_TAG_PREFIX, Subnet, choose_subnets
from providers.aws.seed import (
    SeededCluster,
    seed_instances,
    seed_node_security_group,
    seed_subnet,
    seed_vpc,
)
from providers.base import InvalidSpec
from provisioner.model import Node, Scheme
from tests.aws.builders import KEY, service
from tests.aws.conftest import CLUSTER, Cloud

ELB = "kubernetes.io/role/elb"
INTERNAL = "kubernetes.io/role/internal-elb"
OURS = CLUSTER_TAG_PREFIX + "test"
OTHER = CLUSTER_TAG_PREFIX + "other"


def sub(ident: str, zone: str, **tags: str) -> Subnet:
    return Subnet(id=ident, zone=zone, tags=tags)


def pick(subnets: list[Subnet], scheme: Scheme = Scheme.INTERNET_FACING) -> tuple[str, ...]:
    return choose_subnets(subnets, desired=None, scheme=scheme, cluster="test", vpc_id="vpc-1")


@pytest.mark.parametrize(
    ("subnets", "scheme", "expected"),
    [
        (
            [sub("subnet-a", "z1", **{ELB: "1"}), sub("subnet-b", "z2", **{ELB: ""})],
            Scheme.INTERNET_FACING,
            ("subnet-a", "subnet-b"),
        ),
        (
            [sub("subnet-a", "z1", **{ELB: "1"}), sub("subnet-b", "z2", **{INTERNAL: "1"})],
            Scheme.INTERNAL,
            ("subnet-b",),
        ),
        # value other than "" or "1" does not count
        (
            [sub("subnet-a", "z1", **{ELB: "0"}), sub("subnet-b", "z2", **{ELB: "1"})],
            Scheme.INTERNET_FACING,
            ("subnet-b",),
        ),
        # tagged for another cluster only: skipped
        (
            [
                sub("subnet-a", "z1", **{ELB: "1", OTHER: "owned"}),
                sub("subnet-b", "z2", **{ELB: "1"}),
            ],
            Scheme.INTERNET_FACING,
            ("subnet-b",),
        ),
        # one per zone, lowest id
        (
            [sub("subnet-b", "z1", **{ELB: "1"}), sub("subnet-a", "z1", **{ELB: "1"})],
            Scheme.INTERNET_FACING,
            ("subnet-a",),
        ),
        # one per zone, tagged for this cluster first
        (
            [
                sub("subnet-a", "z1", **{ELB: "1"}),
                sub("subnet-b", "z1", **{ELB: "1", OURS: "shared"}),
            ],
            Scheme.INTERNET_FACING,
            ("subnet-b",),
        ),
    ],
)
def test_subnet_discovery(subnets: list[Subnet], scheme: Scheme, expected: tuple[str, ...]) -> None:
    assert pick(subnets, scheme) == expected


def test_no_subnets_error_names_tag_and_vpc() -> None:
    with pytest.raises(InvalidSpec) as raised:
        pick([sub("subnet-a", "z1", **{ELB: "1"})], Scheme.INTERNAL)
    message = str(raised.value)
    assert "vpc-1" in message and INTERNAL in message and "provisioner.io/subnets" in message
    assert "another cluster" in message


def test_named_subnets() -> None:
    subnets = [
        sub("subnet-a", "z1", Name="one"),
        sub("subnet-b", "z2", Name="two"),
        sub("subnet-c", "z1", Name="three"),
    ]
    assert choose_subnets(
        subnets, desired=("one", "subnet-b"), scheme=Scheme.INTERNAL, cluster="test", vpc_id="vpc-1"
    ) == ("subnet-a", "subnet-b")
    with pytest.raises(InvalidSpec, match="'nope' not found in VPC vpc-1"):
        choose_subnets(
            subnets, desired=("nope",), scheme=Scheme.INTERNAL, cluster="test", vpc_id="vpc-1"
        )
    with pytest.raises(InvalidSpec, match="one subnet per availability zone"):
        choose_subnets(
            subnets,
            desired=("one", "three"),
            scheme=Scheme.INTERNAL,
            cluster="test",
            vpc_id="vpc-1",
        )


def test_user_subnets_by_name_on_moto(local_cloud: Cloud, local_seeded: SeededCluster) -> None:
    provider = local_cloud.provider()
    desired = service(local_seeded, subnets=("private-us-east-1a", local_seeded.private_subnets[1]))
    plan = provider.plan(KEY, desired)
    create = next(c for c in plan.changes if c.type == "load-balancer")
    assert sorted(create.params["Subnets"]) == sorted(local_seeded.private_subnets[:2])
    with pytest.raises(InvalidSpec, match=local_seeded.vpc_id):
        provider.plan(KEY, service(local_seeded, subnets=("missing",)))


def _node(instance: str, zone: str = "us-east-1a") -> Node:
    return Node(name=instance, provider_id=f"aws:///{zone}/{instance}")


def test_nodes_in_several_vpcs(local_cloud: Cloud, local_seeded: SeededCluster) -> None:
    vpc = seed_vpc(local_cloud.ec2, cidr="10.1.0.0/16")
    subnet = seed_subnet(local_cloud.ec2, vpc_id=vpc, cidr="10.1.0.0/24", zone="us-east-1a")
    group = seed_node_security_group(local_cloud.ec2, vpc_id=vpc, cluster_name=CLUSTER)
    [(other, _)] = seed_instances(
        local_cloud.ec2, subnet_ids=[subnet], security_group_ids=[group], count=1
    )
    desired = service(local_seeded)
    desired = replace(desired, nodes=(*desired.nodes, _node(other)))
    with pytest.raises(InvalidSpec, match="several VPCs"):
        local_cloud.provider().plan(KEY, desired)
    # Choosing the VPC explicitly leaves the stray node as a clear error too.
    with pytest.raises(InvalidSpec, match=f"{other} is not in VPC"):
        local_cloud.provider(vpc_id=local_seeded.vpc_id).plan(KEY, desired)


def test_unknown_instance_is_refused(local_cloud: Cloud, local_seeded: SeededCluster) -> None:
    desired = service(local_seeded)
    bogus = replace(desired, nodes=(*desired.nodes, _node("i-0123456789abcdef0")))
    with pytest.raises(InvalidSpec, match="i-0123456789abcdef0"):
        local_cloud.provider().plan(KEY, bogus)


def test_bad_provider_id(local_cloud: Cloud, local_seeded: SeededCluster) -> None:
    desired = replace(service(local_seeded), nodes=(Node(name="n", provider_id="gce://p/z/n"),))
    with pytest.raises(InvalidSpec, match="providerID"):
        local_cloud.provider().plan(KEY, desired)


def test_node_without_tagged_group(local_cloud: Cloud, local_seeded: SeededCluster) -> None:
    plain = local_cloud.ec2.create_security_group(
        GroupName="plain", Description="x", VpcId=local_seeded.vpc_id
    )["GroupId"]
    [(bare, zone)] = seed_instances(
        local_cloud.ec2,
        subnet_ids=local_seeded.private_subnets[:1],
        security_group_ids=[plain],
        count=1,
    )
    desired = replace(
        service(local_seeded), nodes=(*service(local_seeded).nodes, _node(bare, zone))
    )
    with pytest.raises(InvalidSpec, match=f"instance {bare} must have exactly one.*found none"):
        local_cloud.provider().plan(KEY, desired)


def test_node_with_two_tagged_groups(local_cloud: Cloud, local_seeded: SeededCluster) -> None:
    second = seed_node_security_group(
        local_cloud.ec2, vpc_id=local_seeded.vpc_id, cluster_name=CLUSTER, name="nodes-2"
    )
    [(both, zone)] = seed_instances(
        local_cloud.ec2,
        subnet_ids=local_seeded.private_subnets[:1],
        security_group_ids=[local_seeded.node_security_group, second],
        count=1,
    )
    desired = replace(
        service(local_seeded), nodes=(*service(local_seeded).nodes, _node(both, zone))
    )
    with pytest.raises(InvalidSpec, match=f"instance {both} must have exactly one"):
        local_cloud.provider().plan(KEY, desired)


def test_network_is_cached_per_node_set(local_cloud: Cloud, local_seeded: SeededCluster) -> None:
    provider = local_cloud.provider()
    desired = service(local_seeded)
    provider.plan(KEY, desired)
    provider.clients.counter.reset()
    provider.plan(KEY, desired)
    assert "DescribeInstances" not in provider.clients.counter.by_operation()
    fewer = replace(desired, nodes=desired.nodes[:2])
    provider.plan(
        KEY, service(local_seeded, instances=local_seeded.instance_ids[:2], nodes=fewer.nodes)
    )
    assert provider.clients.counter.by_operation()["DescribeInstances"] == 1


def test_subnet_tags_replace_the_role_tag() -> None:
    subnets = [
        Subnet("subnet-a", "z1", {"tier": "web", "kubernetes.io/role/internal-elb": "1"}),
        Subnet("subnet-b", "z2", {"tier": "web"}),
        Subnet("subnet-c", "z2", {"tier": "db"}),
        Subnet("subnet-d", "z3", {"tier": "edge", CLUSTER_TAG_PREFIX + "other": "owned"}),
    ]
    chosen = choose_subnets(
        subnets,
        desired=None,
        scheme=Scheme.INTERNAL,
        cluster="test",
        vpc_id="vpc-1",
        tags={"tier": ("web", "edge")},
    )
    assert chosen == ("subnet-a", "subnet-b")
    with pytest.raises(InvalidSpec, match="tier in \\(api\\)"):
        choose_subnets(
            subnets,
            desired=None,
            scheme=Scheme.INTERNAL,
            cluster="test",
            vpc_id="vpc-1",
            tags={"tier": ("api",)},
        )
