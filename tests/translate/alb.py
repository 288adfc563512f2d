"""Translate a handful of objects the way reconcile does, with the AWS Ingress vocabulary."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from providers.aws.annotations import ANNOTATIONS
from providers.aws.ingress_annotations import INGRESS_ANNOTATIONS
from provisioner.annotations import AnnotationSet
from provisioner.keys import all_keys
from provisioner.manifests import Manifests
from provisioner.model import Key, LoadBalancer
from provisioner.reconcile import Desired, Selection, desired_for
from tests.translate.builders import ingress_class, node


@dataclass
class Stub:
    """Enough of a provider for translation: its name and vocabularies."""

    name: str = "aws"
    annotations: AnnotationSet = ANNOTATIONS
    ingress_annotations: AnnotationSet = INGRESS_ANNOTATIONS


SELECTION = Selection(
    load_balancer_class="provisioner.io/nlb",
    classless_service=lambda annotations: False,
    legacy_ingress_classes=("alb",),
    ingress_annotations=INGRESS_ANNOTATIONS,
)


def view(*objects: dict[str, Any], with_class: bool = True) -> Manifests:
    manifests = Manifests()
    base = [node("n1", instance="i-1")]
    if with_class:
        base.append(ingress_class())
    for obj in (*base, *objects):
        manifests.replace(obj)
    return manifests


def desired(key: Key, *objects: dict[str, Any], with_class: bool = True) -> Desired:
    return desired_for(key, view(*objects, with_class=with_class), Stub(), SELECTION)  # type: ignore[arg-type]


def load_balancer(key: Key, *objects: dict[str, Any]) -> LoadBalancer:
    found = desired(key, *objects)
    assert found.error is None and not found.member_errors, (found.error, found.member_errors)
    assert found.desired is not None
    return found.desired


def keys(*objects: dict[str, Any]) -> list[Key]:
    return all_keys(view(*objects), SELECTION)
