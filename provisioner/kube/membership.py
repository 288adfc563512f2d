"""Which keys the cluster holds, which objects a key writes to, and which keys route where.

The controller's wake-up rules and its garbage collector both need these answers from the
informer cache; they are kept here, beside each other, so that "a key whose object exists is
never collected" holds by construction: both use the same enumeration.
"""

from __future__ import annotations

from provisioner.kube.api import Obj
from provisioner.model import Key
from provisioner.reconcile import ClusterView, Selection
from provisioner.translate.selection import service_is_ours


def service_is_ours_now(service: Obj, selection: Selection) -> bool:
    return service_is_ours(
        service,
        load_balancer_class=selection.load_balancer_class,
        classless=selection.classless_service,
    )


def ingress_keys(view: ClusterView, selection: Selection, *, every: bool = False) -> set[Key]:
    """Keys of every Ingress (or group) that is ours; `every` adds those that carry our
    finalizer without being ours any more, so that they are let go."""
    return set()


def ingress_keys_for_service(
    view: ClusterView, selection: Selection, namespace: str, service: str
) -> set[Key]:
    return set()


def ingress_key_of(ingress: Obj, view: ClusterView, selection: Selection) -> Key | None:
    return None


def ingress_members(view: ClusterView, selection: Selection, key: Key) -> list[Obj]:
    return []


def ingress_is_ours_now(ingress: Obj, view: ClusterView, selection: Selection) -> bool:
    return False
