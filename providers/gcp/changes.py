"""Building blocks of a plan: the phases in the design's order, refs, and change builders.

The builders for resources both load balancer kinds use (health checks, firewall rules,
labels) live here, so a Service and an Ingress describe and carry out a change the same way;
only the scope differs (`{"region": r}` for a Service, `{"collection": c}` for an Ingress).

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
from providers.gcp.match import FIREWALL_TARGETS

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


def labels_update(
    kind: str,
    resource: Mapping[str, Any],
    owner: str,
    *,
    labels: Mapping[str, str],
    diff: Mapping[str, Any],
    scope: Mapping[str, str],
) -> Change:
    """`setLabels` with the label fingerprint read while planning."""
    return change(
        Action.UPDATE,
        kind,
        str(resource["name"]),
        owner,
        reason="labels differ",
        diff={"labels": diff},
        params={
            **scope,
            "name": str(resource["name"]),
            "labels": dict(labels),
            "labelFingerprint": resource.get("labelFingerprint", ""),
        },
    )


def health_check_create(
    name: str,
    owner: str,
    *,
    body: Mapping[str, Any],
    description: str,
    diff: Mapping[str, Any],
    scope: Mapping[str, str],
) -> Change:
    return change(
        Action.CREATE,
        "health-check",
        name,
        owner,
        reason="does not exist",
        diff=diff,
        params={**scope, "body": {**body, "name": name, "description": description}},
    )


def health_check_update(
    current: Mapping[str, Any],
    owner: str,
    *,
    body: Mapping[str, Any],
    diff: Mapping[str, Any],
    scope: Mapping[str, str],
) -> Change:
    """A whole `update`, so that a change of type drops the old probe block."""
    name = str(current["name"])
    whole = {**body, "name": name, "description": current.get("description", "")}
    return change(
        Action.UPDATE,
        "health-check",
        name,
        owner,
        reason="health check differs",
        diff=diff,
        params={**scope, "name": name, "body": whole},
    )


def _untargeted(note: str) -> str:
    return f"; it applies to every VM of the network: {note}" if note else ""


def firewall_create(
    name: str, owner: str, *, body: Mapping[str, Any], description: str, untargeted: str = ""
) -> Change:
    """`untargeted` says why a rule meant for the nodes has no target (empty otherwise)."""
    diff: dict[str, Any] = {
        "sourceRanges": list(body["sourceRanges"]),
        "allowed": [f"{a['IPProtocol']}:{','.join(a['ports'])}" for a in body["allowed"]],
    }
    diff.update({f: list(body[f]) for f in FIREWALL_TARGETS if f in body})
    if untargeted:
        diff["target"] = "every VM of the network"
    return change(
        Action.CREATE,
        "firewall",
        name,
        owner,
        reason="does not exist" + _untargeted(untargeted),
        diff=diff,
        params={"body": {**body, "name": name, "description": description}},
    )


def firewall_update(
    current: Mapping[str, Any],
    owner: str,
    *,
    body: Mapping[str, Any],
    diff: Mapping[str, Any],
    untargeted: str = "",
) -> Change:
    """A patch of the fields that differ; a target to drop needs the whole rule (`update`),
    since a patch cannot clear a list through the SDK (empty lists are not sent)."""
    name = str(current["name"])
    params: dict[str, Any] = {"name": name}
    if any(f in diff and f not in body for f in FIREWALL_TARGETS):
        params["body"] = {**body, "name": name, "description": current.get("description", "")}
        params["whole"] = True
    else:
        params["body"] = {f: body[f] for f in diff if f in body}
        if "disabled" in diff:
            params["body"]["disabled"] = False
    return change(
        Action.UPDATE,
        "firewall",
        name,
        owner,
        reason="firewall differs: " + ", ".join(diff) + _untargeted(untargeted),
        diff=diff,
        params=params,
    )
