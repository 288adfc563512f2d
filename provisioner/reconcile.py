"""The one code path from a key to the cloud, shared by the controller and the one-shot CLI.

`reconcile` reads the cluster as it is now (through a read-only view), decides whether the key
is ours, translates, asks the provider for a plan and, unless told only to plan, applies it.
It remembers nothing between calls: a restart at any instant converges on the next call.
The caller decides what to do with the `Outcome` (write status and events, or print it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from providers.base import Plan, Provider, ProviderError, Status
from provisioner import keys
from provisioner.annotations import AnnotationSet, SpecError
from provisioner.model import Key, LoadBalancer, split_key
from provisioner.translate.group import GroupContext, build_ingress_group, seniority
from provisioner.translate.ingress_backends import BackendContext
from provisioner.translate.objects import name_of, namespace_of
from provisioner.translate.selection import service_is_ours
from provisioner.translate.service import ServiceContext, build_service

log = logging.getLogger(__name__)

Obj = Mapping[str, Any]


class ClusterView(Protocol):
    """Read-only access to the objects translation needs: the informer cache or manifests."""

    def get(self, kind: str, namespace: str, name: str) -> Obj | None: ...

    def list(self, kind: str, namespace: str | None = None) -> Sequence[Obj]: ...


@dataclass(frozen=True)
class Selection:
    """Which objects are ours (the `--load-balancer-class` family of flags).

    `ingress_annotations` is the provider's Ingress vocabulary: it names the group an
    Ingress joins, which decides the key it lives under.
    """

    load_balancer_class: str
    classless_service: Callable[[Mapping[str, str]], bool]
    ingress_controller: str = "provisioner.io/alb"
    legacy_ingress_classes: tuple[str, ...] = ()
    ingress_annotations: AnnotationSet = field(default_factory=AnnotationSet)


@dataclass(frozen=True)
class Event:
    """`member` is the Ingress (`Ingress/<ns>/<name>`) the event concerns; None: every
    object of the Outcome."""

    type: str  # Normal | Warning
    reason: str
    message: str
    member: Key | None = None


@dataclass
class Outcome:
    """What one reconcile found and did; `holds_resources` governs the finalizer."""

    key: Key
    ours: bool
    plan: Plan | None = None
    desired: LoadBalancer | None = None
    status: Status | None = None
    error: str | None = None
    error_kind: str = ""
    retryable: bool = False
    holds_resources: bool = True
    events: list[Event] = field(default_factory=list)
    members: tuple[Key, ...] = ()
    """The objects the result applies to: the Service, or every Ingress of the key (write
    status to each of them)."""
    member_errors: dict[Key, str] = field(default_factory=dict)
    """Members in error (frozen: the cloud keeps what they had); the rest was planned."""


@dataclass
class Desired:
    """What translation decided for one key; `error` set means: write nothing at all."""

    ours: bool
    desired: LoadBalancer | None = None
    members: tuple[Key, ...] = ()
    member_errors: dict[Key, str] = field(default_factory=dict)
    error: str | None = None


def desired_state(
    key: Key, view: ClusterView, provider: Provider, selection: Selection
) -> tuple[bool, LoadBalancer | None]:
    """(ours, desired). Not ours -> (False, None): whatever the key holds must go.

    Raises SpecError when the object is ours but invalid (for a group: when no member is
    valid).
    """
    result = desired_for(key, view, provider, selection)
    if result.error is not None:
        raise SpecError(result.error)
    return result.ours, result.desired


def desired_for(key: Key, view: ClusterView, provider: Provider, selection: Selection) -> Desired:
    """Like `desired_state`, keeping which members the result concerns and their errors."""
    kind, _, _ = split_key(key)
    if kind in ("Ingress", "IngressGroup"):
        return _ingress_state(key, view, provider, selection)
    if kind != "Service":
        return Desired(ours=False)
    try:
        ours, desired = _service_state(key, view, provider, selection)
    except SpecError as err:
        return Desired(ours=True, members=(key,), error=str(err))
    return Desired(ours=ours, desired=desired, members=(key,) if ours else ())


def _ingress_state(
    key: Key, view: ClusterView, provider: Provider, selection: Selection
) -> Desired:
    members = keys.ingress_members(key, view, selection)
    if not members:
        return Desired(ours=False)
    ordered = sorted(members, key=lambda m: seniority(m.ingress))
    refs = tuple(keys.ingress_key_of(namespace_of(m.ingress), name_of(m.ingress)) for m in ordered)
    try:
        params = keys.class_params(ordered[0].class_name, view, selection, provider=provider.name)
    except SpecError as err:
        return Desired(ours=True, members=refs, error=str(err))
    context = GroupContext(
        key=key,
        provider=provider.name,
        annotations=provider.ingress_annotations,
        backends=BackendContext(
            annotations=provider.ingress_annotations,
            services={(namespace_of(s), name_of(s)): s for s in view.list("Service")},
            nodes=view.list("Node"),
            endpoint_slices=view.list("EndpointSlice"),
            pods=view.list("Pod"),
        ),
        params=params,
    )
    result = build_ingress_group(members, context=context)
    errors = {f"Ingress/{ref}": str(err) for ref, err in result.errors.items()}
    if result.desired is None:
        if len(refs) == 1:
            return Desired(ours=True, members=refs, member_errors=errors, error=errors[refs[0]])
        message = f"every member of {key} is in error; nothing is changed until one is valid"
        return Desired(ours=True, members=refs, member_errors=errors, error=message)
    return Desired(ours=True, desired=result.desired, members=refs, member_errors=errors)


def _service_state(
    key: Key, view: ClusterView, provider: Provider, selection: Selection
) -> tuple[bool, LoadBalancer | None]:
    _, namespace, name = split_key(key)
    service = view.get("Service", namespace, name)
    if service is None or not service_is_ours(
        service,
        load_balancer_class=selection.load_balancer_class,
        classless=selection.classless_service,
    ):
        return False, None
    context = ServiceContext(
        provider=provider.name,
        annotations=provider.annotations,
        nodes=view.list("Node"),
        endpoint_slices=view.list("EndpointSlice", namespace),
        pods=view.list("Pod", namespace),
    )
    return True, build_service(service, context=context)


def reconcile(
    key: Key,
    view: ClusterView,
    provider: Provider,
    *,
    selection: Selection,
    dry_run: bool = False,
) -> Outcome:
    found = desired_for(key, view, provider, selection)
    member_events = [
        Event("Warning", "InvalidSpec", message, member=member)
        for member, message in sorted(found.member_errors.items())
    ]
    if found.error is not None:
        # Invalid: no cloud write at all, and the key keeps whatever it holds (finalizer too).
        return Outcome(
            key=key,
            ours=True,
            error=found.error,
            error_kind="InvalidSpec",
            events=member_events or [Event("Warning", "InvalidSpec", found.error)],
            members=found.members,
            member_errors=found.member_errors,
        )
    ours, desired = found.ours, found.desired
    outcome = Outcome(
        key=key,
        ours=ours,
        desired=desired,
        members=found.members,
        member_errors=found.member_errors,
        events=member_events,
    )
    try:
        plan = provider.plan(key, desired)
        outcome.plan = plan
        if dry_run:
            return outcome  # nothing changed, so nothing is known to be gone
        status = provider.apply(plan)
    except SpecError as err:
        outcome.error, outcome.error_kind = str(err), "InvalidSpec"
        outcome.events.append(Event("Warning", "InvalidSpec", str(err)))
        return outcome
    except ProviderError as err:
        outcome.error, outcome.error_kind = str(err), type(err).__name__
        outcome.retryable = err.retryable
        outcome.events.append(Event("Warning", "CloudError", f"{type(err).__name__}: {err}"))
        log.warning("reconcile failed", extra={"key": key, "error": str(err)})
        return outcome
    outcome.status = status
    outcome.holds_resources = status.holds_resources
    if desired is None:
        if plan.changes:
            outcome.events.append(Event("Normal", "Deleted", "cloud resources deleted"))
    elif plan.changes:
        outcome.events.append(
            Event("Normal", "Provisioned", f"applied {len(plan.changes)} change(s)")
        )
    return outcome
