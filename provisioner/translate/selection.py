"""Which objects are ours: decided from the object alone, so every replica agrees."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from provisioner.translate.objects import Obj, annotations_of, is_deleting, spec_of


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
