"""Names, ownership marks and error translation: pure functions, tested by table."""

from __future__ import annotations

import pytest
from botocore.exceptions import EndpointConnectionError

from providers.aws import marks as m
from providers.aws import naming
from providers.aws.errors import classify, error_code, translate
from providers.base import (
    CloudValidation,
    Conflict,
    InUse,
    InvalidSpec,
    NotFound,
    ProviderError,
    Throttled,
    Unavailable,
)
from tests.aws.conftest import client_error


def test_computed_names_are_valid_and_change_with_immutable_fields() -> None:
    a = naming.load_balancer_name("Service/default/web", scheme="internal")
    b = naming.load_balancer_name("Service/default/web", scheme="internet-facing")
    assert a != b
    assert a.startswith("k8s-default-web-") and len(a) <= 32
    assert naming.name_problem(a) is None
    long = naming.load_balancer_name("Service/a-very-long-namespace/Some_Weird.Name", scheme="x")
    assert naming.name_problem(long) is None and len(long) <= 32
    tg = {
        "backend_id": "default/web:80",
        "protocol": "TCP",
        "port": 30080,
        "target_type": "instance",
        "vpc_id": "vpc-1",
        "load_balancer_name": a,
    }
    base = naming.target_group_name("Service/default/web", **tg)  # type: ignore[arg-type]
    for field, value in [
        ("port", 30081),
        ("load_balancer_name", b),
        ("vpc_id", "vpc-2"),
        ("protocol", "UDP"),
        ("target_type", "ip"),
    ]:
        other = naming.target_group_name("Service/default/web", **{**tg, field: value})  # type: ignore[arg-type]
        assert other != base, field


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("web", None),
        ("a" * 32, None),
        ("a" * 33, "at most 32"),
        ("-web", "hyphen"),
        ("web-", "hyphen"),
        ("web_1", "letters, digits and hyphens"),
        ("internal-web", "internal-"),
        ("", "empty"),
    ],
)
def test_name_rules(name: str, problem: str | None) -> None:
    found = naming.name_problem(name)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found
        with pytest.raises(InvalidSpec, match="accepted"):
            naming.check_name(name)


def test_marks_and_ownership() -> None:
    marks = m.Marks(cluster="c", lb_class="k")
    tags = marks.tags("Service/a/b", "load-balancer", {"team": "x"})
    assert tags[m.OWNER] == "Service/a/b" and tags["team"] == "x"
    assert marks.owns(tags, "Service/a/b")
    assert not marks.owns(tags, "Service/a/c")
    assert not m.Marks(cluster="other", lb_class="k").owns(tags, "Service/a/b")
    assert not m.Marks(cluster="c", lb_class="other").owns(tags, "Service/a/b")
    assert m.describe_marks({}) == "no provisioner.io marks"


def test_reserved_prefix_and_tag_limit() -> None:
    marks = m.Marks(cluster="c", lb_class="k")
    with pytest.raises(InvalidSpec, match="reserved prefix"):
        marks.tags("Service/a/b", "x", {"provisioner.io/owner": "evil"})
    marks.tags("Service/a/b", "x", {f"t{i}": "v" for i in range(46)})
    with pytest.raises(InvalidSpec, match="limit of 50"):
        marks.tags("Service/a/b", "x", {f"t{i}": "v" for i in range(47)})


@pytest.mark.parametrize(
    ("code", "status", "cls"),
    [
        ("Throttling", 400, Throttled),
        ("ThrottlingException", 400, Throttled),
        ("RequestLimitExceeded", 503, Throttled),
        ("InternalFailure", 500, Unavailable),
        ("Whatever", 503, Unavailable),
        ("LoadBalancerNotFound", 400, NotFound),
        ("InvalidGroup.NotFound", 400, NotFound),
        ("DuplicateTargetGroupName", 400, Conflict),
        ("InvalidPermission.Duplicate", 400, Conflict),
        ("ResourceInUse", 400, InUse),
        ("DependencyViolation", 400, InUse),
        ("ValidationError", 400, CloudValidation),
        ("InvalidParameterValue", 400, CloudValidation),
        ("InvalidConfigurationRequest", 400, CloudValidation),
        ("ResourceNotFoundException", 400, NotFound),
        ("PriorityInUse", 400, Conflict),
        ("ValidationException", 400, CloudValidation),
        ("AccessDenied", 403, ProviderError),
    ],
)
def test_classify(code: str, status: int, cls: type[ProviderError]) -> None:
    assert classify(code, status) is cls


def test_translate_keeps_code_and_message() -> None:
    err = client_error("DuplicateTargetGroupName", "CreateTargetGroup")
    neutral = translate(err, service="elbv2", operation="CreateTargetGroup")
    assert isinstance(neutral, Conflict)
    assert "DuplicateTargetGroupName" in str(neutral) and "injected" in str(neutral)
    with pytest.raises(Conflict) as raised:
        raise neutral from err
    assert error_code(raised.value) == "DuplicateTargetGroupName"
    connection = translate(
        EndpointConnectionError(endpoint_url="http://x"), service="ec2", operation="DescribeVpcs"
    )
    assert isinstance(connection, Unavailable) and connection.retryable
