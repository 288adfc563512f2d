"""An ALB apply interrupted or repeated converges without duplicates (moto in-process)."""

from __future__ import annotations

import pytest

from providers.aws.provider import AwsProvider
from providers.aws.seed import SeededCluster
from providers.base import Conflict, Plan
from tests.aws.builders import ALB_KEY, application, route, shop_routes, with_routes
from tests.aws.conftest import Cloud


@pytest.fixture
def provider(local_cloud: Cloud, local_seeded: SeededCluster) -> AwsProvider:
    return local_cloud.provider()


def rule_count(cloud: Cloud) -> int:
    [lb] = cloud.elbv2.describe_load_balancers()["LoadBalancers"]
    [listener] = cloud.elbv2.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
    rules = cloud.elbv2.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"]
    return sum(1 for r in rules if not r["IsDefault"])


def test_stale_plan_applied_twice_adopts_rules(
    local_cloud: Cloud, local_seeded: SeededCluster, provider: AwsProvider
) -> None:
    desired = application(local_seeded)
    plan = provider.plan(ALB_KEY, desired)
    provider.apply(plan)
    provider.apply(plan)  # same listener and rules again: adopted by port, priority and marks
    assert rule_count(local_cloud) == 3
    assert provider.plan(ALB_KEY, desired).empty


@pytest.mark.parametrize("stop_after", [6, 10, 12, 13])
def test_crash_between_applies_converges(
    local_cloud: Cloud, local_seeded: SeededCluster, provider: AwsProvider, stop_after: int
) -> None:
    desired = application(local_seeded)
    plan = provider.plan(ALB_KEY, desired)
    provider.apply(Plan(key=plan.key, changes=plan.changes[:stop_after], observed=plan.observed))
    restarted = local_cloud.provider()
    restarted.apply(restarted.plan(ALB_KEY, desired))
    assert restarted.plan(ALB_KEY, desired).empty
    assert rule_count(local_cloud) == 3
    assert len(local_cloud.elbv2.describe_target_groups()["TargetGroups"]) == 2


def test_priority_taken_by_someone_else_is_a_conflict(
    local_cloud: Cloud, local_seeded: SeededCluster, provider: AwsProvider
) -> None:
    provider.apply(provider.plan(ALB_KEY, application(local_seeded)))
    api, web, catch_all = shop_routes()
    extra = route("shop/web:1", "shop/web:80", host="shop.example.com", path="/s", owner="shop/web")
    desired = with_routes(application(local_seeded), (api, extra, web, catch_all))
    plan = provider.plan(ALB_KEY, desired)
    [create] = [c for c in plan.changes if c.type == "rule"]
    local_cloud.elbv2.create_rule(
        ListenerArn=create.params["ListenerArn"],
        Priority=create.params["Priority"],
        Conditions=[{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/x"]}}],
        Actions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "503"}}],
    )
    with pytest.raises(Conflict, match="re-plan"):
        provider.apply(plan)
    provider.apply(provider.plan(ALB_KEY, desired))
    assert provider.plan(ALB_KEY, desired).empty
