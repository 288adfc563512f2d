"""Which Services are ours."""

from __future__ import annotations

from typing import Any

import pytest

from providers.aws import AwsProviderFactory
from provisioner.translate.selection import service_is_ours
from tests.translate.builders import service

aws = AwsProviderFactory()


def ours(svc: dict[str, Any], *, classless: bool = True) -> bool:
    return service_is_ours(
        svc,
        load_balancer_class="provisioner.io/nlb",
        classless=aws.selects_classless_service if classless else (lambda _: False),
    )


def _classless(annotations: dict[str, str]) -> dict[str, Any]:
    svc = service(annotations=annotations)
    del svc["spec"]["loadBalancerClass"]
    return svc


@pytest.mark.parametrize(
    ("svc", "expected"),
    [
        (service(), True),
        (service(loadBalancerClass="service.k8s.aws/nlb"), False),
        (service(type="ClusterIP"), False),
        (_classless({}), False),
        (_classless({"service.beta.kubernetes.io/aws-load-balancer-type": "external"}), True),
        (_classless({"service.beta.kubernetes.io/aws-load-balancer-type": "nlb-ip"}), True),
        (_classless({"service.beta.kubernetes.io/aws-load-balancer-type": "nlb"}), False),
    ],
)
def test_selection(svc: dict[str, Any], expected: bool) -> None:
    assert ours(svc) is expected


def test_classless_services_are_not_ours_where_the_provider_says_so() -> None:
    svc = _classless({"service.beta.kubernetes.io/aws-load-balancer-type": "external"})
    assert ours(svc, classless=False) is False


def test_a_service_being_deleted_is_no_longer_ours() -> None:
    svc = service()
    svc["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    assert ours(svc) is False
