"""Which keys a cluster view holds, and which objects belong to a key.

A Service has its own key. An Ingress that is ours belongs to `IngressGroup/<name>` when its
class parameters or its group annotation name a group, else to `Ingress/<ns>/<name>`. Both
the controller (to know what an event wakes) and the one-shot CLI (to know what to plan) ask
here, so they can never disagree on where an object's load balancer lives.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from provisioner.annotations import INGRESS_PORTABLE, AnnotationSet, SpecError, resolve
from provisioner.model import Key, service_key, split_key
from provisioner.translate.group import IngressMember
from provisioner.translate.ingress_params import PARAMS_KIND, ClassParams, find_params
from provisioner.translate.objects import Obj, annotations_of, name_of, namespace_of
from provisioner.translate.selection import ingress_class_of

_GROUP_FIELDS = frozenset({"group_name"})


class View(Protocol):
    def get(self, kind: str, namespace: str, name: str) -> Mapping[str, Any] | None: ...

    def list(self, kind: str, namespace: str | None = None) -> Sequence[Mapping[str, Any]]: ...


class IngressSelection(Protocol):
    """The part of `reconcile.Selection` that decides which Ingresses are ours."""

    @property
    def ingress_controller(self) -> str: ...

    @property
    def legacy_ingress_classes(self) -> tuple[str, ...]: ...

    @property
    def ingress_annotations(self) -> AnnotationSet: ...


def ingress_key_of(namespace: str, name: str) -> Key:
    return f"Ingress/{namespace}/{name}"


def group_key_of(name: str) -> Key:
    return f"IngressGroup/{name}"


def ingress_class(ingress: Obj, view: View, selection: IngressSelection) -> str | None:
    """The class an Ingress is ours under, or None."""
    return ingress_class_of(
        ingress,
        classes=view.list("IngressClass"),
        controller=selection.ingress_controller,
        legacy_classes=selection.legacy_ingress_classes,
    )


def class_params(
    class_name: str, view: View, selection: IngressSelection, *, provider: str
) -> ClassParams | None:
    """The IngressClassParams of a class (none for a legacy class without an IngressClass).

    Raises SpecError when the class points at parameters that are missing or invalid; the
    fields under `spec.providers.<provider>` are read for `provider` only."""
    found = view.get("IngressClass", "", class_name)
    if found is None:
        return None
    return find_params(
        found,
        view.list(PARAMS_KIND),
        provider=provider,
        annotations=selection.ingress_annotations,
    )


def ingress_key(ingress: Obj, view: View, selection: IngressSelection) -> Key:
    """The key an Ingress's load balancer lives under.

    A group name that cannot be read (invalid class parameters, a malformed annotation)
    leaves the Ingress on its own key, where reconciling reports the error on it.
    """
    own = ingress_key_of(namespace_of(ingress), name_of(ingress))
    class_name = ingress_class(ingress, view, selection)
    if class_name is None:
        return own
    try:
        params = class_params(class_name, view, selection, provider="")  # the group name only
    except SpecError:
        return own
    if params is not None and params.group_name:
        return group_key_of(params.group_name)
    wanted = {s.key for s in INGRESS_PORTABLE if s.field in _GROUP_FIELDS}
    wanted |= {
        a.key for a in selection.ingress_annotations.aliases if set(a.fields) <= _GROUP_FIELDS
    }
    raw = {k: v for k, v in annotations_of(ingress).items() if k in wanted}
    try:
        values = resolve(raw, extra=selection.ingress_annotations, portable=INGRESS_PORTABLE)
    except SpecError:
        return own
    name = values.get("group_name")
    return group_key_of(str(name)) if name else own


def ingress_members(key: Key, view: View, selection: IngressSelection) -> list[IngressMember]:
    """Every Ingress that is ours and lives under `key`."""
    kind, namespace, name = split_key(key)
    if kind == "Ingress":
        candidates = [i for i in [view.get("Ingress", namespace, name)] if i is not None]
    else:
        candidates = list(view.list("Ingress"))
    members: list[IngressMember] = []
    for ingress in candidates:
        class_name = ingress_class(ingress, view, selection)
        if class_name is not None and ingress_key(ingress, view, selection) == key:
            members.append(IngressMember(ingress=ingress, class_name=class_name))
    return members


def all_keys(view: View, selection: IngressSelection) -> list[Key]:
    """Every key the view's Services and Ingresses map to, ours or not: reconciling a key
    that is no longer ours is how its cloud resources get removed."""
    keys = {service_key(namespace_of(s), name_of(s)) for s in view.list("Service")}
    keys |= {ingress_key(i, view, selection) for i in view.list("Ingress")}
    return sorted(keys)
