"""Building blocks of a plan: the phases in the design's order, refs, and change builders.

Plans are data: every change carries JSON-serialisable `diff` (what differs, printed) and
`params` (the REST body and identifiers apply needs). Links between resources are partial
paths computed from the names we choose, so only one value is unknown until apply: the IP of
an address created in the same plan, written `{"ref": "address"}` and substituted by apply.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from providers.base import Action, Change

ADDRESS_REF = "address"


def ref(name: str) -> dict[str, str]:
    return {"ref": name}


@dataclass
class Phases:
    """Changes grouped by the design's order; `changes()` concatenates them."""

    address: list[Change] = field(default_factory=list)
    health_check: list[Change] = field(default_factory=list)
    instance_groups: list[Change] = field(default_factory=list)
    backend_services: list[Change] = field(default_factory=list)
    firewalls: list[Change] = field(default_factory=list)
    rules_first: list[Change] = field(default_factory=list)
    """Forwarding rules that must go before their replacements (same address and ports)."""
    rules: list[Change] = field(default_factory=list)
    stale_rules: list[Change] = field(default_factory=list)
    stale_backend_services: list[Change] = field(default_factory=list)
    stale_health_checks: list[Change] = field(default_factory=list)
    stale_firewalls: list[Change] = field(default_factory=list)
    stale_addresses: list[Change] = field(default_factory=list)
    unused_groups: list[Change] = field(default_factory=list)

    def changes(self) -> tuple[Change, ...]:
        return (
            *self.address,
            *self.health_check,
            *self.instance_groups,
            *self.backend_services,
            *self.firewalls,
            *self.rules_first,
            *self.rules,
            *self.stale_rules,
            *self.stale_backend_services,
            *self.stale_health_checks,
            *self.stale_firewalls,
            *self.stale_addresses,
            *self.unused_groups,
        )


def change(
    action: Action,
    kind: str,
    name: str,
    owner: str,
    *,
    reason: str,
    diff: Mapping[str, Any] | None = None,
    params: Mapping[str, Any] | None = None,
    replace: bool = False,
    ref_name: str = "",
) -> Change:
    return Change(
        action=action,
        type=kind,
        name=name,
        owner=owner,
        replace=replace,
        reason=reason,
        diff=dict(diff or {}),
        params=dict(params or {}),
        ref=ref_name,
    )


def delete(
    kind: str,
    resource: Mapping[str, Any],
    owner: str,
    *,
    reason: str,
    scope: Mapping[str, str],
    replace: bool = False,
) -> Change:
    """A delete of an observed resource; `scope` is its region or zone (or nothing: global)."""
    return change(
        Action.DELETE,
        kind,
        str(resource["name"]),
        owner,
        reason=reason,
        replace=replace,
        params={"name": str(resource["name"]), **scope},
    )
