"""ALB limits AWS enforces and moto does not: the provider refuses (or splits) before any
write, and names the Ingress, the field and what is accepted."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from providers.aws import marks as m
from providers.aws.provider import AwsProvider
from providers.aws.seed import SeededCluster
from providers.base import CloudValidation, InvalidSpec, Plan
from provisioner.model import HealthCheck, LoadBalancer, PathType, Protocol
from tests.aws.builders import (
    ALB_KEY,
    application,
    http_backend,
    https_listener,
    route,
    shop_routes,
    with_routes,
)
from tests.aws.certs import import_certificates
from tests.aws.conftest import Cloud

HOST = "shop.example.com"


@pytest.fixture
def provider(local_cloud: Cloud, local_seeded: SeededCluster) -> AwsProvider:
    return local_cloud.provider()


def converge(provider: AwsProvider, desired: LoadBalancer | None) -> Plan:
    plan = provider.plan(ALB_KEY, desired)
    provider.apply(plan)
    return plan


def account_limits(cloud: Cloud, **limits: int) -> None:
    """Make DescribeAccountLimits report these quotas (moto reports only some)."""

    def report(parsed: dict[str, Any], **_: Any) -> None:
        parsed["Limits"] = [{"Name": k.replace("_", "-"), "Max": str(v)} for k, v in limits.items()]

    cloud.elbv2.meta.events.register("after-call.*.DescribeAccountLimits", report)


def refused(cloud: Cloud, provider: AwsProvider, desired: LoadBalancer, match: str) -> str:
    """The InvalidSpec message; asserts that nothing was written."""
    cloud.recorder.clear()
    with pytest.raises(InvalidSpec, match=match) as raised:
        provider.plan(ALB_KEY, desired)
    assert cloud.recorder.mutating() == []
    return str(raised.value)


def test_defaults_when_moto_reports_no_condition_limits(
    local_seeded: SeededCluster, provider: AwsProvider
) -> None:
    limits = provider.alb_limits()
    assert (limits.rules, limits.condition_values, limits.condition_wildcards) == (100, 5, 5)
    assert provider.alb_limits() is limits


def test_route_over_the_condition_value_limit_is_split(
    local_cloud: Cloud, local_seeded: SeededCluster
) -> None:
    account_limits(local_cloud, condition_values_per_alb_rule=2)
    provider = local_cloud.provider()
    desired = application(local_seeded)
    converge(provider, desired)
    listener = local_cloud.elbv2.describe_listeners(
        LoadBalancerArn=local_cloud.elbv2.describe_load_balancers()["LoadBalancers"][0][
            "LoadBalancerArn"
        ]
    )["Listeners"][0]
    rules = [
        r
        for r in local_cloud.elbv2.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"]
        if not r["IsDefault"]
    ]
    tags = {
        t["ResourceArn"]: m.tag_dict(t["Tags"])[m.RESOURCE]
        for t in local_cloud.elbv2.describe_tags(ResourceArns=[r["RuleArn"] for r in rules])[
            "TagDescriptions"
        ]
    }
    by_role = {tags[r["RuleArn"]]: r for r in rules}
    assert sorted(by_role) == [
        "rule:catch-all:shop.example.com",
        "rule:shop/api:0",
        "rule:shop/api:0:1",
        "rule:shop/web:0",
    ]
    for role in ("rule:shop/api:0", "rule:shop/api:0:1"):
        values = [
            v
            for c in by_role[role]["Conditions"]
            for v in (c.get("HostHeaderConfig") or c.get("PathPatternConfig") or {})["Values"]
        ]
        assert len(values) == 2
    first = int(by_role["rule:shop/api:0"]["Priority"])
    second = int(by_role["rule:shop/api:0:1"]["Priority"])
    assert first < second < int(by_role["rule:shop/web:0"]["Priority"])
    assert provider.plan(ALB_KEY, desired).empty


def test_rule_quota_is_an_error_naming_the_ingresses(
    local_cloud: Cloud, local_seeded: SeededCluster
) -> None:
    account_limits(local_cloud, rules_per_application_load_balancer=4)
    provider = local_cloud.provider()
    converge(provider, application(local_seeded))
    extra = [
        route(f"shop/web:{i}", "shop/web:80", host=HOST, path=f"/p{i}", owner="shop/web")
        for i in range(1, 3)
    ]
    desired = with_routes(application(local_seeded), [*extra, *shop_routes()])
    message = refused(local_cloud, provider, desired, "rules-per-application-load-balancer")
    assert "needs 5 listener rules" in message
    assert "Ingress shop/web: 3" in message and "Ingress shop/api: 1" in message


def test_single_subnet_refused(local_cloud: Cloud, local_seeded: SeededCluster) -> None:
    provider = local_cloud.provider()
    desired = application(local_seeded, subnets=local_seeded.private_subnets[:1])
    refused(local_cloud, provider, desired, "at least two availability zones")


def test_unknown_attributes_refused(
    local_cloud: Cloud, local_seeded: SeededCluster, provider: AwsProvider
) -> None:
    nlb_only = {"aws": {"aws_load_balancer_attributes": {"load_balancing.cross_zone.enabled": "1"}}}
    message = refused(
        local_cloud, provider, application(local_seeded, options=nlb_only), "unknown ALB attribute"
    )
    assert "idle_timeout.timeout_seconds" in message
    backends = (
        http_backend(
            local_seeded, "shop/api:80", 30081, attributes={"proxy_protocol_v2.enabled": "true"}
        ),
        http_backend(local_seeded, "shop/web:80", 30080),
    )
    message = refused(
        local_cloud,
        provider,
        application(local_seeded, backends=backends),
        r"'proxy_protocol_v2\.enabled' on backend shop/api:80",
    )
    assert "stickiness.enabled" in message


def test_known_attributes_are_applied_once(
    local_cloud: Cloud, local_seeded: SeededCluster, provider: AwsProvider
) -> None:
    desired = application(
        local_seeded,
        options={"aws": {"aws_load_balancer_attributes": {"idle_timeout.timeout_seconds": "120"}}},
        backends=(
            http_backend(
                local_seeded, "shop/api:80", 30081, attributes={"slow_start.duration_seconds": "30"}
            ),
            http_backend(local_seeded, "shop/web:80", 30080, protocol_version="HTTP2"),
        ),
    )
    converge(provider, desired)
    assert provider.plan(ALB_KEY, desired).empty
    tgs = local_cloud.elbv2.describe_target_groups()["TargetGroups"]
    assert sorted(tg["ProtocolVersion"] for tg in tgs) == ["HTTP1", "HTTP2"]


def test_missing_certificate_refused(
    local_cloud: Cloud, local_seeded: SeededCluster, provider: AwsProvider
) -> None:
    [real] = import_certificates(local_cloud.acm, HOST)
    missing = real[:-12] + "000000000000"
    desired = application(local_seeded, listeners=(https_listener((real, missing)),))
    message = refused(local_cloud, provider, desired, "does not exist in ACM")
    assert missing in message and "port 443" in message
    bogus = application(local_seeded, listeners=(https_listener(("not-an-arn",)),))
    refused(local_cloud, provider, bogus, "not a certificate ARN")


@pytest.mark.parametrize(
    ("path", "path_type"),
    [("/files/*", PathType.PREFIX), ("/a?b", PathType.EXACT)],
)
def test_wildcard_in_exact_or_prefix_path_refused(
    local_cloud: Cloud,
    local_seeded: SeededCluster,
    provider: AwsProvider,
    path: str,
    path_type: PathType,
) -> None:
    routes = (
        route(
            "shop/web:9", "shop/web:80", host=HOST, path=path, path_type=path_type, owner="shop/web"
        ),
    )
    message = refused(
        local_cloud, provider, with_routes(application(local_seeded), routes), "Ingress shop/web"
    )
    assert repr(path) in message


def test_glob_path_is_accepted(
    local_cloud: Cloud, local_seeded: SeededCluster, provider: AwsProvider
) -> None:
    routes = (
        route(
            "shop/web:9",
            "shop/web:80",
            host=HOST,
            path="/img/*.png",
            path_type=PathType.GLOB,
            owner="shop/web",
        ),
    )
    desired = with_routes(application(local_seeded), routes)
    converge(provider, desired)
    assert provider.plan(ALB_KEY, desired).empty


def test_health_checks_an_alb_cannot_run_are_refused(
    local_cloud: Cloud, local_seeded: SeededCluster, provider: AwsProvider
) -> None:
    tcp = application(
        local_seeded,
        backends=(
            http_backend(local_seeded, "shop/api:80", 30081, health_check=HealthCheck()),
            http_backend(local_seeded, "shop/web:80", 30080),
        ),
    )
    refused(local_cloud, provider, tcp, "accepted behind an ALB: HTTP, HTTPS")
    slow = HealthCheck(protocol=Protocol.HTTP, timeout_seconds=10, interval_seconds=10)
    equal = application(
        local_seeded,
        backends=(
            http_backend(local_seeded, "shop/api:80", 30081, health_check=slow),
            http_backend(local_seeded, "shop/web:80", 30080),
        ),
    )
    refused(local_cloud, provider, equal, "must be shorter than its interval")


def test_deletion_protection_refused_while_planning(
    local_seeded: SeededCluster, provider: AwsProvider
) -> None:
    converge(provider, replace(application(local_seeded), deletion_protection=True))
    with pytest.raises(CloudValidation, match="deletion protection"):
        provider.plan(ALB_KEY, None)
    converge(provider, application(local_seeded))
    assert not provider.apply(provider.plan(ALB_KEY, None)).holds_resources
