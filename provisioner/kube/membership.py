"""Which keys the cluster holds, which objects a key writes to, and which keys route where.

The controller's wake-up rules, its workers and its garbage collector all ask here, on top of
`provisioner.keys` (which the one-shot CLI uses too), so that they agree on where an
object's load balancer lives and "a key whose object exists is never collected" holds by
construction.

An Ingress being deleted is no longer ours, so `keys` puts it on its own key. To let go of
its finalizer only once its group's load balancer no longer routes to it, its *prior* key
is computed as if it were not being deleted: the group reconcile that removes its rules is
the one that releases it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from provisioner import keys
from provisioner.kube.writer import has_finalizer
from provisioner.model import Key
from provisioner.reconcile import ClusterView, Selection
from provisioner.translate.selection import service_is_ours

Obj = Mapping[str, Any]


def service_is_ours_now(service: Obj, selection: Selection) -> bool:
    return service_is_ours(
        service,
        load_balancer_class=selection.load_balancer_class,
        classless=selection.classless_service,
    )


def ingress_is_ours_now(ingress: Obj, view: ClusterView, selection: Selection) -> bool:
    return keys.ingress_class(ingress, view, selection) is not None


def _without_deletion(obj: Obj) -> Obj:
    meta = dict(obj.get("metadata") or {})
    meta.pop("deletionTimestamp", None)
    return {**obj, "metadata": meta}


def prior_key(ingress: Obj, view: ClusterView, selection: Selection) -> Key:
    """The key an Ingress lives under, or lived under before its deletion started."""
    return keys.ingress_key(_without_deletion(ingress), view, selection)


def ingress_key_of(ingress: Obj, view: ClusterView, selection: Selection) -> Key | None:
    """The key an Ingress event wakes: its key when ours, its prior key while we hold it."""
    if ingress_is_ours_now(ingress, view, selection):
        return keys.ingress_key(ingress, view, selection)
    if has_finalizer(ingress):
        return prior_key(ingress, view, selection)
    return None


def ingress_keys(view: ClusterView, selection: Selection, *, every: bool = False) -> set[Key]:
    """Keys of every Ingress that is ours, and of those we still hold a finalizer on.

    `every` adds the own keys of all Ingresses, so that an IngressClass change that makes
    Ingresses ours (or not) is looked at."""
    found: set[Key] = set()
    for ingress in view.list("Ingress"):
        key = ingress_key_of(ingress, view, selection)
        if key is not None:
            found.add(key)
        elif every:
            found.add(keys.ingress_key(ingress, view, selection))
    return found


def _backend_services(ingress: Obj) -> set[str]:
    spec: Mapping[str, Any] = ingress.get("spec") or {}
    backends = [spec.get("defaultBackend") or {}]
    for rule in spec.get("rules") or []:
        for path in ((rule or {}).get("http") or {}).get("paths") or []:
            backends.append((path or {}).get("backend") or {})
    return {
        str(b["service"]["name"])
        for b in backends
        if isinstance(b.get("service"), dict) and b["service"].get("name")
    }


def ingress_keys_for_service(
    view: ClusterView, selection: Selection, namespace: str, service: str
) -> set[Key]:
    """Keys of the Ingresses (ours) in `namespace` that send traffic to `service`."""
    found: set[Key] = set()
    for ingress in view.list("Ingress", namespace):
        if service in _backend_services(ingress):
            key = ingress_key_of(ingress, view, selection)
            if key is not None:
                found.add(key)
    return found


def ingress_members(view: ClusterView, selection: Selection, key: Key) -> list[Obj]:
    """The Ingresses a key's result is written to: its members, and the Ingresses leaving it
    (deleted, or no longer ours) on which we still hold a finalizer."""
    members = [m.ingress for m in keys.ingress_members(key, view, selection)]
    named = {id(m) for m in members}
    for ingress in view.list("Ingress"):
        if id(ingress) in named or not has_finalizer(ingress):
            continue
        if ingress_is_ours_now(ingress, view, selection):
            continue
        if prior_key(ingress, view, selection) == key:
            members.append(ingress)
    return members
