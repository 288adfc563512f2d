"""The contract every cloud provider fulfils, the plan it returns, and the neutral errors.

The core talks to clouds only through `Provider`. A plan is data: the same `Plan` that
`apply` executes is what `provisioner plan` prints, so a user reads exactly what will happen.
Providers translate their SDK's errors into the hierarchy below so that the core decides
what to retry and what to report without knowing any SDK.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from enum import StrEnum
from importlib.metadata import entry_points
from typing import Any, Protocol, runtime_checkable

from provisioner.annotations import AnnotationSet, SpecError
from provisioner.model import Key, LoadBalancer

ENTRY_POINT_GROUP = "provisioner.providers"


class ProviderError(Exception):
    """Base of every error a provider raises; `retryable` tells the caller to back off."""

    retryable = False


class NotFound(ProviderError):
    pass


class Conflict(ProviderError):
    """Stale fingerprint, priority in use, resource in use: re-read and re-plan, never retry."""


class OwnershipConflict(Conflict):
    """A resource we would use carries someone else's marks, or none."""


class InUse(Conflict):
    pass


class Throttled(ProviderError):
    retryable = True


class Unavailable(ProviderError):
    """5xx answers and connection errors."""

    retryable = True


class CloudValidation(ProviderError):
    """The cloud refused a request as invalid: a fact about the input, not a transient fault."""


class InvalidSpec(SpecError, ProviderError):
    """Desired state the provider cannot express (a subnet that does not exist, a name too long).

    It is a `SpecError` too, so the caller reports it on the object like any annotation error.
    """


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


@dataclass(frozen=True)
class Change:
    """One step of a plan.

    `diff` says what differs (printable); `params` is what the provider needs to carry it out
    (JSON-serialisable too, so a printed plan hides nothing). `ref` names the resource so that
    later changes in the same plan can refer to one created earlier.
    """

    action: Action
    type: str
    name: str
    owner: Key
    replace: bool = False
    reason: str = ""
    diff: Mapping[str, Any] = field(default_factory=dict)
    params: Mapping[str, Any] = field(default_factory=dict)
    ref: str = ""

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "action": self.action.value,
            "type": self.type,
            "name": self.name,
            "owner": self.owner,
            "replace": self.replace,
        }
        if self.reason:
            body["reason"] = self.reason
        body.update(self.diff)
        return body


def resolve_refs(value: Any, resolved: Mapping[str, Any]) -> Any:
    """`{"ref": name}` anywhere in change params -> the id an earlier change produced."""
    if isinstance(value, Mapping):
        if set(value) == {"ref"}:
            name = str(value["ref"])
            if name not in resolved:
                raise ProviderError(f"plan refers to {name}, which no earlier change created")
            return resolved[name]
        return {k: resolve_refs(v, resolved) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_refs(v, resolved) for v in value]
    return value


@dataclass(frozen=True)
class Plan:
    """Ordered changes for one key, plus what the provider observed to produce them."""

    key: Key
    changes: tuple[Change, ...]
    deleting: bool = False
    observed: Mapping[str, Any] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.changes


@dataclass(frozen=True)
class Status:
    """What Kubernetes should show: addresses, and whether the key still holds resources."""

    hostnames: tuple[str, ...] = ()
    ips: tuple[str, ...] = ()
    holds_resources: bool = True
    detail: Mapping[str, Any] = field(default_factory=dict)


@runtime_checkable
class Provider(Protocol):
    name: str
    annotations: AnnotationSet
    """Native aliases and provider settings on Services."""
    ingress_annotations: AnnotationSet
    """The same on Ingresses: clouds name their L7 settings differently from their L4 ones."""

    def plan(self, key: Key, desired: LoadBalancer | None) -> Plan: ...

    def apply(self, plan: Plan) -> Status: ...

    def owned(self) -> set[Key]: ...

    def wait_ready(self, status: Status, *, timeout: float) -> Status:
        """Block until the load balancer in `status` serves traffic; raise on timeout."""
        ...

    def call_counts(self) -> Mapping[tuple[str, str, str], int]:
        """Every cloud call attempted so far, by (service, operation, outcome)."""
        ...


@dataclass(frozen=True)
class Settings:
    """What every provider is told about the cluster, whatever the cloud."""

    cluster_name: str
    load_balancer_class: str
    ingress_controller: str = "provisioner.io/alb"
    legacy_ingress_classes: tuple[str, ...] = ()


class ProviderFactory(Protocol):
    """Registered under the `provisioner.providers` entry point group."""

    name: str
    annotations: AnnotationSet
    ingress_annotations: AnnotationSet
    default_legacy_ingress_classes: tuple[str, ...]

    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def create(self, settings: Settings, args: argparse.Namespace) -> Provider: ...

    def selects_classless_service(self, annotations: Mapping[str, str]) -> bool:
        """Whether a Service without `loadBalancerClass` is ours on this cloud."""
        ...

    def demo_cloud(
        self, nodes: Sequence[Mapping[str, Any]], *, cluster_name: str
    ) -> AbstractContextManager[Any]:
        """A local fake of this cloud seeded to match `nodes`, for `provisioner demo`.

        The value it yields has `env` (variables pointing the SDK at the fake), `nodes` (the
        Nodes rewritten to match the fake's instances), `summary` (lines to show) and
        `replacements` (values in the example manifests that stand for ids only the fake can
        make, such as certificate ARNs, with what to use instead).
        """
        ...


def available() -> Sequence[str]:
    return sorted(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))


def load(name: str) -> ProviderFactory:
    """Find a provider by name among the installed entry points."""
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == name:
            factory = ep.load()
            instance: ProviderFactory = factory() if isinstance(factory, type) else factory
            return instance
    raise KeyError(name)
