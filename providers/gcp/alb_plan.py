"""From a desired Application Load Balancer and what the key owns to ordered changes.

Creation follows the dependencies: the firewall rule, health checks, the shared instance
groups (members and named ports), backend services, URL maps, the SSL policy and managed
certificate, target proxies, the address, forwarding rules. Then what is no longer wanted
goes in reverse: forwarding rules, proxies, certificates and policies they let go of, URL
maps, backend services, health checks, the address, the firewall rule, and instance
groups that no backend service uses any more. Everything in place is updated in place and
only when it differs: URL maps and backend services with the fingerprint read here (a stale
one is a `Conflict`: plan again), proxies through setUrlMap and setSslCertificates, rules
through setTarget and setLabels. So a no-op reconcile writes nothing, and adding one path is
one URL map update.

Frozen Ingresses keep their route rules in the URL map (found by the route id in each rule's
description) and the backend services and health checks those rules use, untouched.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from providers.base import Change
from providers.gcp import application as a
from providers.gcp import marks as m
from providers.gcp.alb_backend import (
    frozen_services,
    plan_backend_services,
    plan_firewall,
    plan_health_checks,
)
from providers.gcp.alb_context import AppContext, AppPhases, global_scope
from providers.gcp.alb_frontend import plan_address, plan_proxies, plan_rules, plan_url_maps
from providers.gcp.alb_observe import AppObserved
from providers.gcp.alb_tls import plan_managed_certificate, plan_ssl_policy
from providers.gcp.changes import delete
from providers.gcp.groups import plan_groups
from providers.gcp.network import path_of, zone_of_link
from providers.gcp.observe import Observed
from providers.gcp.planner import deletable_groups
from provisioner.model import Key


def plan_application(ctx: AppContext) -> tuple[tuple[Change, ...], dict[str, Any]]:
    phases = AppPhases()
    app = ctx.app
    kept_services = frozen_services(ctx)
    plan_firewall(ctx, phases, kept_services)
    hc_paths = plan_health_checks(ctx, phases, kept_services)
    named = {a.named_port(b.node_port): b.node_port for b in app.backends}
    group_paths, group_changes = plan_groups(
        app.groups,
        observed=ctx.observed.instance_groups,
        members=ctx.observed.members,
        marks=ctx.marks,
        project=ctx.project,
        network=app.network,
        named_ports=named,
    )
    for item in group_changes:
        phases.add(item)
    services = plan_backend_services(ctx, phases, hc_paths, group_paths, kept_services)
    map_paths = plan_url_maps(ctx, phases, services)
    policy = plan_ssl_policy(ctx, phases)
    managed = plan_managed_certificate(ctx, phases)
    proxy_paths = plan_proxies(ctx, phases, map_paths, policy=policy, managed=managed)
    ip, address_name = plan_address(ctx, phases)
    plan_rules(ctx, phases, proxy_paths, ip=ip, address_name=address_name)
    mine = {path_of(str(b.get("selfLink", ""))) for b in ctx.observed.of("backendServices")}
    used = {
        path_of(str(backend.get("group", "")))
        for service in ctx.observed.of("backendServices")
        for backend in service.get("backends") or []
    }
    for item in _deletable_groups_app(ctx, used - set(group_paths.values()), mine):
        phases.drop(item)
    summary = {
        "address": ip if isinstance(ip, str) else None,
        "address_name": address_name,
        "backend_services": {
            b.id: path_of(services[b.id]).rsplit("/", 1)[-1] for b in app.backends
        },
        "url_maps": sorted(path_of(p).rsplit("/", 1)[-1] for p in map_paths.values()),
    }
    return phases.changes(), summary


def _deletable_groups_app(ctx: AppContext, candidates: set[str], mine: set[str]) -> list[Change]:
    holder = Observed(instance_groups=ctx.observed.instance_groups)
    return deletable_groups(holder, candidates, users=ctx.users, mine=mine)


def plan_application_delete(
    marks: m.Marks, key: Key, observed: AppObserved, *, users: Mapping[str, set[str]]
) -> tuple[Change, ...]:
    """Everything the key owns, in reverse order of creation; then groups left unused."""
    phases = AppPhases()
    kinds: Sequence[tuple[str, str]] = (
        ("globalForwardingRules", "forwarding-rule"),
        ("targetHttpsProxies", "target-proxy"),
        ("targetHttpProxies", "target-proxy"),
        ("sslCertificates", "ssl-certificate"),
        ("sslPolicies", "ssl-policy"),
        ("urlMaps", "url-map"),
        ("backendServices", "backend-service"),
        ("healthChecks", "health-check"),
        ("globalAddresses", "address"),
    )
    for collection, kind in kinds:
        for item in sorted(observed.of(collection), key=lambda r: str(r["name"])):
            phases.drop(
                delete(kind, item, key, reason="no longer desired", scope=global_scope(collection))
            )
    for firewall in observed.of("firewalls"):
        phases.drop(delete("firewall", firewall, key, reason="no longer desired", scope={}))
    used = {
        path_of(str(b.get("group", "")))
        for s in observed.of("backendServices")
        for b in s.get("backends") or []
    }
    mine = {path_of(str(s.get("selfLink", ""))) for s in observed.of("backendServices")}
    holder = Observed(instance_groups=observed.instance_groups)
    for group in deletable_groups(holder, used, users=users, mine=mine):
        phases.drop(group)
    return phases.changes()


def zones_dropped(app: a.GcpApplication, observed: AppObserved) -> bool:
    """Whether this plan may leave one of our groups unused (so users must be read fully):
    the key's backend services use every wanted zone's group, so only a dropped zone can."""
    wanted = {g.zone for g in app.groups}
    return any(
        zone_of_link(str(b.get("group", ""))) not in wanted
        for s in observed.of("backendServices")
        for b in s.get("backends") or []
    )
