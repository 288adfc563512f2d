"""Which objects are ours: decided from the object (and its class) alone, so every replica
agrees."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence

from provisioner.translate.objects import (
    Obj,
    annotations_of,
    is_deleting,
    meta,
    name_of,
    spec_of,
)


def is_load_balancer_service(service: Obj) -> bool:
    return spec_of(service).get("type") == "LoadBalancer"


def service_is_ours(
    service: Obj,
    *,
    load_balancer_class: str,
    classless: Callable[[Mapping[str, str]], bool],
) -> bool:
    """A LoadBalancer Service whose class is ours, or (when the provider allows) none set.

    `classless` is the provider's rule for Services without a class: on AWS the
    `aws-load-balancer-type: external|nlb-ip` annotation, elsewhere nothing.
    A Service being deleted is not ours any more: its resources must go.
    """
    if not is_load_balancer_service(service) or is_deleting(service):
        return False
    wanted = spec_of(service).get("loadBalancerClass")
    if wanted:
        return bool(wanted == load_balancer_class)
    return classless(annotations_of(service))


INGRESS_CLASS_ANNOTATION = "kubernetes.io/ingress.class"
DEFAULT_CLASS_ANNOTATION = "ingressclass.kubernetes.io/is-default-class"


def default_ingress_class(classes: Iterable[Obj]) -> Obj | None:
    """The IngressClass marked default; with several, the newest (as Kubernetes admission
    picks it for new Ingresses), ties by name."""
    marked = [c for c in classes if annotations_of(c).get(DEFAULT_CLASS_ANNOTATION) == "true"]
    if not marked:
        return None
    return max(marked, key=lambda c: (str(meta(c).get("creationTimestamp") or ""), name_of(c)))


def ingress_class_of(
    ingress: Obj,
    *,
    classes: Sequence[Obj],
    controller: str,
    legacy_classes: Collection[str],
) -> str | None:
    """The class under which an Ingress is ours (its name), or None when it is not ours.

    `spec.ingressClassName` decides when set; otherwise the legacy
    `kubernetes.io/ingress.class` annotation; otherwise the default IngressClass. An Ingress
    being deleted is not ours any more: its rules must go.
    """
    if is_deleting(ingress):
        return None
    wanted = spec_of(ingress).get("ingressClassName")
    if wanted:
        found = next((c for c in classes if name_of(c) == wanted), None)
        return str(wanted) if found is not None and class_controller(found) == controller else None
    legacy = annotations_of(ingress).get(INGRESS_CLASS_ANNOTATION)
    if legacy is not None:
        return legacy if legacy in legacy_classes else None
    default = default_ingress_class(classes)
    if default is not None and class_controller(default) == controller:
        return name_of(default)
    return None


def class_controller(ingress_class: Obj) -> str:
    return str(spec_of(ingress_class).get("controller") or "")
