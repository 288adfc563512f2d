"""Ingress manifests for the GCP Application Load Balancer tests, and their translation.

`example()` is the GCP counterpart of `examples/ingress.yaml`: an Ingress with two hosts
(one a wildcard), HTTP and HTTPS with a redirect, on its own load balancer; and a group of
two Ingresses in two namespaces sharing another. Every backend is in instance mode (GCP does
not serve NEGs yet). The nodes are the seeded VMs of `tests.gcp.builders`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from providers.gcp.annotations import ANNOTATIONS
from providers.gcp.ingress_annotations import INGRESS_ANNOTATIONS
from provisioner.annotations import AnnotationSet
from provisioner.manifests import Manifests
from provisioner.model import Key, LoadBalancer
from provisioner.reconcile import Desired, Selection, desired_for
from tests.gcp.builders import PROJECT, vm_names

Obj = dict[str, Any]
STOREFRONT = "Ingress/default/storefront"
SHARED = "IngressGroup/shared"
CERT = "storefront-cert"


@dataclass
class Stub:
    name: str = "gcp"
    annotations: AnnotationSet = ANNOTATIONS
    ingress_annotations: AnnotationSet = INGRESS_ANNOTATIONS


SELECTION = Selection(
    load_balancer_class="provisioner.io/nlb",
    classless_service=lambda annotations: False,
    legacy_ingress_classes=("gce",),
    ingress_annotations=INGRESS_ANNOTATIONS,
)


def nodes(count: int = 4, *, project: str = PROJECT) -> list[Obj]:
    return [
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": name, "labels": {"topology.kubernetes.io/zone": zone}},
            "spec": {"providerID": f"gce://{project}/{zone}/{name}"},
        }
        for name, zone in vm_names(count)
    ]


def ingress_class() -> Obj:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "IngressClass",
        "metadata": {
            "name": "public",
            "annotations": {"ingressclass.kubernetes.io/is-default-class": "true"},
        },
        "spec": {"controller": "provisioner.io/alb"},
    }


def service(name: str, namespace: str, node_port: int, **annotations: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace, "annotations": annotations},
        "spec": {
            "type": "NodePort",
            "selector": {"app": name},
            "ports": [
                {"name": "http", "port": 80, "targetPort": 8080, "nodePort": node_port},
            ],
        },
    }


def path(value: str, kind: str, service_name: str, port: Any = 80) -> Obj:
    ref = {"number": port} if isinstance(port, int) else {"name": port}
    return {
        "path": value,
        "pathType": kind,
        "backend": {"service": {"name": service_name, "port": ref}},
    }


def ingress(
    name: str,
    namespace: str = "default",
    *,
    rules: Sequence[tuple[str | None, Sequence[Obj]]] = (),
    default: str | None = None,
    annotations: Mapping[str, str] | None = None,
) -> Obj:
    spec: dict[str, Any] = {
        "rules": [
            {**({"host": host} if host else {}), "http": {"paths": list(paths)}}
            for host, paths in rules
        ]
    }
    if default:
        spec["defaultBackend"] = {"service": {"name": default, "port": {"number": 80}}}
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "annotations": {"provisioner.io/scheme": "internet-facing", **(annotations or {})},
        },
        "spec": spec,
    }


def storefront(**annotations: str) -> Obj:
    return ingress(
        "storefront",
        rules=[
            ("www.example.com", [path("/", "Prefix", "store", "http")]),
            ("*.shops.example.com", [path("/api", "Prefix", "store")]),
        ],
        annotations={
            "ingress.gcp.kubernetes.io/pre-shared-cert": CERT,
            "provisioner.io/listen-ports": '[{"HTTP": 80}, {"HTTPS": 443}]',
            "provisioner.io/ssl-redirect": "443",
            **annotations,
        },
    )


def site() -> Obj:
    return ingress(
        "site",
        rules=[("shop.example.com", [path("/", "Prefix", "store")])],
        default="store",
        annotations={
            "provisioner.io/group-name": "shared",
            "provisioner.io/group-order": "10",
            "provisioner.io/tags": "app=site",
        },
    )


def cart(*extra: Obj) -> Obj:
    return ingress(
        "cart",
        "shop",
        rules=[
            (
                "shop.example.com",
                [
                    path("/cart", "Prefix", "cart"),
                    path("/cart/checkout", "Exact", "cart", "http"),
                    *extra,
                ],
            )
        ],
        annotations={"provisioner.io/group-name": "shared", "provisioner.io/group-order": "-10"},
    )


def example() -> list[Obj]:
    """Everything of the example, nodes and class included."""
    return [
        ingress_class(),
        *nodes(),
        service("store", "default", 30180),
        service("cart", "shop", 30280),
        storefront(),
        site(),
        cart(),
    ]


def view(objects: Sequence[Obj]) -> Manifests:
    manifests = Manifests()
    for obj in objects:
        manifests.replace(obj)
    return manifests


def translate(key: Key, objects: Sequence[Obj]) -> Desired:
    return desired_for(key, view(objects), Stub(), SELECTION)  # type: ignore[arg-type]


def desired(key: Key, objects: Sequence[Obj]) -> LoadBalancer:
    found = translate(key, objects)
    assert found.error is None, found.error
    assert found.desired is not None
    return found.desired
