"""What an Application Load Balancer plan is built from, and the functions its halves share.

`AppPhases` holds changes by resource type and returns them in dependency order: creates
and updates first (firewall, health checks, instance groups, backend services, URL maps,
SSL policy and certificate, proxies, address, forwarding rules), then deletes in reverse, so
a replaced certificate goes only after the proxy let go of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from providers.base import Change
from providers.gcp import application as a
from providers.gcp import marks as m
from providers.gcp.alb_observe import AppObserved
from providers.gcp.changes import delete
from providers.gcp.network import path_of

Resource = dict[str, Any]


@dataclass
class AppContext:
    marks: m.Marks
    project: str
    app: a.GcpApplication
    observed: AppObserved
    users: Mapping[str, set[str]]
    static_address: Resource | None = None
    certificates: Mapping[str, str] = field(default_factory=dict)
    """Certificate name -> path, of the certificates the proxies must carry."""


@dataclass
class AppPhases:
    create: dict[str, list[Change]] = field(default_factory=dict)
    stale: dict[str, list[Change]] = field(default_factory=dict)

    CREATE_ORDER = (
        "firewall",
        "health-check",
        "instance-group",
        "backend-service",
        "url-map",
        "ssl-policy",
        "ssl-certificate",
        "target-proxy",
        "address",
        "forwarding-rule",
    )
    STALE_ORDER = (
        "forwarding-rule",
        "target-proxy",
        "ssl-certificate",
        "ssl-policy",
        "url-map",
        "backend-service",
        "health-check",
        "address",
        "firewall",
        "instance-group",
    )

    def add(self, item: Change) -> None:
        self.create.setdefault(item.type, []).append(item)

    def drop(self, item: Change) -> None:
        self.stale.setdefault(item.type, []).append(item)

    def changes(self) -> tuple[Change, ...]:
        out = [c for kind in self.CREATE_ORDER for c in self.create.get(kind, [])]
        out += [c for kind in self.STALE_ORDER for c in self.stale.get(kind, [])]
        return tuple(out)


def global_scope(collection: str) -> dict[str, str]:
    return {"collection": collection}


def normal(value: Any) -> Any:
    """Links compared by path; everything else as is."""
    if isinstance(value, str) and "projects/" in value:
        return path_of(value)
    if isinstance(value, Mapping):
        return {k: normal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normal(v) for v in value]
    return value


def differs(desired: Any, observed: Any) -> bool:
    """Whether the observed value lacks what we set (fields the API adds are ignored)."""
    if isinstance(desired, Mapping):
        if not isinstance(observed, Mapping):
            return True
        return any(differs(v, observed.get(k)) for k, v in desired.items())
    if isinstance(desired, list):
        if not isinstance(observed, list) or len(desired) != len(observed):
            return True
        return any(differs(d, o) for d, o in zip(desired, observed, strict=True))
    if isinstance(desired, float) and isinstance(observed, int | float):
        return float(observed) != desired
    return bool(normal(desired) != normal(observed))


def first(found: Mapping[str, list[Resource]], role: str) -> Resource | None:
    items = found.get(role) or []
    return items[0] if items else None


def stale(ctx: AppContext, phases: AppPhases, kind: str, collection: str, keep: set[str]) -> None:
    for item in ctx.observed.of(collection):
        if str(item.get("name")) not in keep:
            phases.drop(
                delete(
                    kind,
                    item,
                    ctx.app.key,
                    reason="not used any more",
                    scope=global_scope(collection),
                )
            )


def desc(ctx: AppContext, role: str) -> dict[str, str]:
    return {"description": ctx.marks.description(ctx.app.key, role)}
