"""The back half of an Application Load Balancer plan: firewall, health checks, backend
services (instance groups are planned by `groups`, shared with passthrough load balancers).

Backend services are patched with the fingerprint read while planning, and only the fields
that differ; those the frozen Ingresses' live rules use are kept as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers.base import Action
from providers.gcp import application as a
from providers.gcp.alb_context import AppContext, AppPhases, desc, first, global_scope, stale
from providers.gcp.changes import (
    change,
    delete,
    firewall_create,
    firewall_update,
    health_check_create,
    health_check_update,
)
from providers.gcp.match import firewall_diff, health_check_diff
from providers.gcp.network import global_path, path_of
from providers.gcp.url_map import observed_hosts, owner_of, services_of

BACKEND_FIELDS = ("protocol", "portName", "timeoutSec", "sessionAffinity", "enableCDN")


def _kept_ports(ctx: AppContext, kept_services: set[str]) -> set[str]:
    """Node ports the frozen Ingresses' kept backend services still reach."""
    ports: set[str] = set()
    for item in ctx.observed.of("backendServices"):
        if path_of(str(item.get("selfLink", ""))) in kept_services:
            name = str(item.get("portName", ""))
            if name.startswith("port-") and name[5:].isdigit():
                ports.add(name[5:])
    return ports


def plan_firewall(ctx: AppContext, phases: AppPhases, kept_services: set[str]) -> None:
    app, key = ctx.app, ctx.app.key
    found = ctx.observed.by_role("firewalls")
    current = first(found, a.FIREWALL)
    if current is not None and path_of(str(current.get("network", ""))) != app.network:
        current = None
    body = dict(app.firewall_body)
    extra = _kept_ports(ctx, kept_services)
    if extra:
        ports = sorted({*body["allowed"][0]["ports"], *extra}, key=int)
        body["allowed"] = [{"IPProtocol": "tcp", "ports": ports}]
    untargeted = app.firewall_untargeted
    if current is None:
        phases.add(
            firewall_create(
                app.firewall_name,
                key,
                body=body,
                description=ctx.marks.description(key, a.FIREWALL),
                untargeted=untargeted,
            )
        )
        keep: set[str] = set()
    else:
        keep = {str(current["name"])}
        diff = firewall_diff(body, current)
        if diff:
            phases.add(firewall_update(current, key, body=body, diff=diff, untargeted=untargeted))
    for item in ctx.observed.of("firewalls"):
        if str(item.get("name")) not in keep:
            phases.drop(delete("firewall", item, key, reason="not used any more", scope={}))


def frozen_services(ctx: AppContext) -> set[str]:
    """Backend service paths the frozen Ingresses' live rules use: kept as they are."""
    kept: set[str] = set()
    if not ctx.app.frozen:
        return kept
    for url_map in ctx.observed.of("urlMaps"):
        for host in observed_hosts(url_map):
            for rule in host.rules:
                if owner_of(rule) in ctx.app.frozen:
                    kept |= {path_of(s) for s in services_of(rule)}
    return kept


def plan_health_checks(
    ctx: AppContext, phases: AppPhases, kept_services: set[str]
) -> dict[str, str]:
    key, collection = ctx.app.key, "healthChecks"
    found = ctx.observed.by_role(collection)
    paths: dict[str, str] = {}
    keep: set[str] = set()
    for item in ctx.observed.of("backendServices"):
        if path_of(str(item.get("selfLink", ""))) in kept_services:
            keep |= {path_of(str(h)).rsplit("/", 1)[-1] for h in item.get("healthChecks") or []}
    for backend in ctx.app.backends:
        role = a.health_check_role(backend.id)
        body = dict(backend.health_check_body)
        current = first(found, role)
        scope = global_scope(collection)
        if current is None:
            name = backend.health_check_name
            phases.add(
                health_check_create(
                    name,
                    key,
                    body=body,
                    description=ctx.marks.description(key, role),
                    diff={"backend": backend.id, "protocol": body["type"]},
                    scope=scope,
                )
            )
        else:
            name = str(current["name"])
            diff = health_check_diff(body, current)
            if diff:
                phases.add(health_check_update(current, key, body=body, diff=diff, scope=scope))
        keep.add(name)
        paths[backend.id] = global_path(ctx.project, collection, name)
    stale(ctx, phases, "health-check", collection, keep)
    return paths


def _backend_diff(desired: Mapping[str, Any], observed: Mapping[str, Any]) -> dict[str, Any]:
    diff: dict[str, Any] = {}
    for name in BACKEND_FIELDS:
        if desired.get(name) != observed.get(name):
            diff[name] = [observed.get(name), desired.get(name)]
    draining = (observed.get("connectionDraining") or {}).get("drainingTimeoutSec", 0)
    if draining != desired["connectionDraining"]["drainingTimeoutSec"]:
        diff["connectionDraining"] = [draining, desired["connectionDraining"]["drainingTimeoutSec"]]
    checks = sorted(path_of(str(c)) for c in observed.get("healthChecks") or [])
    if checks != sorted(desired["healthChecks"]):
        diff["healthChecks"] = [checks, sorted(desired["healthChecks"])]
    have = sorted(
        (path_of(str(b.get("group"))), str(b.get("balancingMode")))
        for b in observed.get("backends") or []
    )
    want = sorted((b["group"], b["balancingMode"]) for b in desired["backends"])
    if have != want:
        diff["backends"] = [
            ["/".join(g.split("/")[3::2]) for g, _ in have],
            ["/".join(g.split("/")[3::2]) for g, _ in want],
        ]
    return diff


def plan_backend_services(
    ctx: AppContext,
    phases: AppPhases,
    hc_paths: Mapping[str, str],
    group_paths: Mapping[str, str],
    kept_services: set[str],
) -> dict[str, str]:
    key, collection = ctx.app.key, "backendServices"
    found = ctx.observed.by_role(collection)
    paths: dict[str, str] = {}
    keep = {
        str(s["name"])
        for s in ctx.observed.of(collection)
        if path_of(str(s.get("selfLink", ""))) in kept_services
    }
    groups = [
        {"group": group_paths[g.zone], "balancingMode": "UTILIZATION"} for g in ctx.app.groups
    ]
    for backend in ctx.app.backends:
        role = a.backend_service_role(backend.id)
        body = {**backend.body, "healthChecks": [hc_paths[backend.id]], "backends": groups}
        current = first(found, role)
        if current is not None and current.get("loadBalancingScheme") != a.SCHEME:
            current = None
        if current is None:
            name = backend.name
            phases.add(
                change(
                    Action.CREATE,
                    "backend-service",
                    name,
                    key,
                    reason="does not exist",
                    diff={
                        "backend": backend.id,
                        "protocol": body["protocol"],
                        "portName": body["portName"],
                    },
                    params={
                        **global_scope(collection),
                        "body": {**body, "name": name, **desc(ctx, role)},
                    },
                )
            )
        else:
            name = str(current["name"])
            diff = _backend_diff(body, current)
            if diff:
                patch: dict[str, Any] = {"fingerprint": current.get("fingerprint", "")}
                for field_name in diff:
                    patch[field_name] = body[field_name]
                phases.add(
                    change(
                        Action.UPDATE,
                        "backend-service",
                        name,
                        key,
                        reason="backend service differs: " + ", ".join(diff),
                        diff=diff,
                        params={**global_scope(collection), "name": name, "body": patch},
                    )
                )
        keep.add(name)
        paths[backend.id] = global_path(ctx.project, collection, name)
    stale(ctx, phases, "backend-service", collection, keep)
    return paths
