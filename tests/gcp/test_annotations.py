"""GKE's L4 annotations through the real translation: what they set, and clashes."""

from __future__ import annotations

from typing import Any

import pytest

from providers.gcp import GcpProviderFactory
from providers.gcp.annotations import ANNOTATIONS
from provisioner.annotations import SpecError
from provisioner.model import LoadBalancer, Scheme
from provisioner.translate.service import ServiceContext, build_service

NODE = {
    "apiVersion": "v1",
    "kind": "Node",
    "metadata": {"name": "n", "labels": {"topology.kubernetes.io/zone": "us-central1-a"}},
    "spec": {"providerID": "gce://p/us-central1-a/n"},
}


def translate(annotations: dict[str, str], **spec: Any) -> LoadBalancer:
    service = {
        "metadata": {"name": "web", "namespace": "default", "annotations": annotations},
        "spec": {
            "type": "LoadBalancer",
            "loadBalancerClass": "provisioner.io/nlb",
            "ports": [{"port": 80, "nodePort": 30080}],
            **spec,
        },
    }
    context = ServiceContext(provider="gcp", annotations=ANNOTATIONS, nodes=[NODE])
    return build_service(service, context=context)


@pytest.mark.parametrize(
    ("annotations", "scheme"),
    [
        ({}, Scheme.INTERNAL),
        ({"networking.gke.io/load-balancer-type": "Internal"}, Scheme.INTERNAL),
        ({"networking.gke.io/load-balancer-type": "External"}, Scheme.INTERNET_FACING),
        ({"cloud.google.com/load-balancer-type": "Internal"}, Scheme.INTERNAL),
        ({"provisioner.io/scheme": "internet-facing"}, Scheme.INTERNET_FACING),
        (
            {
                "provisioner.io/scheme": "internal",
                "networking.gke.io/load-balancer-type": "Internal",
            },
            Scheme.INTERNAL,
        ),
    ],
)
def test_scheme(annotations: dict[str, str], scheme: Scheme) -> None:
    assert translate(annotations).scheme is scheme


def test_a_disagreement_names_both_annotations() -> None:
    with pytest.raises(SpecError) as info:
        translate(
            {
                "provisioner.io/scheme": "internet-facing",
                "networking.gke.io/load-balancer-type": "Internal",
            }
        )
    assert "networking.gke.io/load-balancer-type" in str(info.value)
    assert "provisioner.io/scheme" in str(info.value)


def test_subnet_and_global_access() -> None:
    desired = translate(
        {
            "networking.gke.io/load-balancer-type": "Internal",
            "networking.gke.io/internal-load-balancer-subnet": "ilb-subnet",
            "networking.gke.io/internal-load-balancer-allow-global-access": "true",
        }
    )
    assert desired.subnets == ("ilb-subnet",)
    assert desired.options["gcp"]["gcp_allow_global_access"] is True
    with pytest.raises(SpecError, match="disagree"):
        translate(
            {
                "provisioner.io/gcp-allow-global-access": "false",
                "networking.gke.io/internal-load-balancer-allow-global-access": "true",
            }
        )
    with pytest.raises(SpecError, match="accepted: Internal, External"):
        translate({"networking.gke.io/load-balancer-type": "internalish"})


def test_unsupported_gke_annotations_are_errors() -> None:
    with pytest.raises(SpecError, match="not supported"):
        translate({"networking.gke.io/load-balancer-ip-addresses": "my-ip"})


def test_only_services_with_our_class_are_ours() -> None:
    factory = GcpProviderFactory()
    assert not factory.selects_classless_service(
        {"networking.gke.io/load-balancer-type": "Internal"}
    )
    assert factory.default_legacy_ingress_classes == ()
