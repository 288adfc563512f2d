"""The IngressClassParams CRD, applied to the dev cluster: good values stored, bad refused."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config, utils
from kubernetes.client.rest import ApiException

from provisioner.devcluster import start

CRD = Path(__file__).parents[2] / "crds" / "ingressclassparams.yaml"


@pytest.fixture(scope="module")
def custom() -> Iterator[Any]:
    with start(0) as cluster:
        api = config.new_client_from_config(config_file=str(cluster.kubeconfig))
        try:
            utils.create_from_yaml(api, str(CRD))
            yield client.CustomObjectsApi(api)
        finally:
            api.close()


def _params(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "provisioner.io/v1",
        "kind": "IngressClassParams",
        "metadata": {"name": name},
        "spec": spec,
    }


def _create(custom: Any, body: dict[str, Any]) -> Any:
    return custom.create_cluster_custom_object("provisioner.io", "v1", "ingressclassparams", body)


def test_valid_params_are_stored(custom: Any) -> None:
    spec = {
        "scheme": "internet-facing",
        "ipAddressType": "dualstack",
        "group": {"name": "shared"},
        "subnets": {"tags": {"kubernetes.io/role/elb": ["1"]}},
        "certificates": ["arn:aws:acm:us-east-1:1:certificate/a"],
        "tlsPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
        "inboundCIDRs": ["10.0.0.0/8", "2001:db8::/32"],
        "tags": {"team": "web"},
        "providers": {"aws": {"loadBalancerAttributes": {"idle_timeout.timeout_seconds": "60"}}},
    }
    _create(custom, _params("good", spec))
    stored = custom.get_cluster_custom_object("provisioner.io", "v1", "ingressclassparams", "good")
    assert stored["spec"] == spec


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"scheme": "public"}, "spec.scheme"),
        ({"ipAddressType": "ipv6"}, "spec.ipAddressType"),
        ({"group": {"name": "Not_A_Group"}}, "spec.group.name"),
        ({"group": {"name": "a" * 64}}, "spec.group.name"),
        ({"subnets": {"ids": ["subnet-1"], "tags": {"a": ["b"]}}}, "spec.subnets"),
        ({"subnets": {"ids": []}}, "spec.subnets.ids"),
        ({"certificates": []}, "spec.certificates"),
        ({"inboundCIDRs": ["everyone"]}, "spec.inboundCIDRs[0]"),
        ({"tags": {"team": 7}}, "spec.tags.team"),
        ({"providers": {"aws": {"loadBalancerAttributes": {"a": 1}}}}, None),
    ],
)
def test_bad_values_are_refused_with_422(
    custom: Any, spec: dict[str, Any], field: str | None
) -> None:
    with pytest.raises(ApiException) as refused:
        _create(custom, _params("bad", spec))
    assert refused.value.status == 422
    status = json.loads(refused.value.body)
    fields = {cause["field"] for cause in status["details"]["causes"]}
    if field is not None:
        assert field in fields, status["message"]
