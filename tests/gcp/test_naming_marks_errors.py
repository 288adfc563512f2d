"""Pure tests of names, ownership marks and error translation."""

from __future__ import annotations

import json

import pytest
from google.api_core import exceptions as gexc

from providers.base import (
    CloudValidation,
    Conflict,
    InUse,
    InvalidSpec,
    NotFound,
    Throttled,
    Unavailable,
)
from providers.gcp import marks as m
from providers.gcp import naming
from providers.gcp.errors import classify, operation_error, reasons_of, translate

MARKS = m.Marks(cluster="prod", lb_class="provisioner.io/nlb")


@pytest.mark.parametrize(
    "name",
    [
        naming.address_name("Service/default/web", cluster="c", scheme="EXTERNAL", subnetwork=None),
        naming.health_check_name("Service/" + "n" * 63 + "/" + "s" * 63, cluster="c"),
        naming.backend_service_name(
            "Service/a/b", cluster="c", protocol="TCP", scheme="INTERNAL", network="n"
        ),
        naming.forwarding_rule_name(
            "Service/UPPER/Case_Name",
            cluster="c",
            protocol="UDP",
            ports=(53,),
            address="a",
            backend_service="b",
        ),
        naming.firewall_name("Service/x/y", cluster="c", role="firewall:traffic", network="n"),
        naming.instance_group_name("Cluster.With.Dots" * 5, lb_class="c"),
    ],
)
def test_every_name_is_valid_for_gcp(name: str) -> None:
    assert naming.name_problem(name) is None, name
    assert name.startswith("pv-")


def test_names_change_with_immutable_fields_only() -> None:
    key = "Service/default/web"

    def rule(*ports: int) -> str:
        return naming.forwarding_rule_name(
            key, cluster="c", protocol="TCP", ports=ports, address="a", backend_service="b"
        )

    assert rule(80, 443) == rule(443, 80) != rule(80)
    check = naming.health_check_name
    assert check(key, cluster="c") != check("Service/default/api", cluster="c")
    assert check(key, cluster="c") != check(key, cluster="other")
    tcp = naming.backend_service_name(
        key, cluster="c", protocol="TCP", scheme="EXTERNAL", network="n"
    )
    internal = naming.backend_service_name(
        key, cluster="c", protocol="TCP", scheme="INTERNAL", network="n"
    )
    assert tcp != internal


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("", "empty"),
        ("a" * 64, "at most 63"),
        ("Web", "lowercase"),
        ("web-", "hyphen"),
        ("1web", "letter"),
    ],
)
def test_bad_names_are_refused_with_the_rule(name: str, problem: str) -> None:
    with pytest.raises(InvalidSpec, match=r"\[a-z\]") as info:
        naming.check_name(name)
    assert problem in str(info.value)


def test_description_marker_and_labels() -> None:
    text = MARKS.description("Service/default/web", "forwarding-rule:tcp")
    assert json.loads(text) == {
        m.CLUSTER: "prod",
        m.CLASS: "provisioner.io/nlb",
        m.OWNER: "Service/default/web",
        m.RESOURCE: "forwarding-rule:tcp",
    }
    labels = MARKS.labels("Service/default/web", {"team": "a"})
    assert labels["team"] == "a"
    for key in (m.LABEL_CLUSTER, m.LABEL_CLASS, m.LABEL_OWNER):
        assert len(labels[key]) == 32 and labels[key].isalnum()
    resource = {"description": text, "labels": labels}
    assert MARKS.owns(resource, "Service/default/web")
    assert m.role(resource) == "forwarding-rule:tcp"
    assert m.owner(resource) == "Service/default/web"


@pytest.mark.parametrize(
    "resource",
    [
        {},
        {"description": "made by hand"},
        {"description": "[1, 2]"},
        {
            "description": m.Marks("other", "provisioner.io/nlb").description(
                "Service/default/web", "address"
            )
        },
        {"description": m.Marks("prod", "other").description("Service/default/web", "address")},
        {"description": MARKS.description("Service/default/api", "address")},
        {
            "description": MARKS.description("Service/default/web", "address"),
            "labels": {m.LABEL_OWNER: m.label_hash("Service/default/api")},
        },
    ],
)
def test_anything_but_all_three_marks_is_not_ours(resource: dict[str, object]) -> None:
    assert not MARKS.owns(resource, "Service/default/web")


def test_user_labels_are_checked_like_gcp_does() -> None:
    assert m.check_user_labels({"team": "storefront", "env": "demo"}) == {
        "team": "storefront",
        "env": "demo",
    }
    for bad in (
        {"Team": "x"},
        {"team": "Store Front"},
        {"provisioner-owner": "x"},
        {"a" * 64: "x"},
    ):
        with pytest.raises(InvalidSpec, match=r"provisioner\.io/tags"):
            m.check_user_labels(bad)


def test_shared_group_keys() -> None:
    key = m.group_key("us-central1-a")
    assert key == "Shared/gcp/instance-group:us-central1-a"
    assert m.zone_of_group_key(key) == "us-central1-a"
    assert m.zone_of_group_key("Service/default/web") is None


@pytest.mark.parametrize(
    ("status", "reasons", "expected"),
    [
        (429, (), Throttled),
        (403, ("rateLimitExceeded",), Throttled),
        (400, ("resourceInUseByAnotherResource",), InUse),
        (404, ("notFound",), NotFound),
        (409, ("alreadyExists",), Conflict),
        (412, ("conditionNotMet",), Conflict),
        (400, ("invalid",), CloudValidation),
        (500, (), Unavailable),
        (503, ("backendError",), Unavailable),
        (0, ("RESOURCE_IN_USE_BY_ANOTHER_RESOURCE",), InUse),
        (0, ("RESOURCE_NOT_FOUND",), NotFound),
    ],
)
def test_classify(status: int, reasons: tuple[str, ...], expected: type) -> None:
    assert classify(status, reasons) is expected


def test_translate_keeps_reasons_and_a_412_is_a_conflict_never_retried() -> None:
    err = gexc.from_http_status(412, "fingerprint", errors=[{"reason": "conditionNotMet"}])
    neutral = translate(err, operation="regionBackendServices.patch")
    assert isinstance(neutral, Conflict) and not neutral.retryable
    assert "regionBackendServices.patch: 412" in str(neutral)
    assert reasons_of(neutral) == ["conditionNotMet"]
    busy = translate(
        gexc.from_http_status(400, "in use", errors=[{"reason": "resourceInUseByAnotherResource"}]),
        operation="instanceGroups.delete",
    )
    assert isinstance(busy, InUse)
    assert translate(gexc.ServiceUnavailable("down"), operation="x").retryable


def test_failed_operation_becomes_its_error() -> None:
    op = {
        "status": "DONE",
        "httpErrorStatusCode": 400,
        "error": {"errors": [{"code": "RESOURCE_IN_USE_BY_ANOTHER_RESOURCE", "message": "used"}]},
    }
    error = operation_error("instanceGroups.delete", op)
    assert isinstance(error, InUse)
    assert operation_error("x", {"status": "DONE"}) is None
