"""The client layer: retries of throttling only, every attempt counted, rate limits, errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from providers.aws.client import (
    RetryPolicy,
    TokenBucket,
    api_class,
    build_clients,
    is_mutating,
)
from providers.base import CloudValidation, NotFound, Throttled
from providers.calls import CallCounter
from tests.aws.conftest import Cloud, client_error


def _failing(code: str, times: int) -> Any:
    state = {"left": times}

    def hook(**_: Any) -> None:
        if state["left"] > 0:
            state["left"] -= 1
            raise client_error(code, "DescribeLoadBalancers")

    return hook


def test_throttling_is_retried_and_every_attempt_counted(local_cloud: Cloud) -> None:
    local_cloud.elbv2.meta.events.register(
        "before-call.*.DescribeLoadBalancers", _failing("Throttling", 2)
    )
    clients = local_cloud.clients()
    result = clients.elbv2.call("DescribeLoadBalancers")
    assert result["LoadBalancers"] == []
    assert clients.counter.snapshot() == {
        ("elbv2", "DescribeLoadBalancers", "throttled"): 2,
        ("elbv2", "DescribeLoadBalancers", "ok"): 1,
    }


def test_throttling_gives_up_after_bounded_attempts(local_cloud: Cloud) -> None:
    local_cloud.elbv2.meta.events.register(
        "before-call.*.DescribeLoadBalancers", _failing("Throttling", 100)
    )
    clients = local_cloud.clients()
    with pytest.raises(Throttled) as raised:
        clients.elbv2.call("DescribeLoadBalancers")
    assert isinstance(raised.value.__cause__, ClientError)
    assert clients.counter.total() == 4  # FAST_RETRY.attempts


def test_validation_error_is_not_retried(local_cloud: Cloud) -> None:
    local_cloud.elbv2.meta.events.register(
        "before-call.*.DescribeLoadBalancers", _failing("ValidationError", 5)
    )
    clients = local_cloud.clients()
    with pytest.raises(CloudValidation, match="ValidationError"):
        clients.elbv2.call("DescribeLoadBalancers")
    assert clients.counter.snapshot() == {("elbv2", "DescribeLoadBalancers", "invalid"): 1}


def test_connection_errors_are_retried(local_cloud: Cloud) -> None:
    state = {"left": 1}

    def hook(**_: Any) -> None:
        if state["left"]:
            state["left"] -= 1
            raise EndpointConnectionError(endpoint_url="http://nowhere")

    local_cloud.ec2.meta.events.register("before-call.ec2.DescribeVpcs", hook)
    clients = local_cloud.clients()
    clients.ec2.call("DescribeVpcs")
    assert clients.counter.snapshot() == {
        ("ec2", "DescribeVpcs", "unavailable"): 1,
        ("ec2", "DescribeVpcs", "ok"): 1,
    }


def test_not_found_is_translated(local_cloud: Cloud) -> None:
    clients = local_cloud.clients()
    with pytest.raises(NotFound):
        clients.elbv2.call("DescribeLoadBalancers", Names=["missing"])
    assert clients.counter.mutating() == 0


def test_counter_mutating() -> None:
    counter = CallCounter(is_mutating)
    counter.record("elbv2", "DescribeTags", "ok")
    counter.record("elbv2", "RegisterTargets", "ok")
    counter.record("ec2", "GetResources", "ok")
    counter.record("ec2", "CreateTags", "throttled")
    assert counter.total() == 4 and counter.mutating() == 2


@pytest.mark.parametrize(
    ("operation", "cls"),
    [
        ("DescribeTargetHealth", "describe"),
        ("RegisterTargets", "targets"),
        ("DeregisterTargets", "targets"),
        ("ModifyListener", "modify"),
        ("GetResources", "describe"),
    ],
)
def test_api_classes(operation: str, cls: str) -> None:
    assert api_class(operation) == cls


def test_token_bucket_sleeps_only_past_the_burst() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    bucket = TokenBucket(4, 3, clock=lambda: now[0], sleep=sleep)
    assert [bucket.acquire() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert slept == []
    assert bucket.acquire() == pytest.approx(0.25)
    now[0] += 1.0
    assert bucket.acquire() == 0.0


def test_build_clients_uses_endpoint_and_region(monkeypatch: pytest.MonkeyPatch) -> None:
    clients = build_clients(region="eu-west-1", endpoint_url="http://127.0.0.1:1")
    assert clients.region == "eu-west-1"
    assert clients.elbv2.sdk.meta.endpoint_url == "http://127.0.0.1:1"
    assert clients.ec2.sdk.meta.config.retries["total_max_attempts"] == 1
    assert isinstance(clients.elbv2.retry, RetryPolicy)


def test_api_rates_parse_and_refuse_clearly() -> None:
    from providers.aws.client import default_limits, parse_rate

    assert parse_rate("modify=10:40") == ("modify", (10.0, 40))
    limits = default_limits({"modify": (10.0, 40)})
    assert (limits["modify"].rate, limits["modify"].burst) == (10.0, 40)
    assert (limits["targets"].rate, limits["targets"].burst) == (4.0, 20)
    for bad in ("modify=10", "writes=1:1", "modify=0:5", "modify=x:1", "modify"):
        with pytest.raises(ValueError, match="CLASS=RATE:BURST"):
            parse_rate(bad)


def test_a_bad_api_rate_flag_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    from provisioner.cli import main

    code = main(
        [
            "plan",
            "-f",
            str(Path(__file__).parents[2] / "examples"),
            "--cluster-name",
            "c",
            "--region",
            "us-east-1",
            "--aws-api-rate",
            "writes=1:1",
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "--aws-api-rate 'writes=1:1'" in err and "describe, targets, modify" in err
