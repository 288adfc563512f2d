"""The portable backend settings on an ALB: draining and cookie affinity become target group
attributes; what an ALB cannot do is refused before any write."""

from __future__ import annotations

from dataclasses import replace

import pytest

from providers.aws.provider import AwsProvider
from providers.aws.seed import SeededCluster
from provisioner.model import LoadBalancer
from tests.aws.builders import ALB_KEY, application, http_backend
from tests.aws.conftest import Cloud
from tests.aws.test_alb_limits import converge, refused


@pytest.fixture
def provider(local_cloud: Cloud, local_seeded: SeededCluster) -> AwsProvider:
    return local_cloud.provider()


def with_settings(seeded: SeededCluster, **settings: object) -> LoadBalancer:
    backends = (
        http_backend(seeded, "shop/api:80", 30081, **settings),
        http_backend(seeded, "shop/web:80", 30080),
    )
    return application(seeded, backends=backends)


def attributes(cloud: Cloud, port: int) -> dict[str, str]:
    groups = cloud.elbv2.describe_target_groups()["TargetGroups"]
    (group,) = [g for g in groups if g["Port"] == port]
    found = cloud.elbv2.describe_target_group_attributes(TargetGroupArn=group["TargetGroupArn"])
    return {a["Key"]: a["Value"] for a in found["Attributes"]}


def test_draining_and_cookie_affinity_are_target_group_attributes(
    local_cloud: Cloud, local_seeded: SeededCluster, provider: AwsProvider
) -> None:
    desired = with_settings(local_seeded, draining_seconds=45, affinity="cookie")
    converge(provider, desired)
    api = attributes(local_cloud, 30081)
    assert api["deregistration_delay.timeout_seconds"] == "45"
    assert (api["stickiness.enabled"], api["stickiness.type"]) == ("true", "lb_cookie")
    assert attributes(local_cloud, 30080).get("stickiness.enabled", "false") == "false"
    local_cloud.recorder.clear()
    assert provider.plan(ALB_KEY, desired).empty
    # Affinity turned off: one attribute call, on that target group only.
    converge(provider, with_settings(local_seeded, draining_seconds=45, affinity="none"))
    assert local_cloud.recorder.mutating() == ["ModifyTargetGroupAttributes"]
    assert attributes(local_cloud, 30081)["stickiness.enabled"] == "false"


def test_client_ip_affinity_is_refused(
    local_cloud: Cloud, local_seeded: SeededCluster, provider: AwsProvider
) -> None:
    message = refused(
        local_cloud,
        provider,
        with_settings(local_seeded, affinity="client-ip"),
        "session-affinity",
    )
    assert "shop/api:80" in message and "accepted: none, cookie" in message


def test_a_setting_and_an_attribute_that_disagree_are_refused(
    local_cloud: Cloud, local_seeded: SeededCluster, provider: AwsProvider
) -> None:
    desired = with_settings(local_seeded, draining_seconds=45)
    api = desired.backends[0]
    conflicting = replace(
        desired,
        backends=(
            replace(api, attributes={"deregistration_delay.timeout_seconds": "10"}),
            desired.backends[1],
        ),
    )
    message = refused(local_cloud, provider, conflicting, "disagree")
    assert "connection-draining-timeout" in message and "'45'" in message and "'10'" in message
