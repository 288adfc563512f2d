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
from provisioner.annotations import SpecError
from provisioner.model import Key, LoadBalancer, split_key
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
    """Which objects are ours (the `--load-balancer-class` family of flags)."""

    load_balancer_class: str
    classless_service: Callable[[Mapping[str, str]], bool]


@dataclass(frozen=True)
class Event:
    type: str  # Normal | Warning
    reason: str
    message: str


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


def desired_state(
    key: Key, view: ClusterView, provider: Provider, selection: Selection
) -> tuple[bool, LoadBalancer | None]:
    """(ours, desired). Not ours -> (False, None): whatever the key holds must go.

    Raises SpecError when the object is ours but invalid.
    """
    kind, namespace, name = split_key(key)
    if kind != "Service":
        return False, None
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
    try:
        ours, desired = desired_state(key, view, provider, selection)
    except SpecError as err:
        # Invalid: no cloud write at all, and the key keeps whatever it holds (finalizer too).
        return Outcome(
            key=key,
            ours=True,
            error=str(err),
            error_kind="InvalidSpec",
            events=[Event("Warning", "InvalidSpec", str(err))],
        )
    outcome = Outcome(key=key, ours=ours, desired=desired)
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
