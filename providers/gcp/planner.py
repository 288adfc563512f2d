"""From desired and observed to an ordered list of changes, without calling GCP.

The order is the design's, in GCP terms: the address (its IP is needed by the firewall and
the forwarding rules), the health check, the shared instance groups and their members, the
backend services, the firewall rules, the forwarding rules (a rule that must make room on the
same address and ports is deleted just before), then deletion of the rest in reverse:
forwarding rules, backend services, health checks, firewall rules, addresses, and the
instance groups no backend service uses any more.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from providers.base import Action, Change
from providers.gcp import marks as m
from providers.gcp import naming
from providers.gcp.changes import (
    ADDRESS_REF,
    Phases,
    change,
    delete,
    firewall_create,
    firewall_update,
    health_check_create,
    health_check_update,
    labels_update,
    ref,
)
from providers.gcp.desired import EXTERNAL, INTERNAL, GcpService
from providers.gcp.groups import plan_groups
from providers.gcp.match import (
    RuleWanted,
    address_replacement,
    backend_service_diff,
    backend_service_replacement,
    firewall_diff,
    firewall_replacement,
    health_check_diff,
    label_diff,
    plan_rules,
)
from providers.gcp.network import path_of, regional_path, zone_of_link
from providers.gcp.observe import Observed, Resource


@dataclass(frozen=True)
class Context:
    marks: m.Marks
    project: str
    region: str
    service: GcpService
    observed: Observed
    users: Mapping[str, set[str]]
    """Instance group path -> backend services using it (every key's, and global ones)."""


def _region(ctx_region: str) -> dict[str, str]:
    return {"region": ctx_region}


def _by_role(
    items: Sequence[Resource], role: str, name: str
) -> tuple[list[Resource], list[Resource]]:
    """Resources of a role, the one named `name` first; and all others."""
    same = sorted(
        (r for r in items if m.role(r) == role),
        key=lambda r: (r.get("name") != name, r.get("name")),
    )
    rest = [r for r in items if m.role(r) != role]
    return same, rest


def _shown(value: Any) -> Any:
    if isinstance(value, Mapping) and set(value) == {"ref"}:
        return "(new address)"
    if isinstance(value, list):
        return [_shown(v) for v in value]
    return value


def plan_desired(ctx: Context) -> tuple[tuple[Change, ...], dict[str, Any]]:
    svc, key, obs = ctx.service, ctx.service.key, ctx.observed
    phases = Phases()
    region = _region(ctx.region)

    # Address: reserved, so that the IP survives forwarding rules being replaced.
    candidates, _ = _by_role(obs.addresses, m.ADDRESS, svc.address_name)
    kept_address = next(
        (a for a in candidates if not address_replacement(svc.address_body, a)), None
    )
    stale_addresses = [a for a in obs.addresses if a is not kept_address]
    labels = ctx.marks.labels(key, svc.labels)
    ip: Any
    if kept_address is None:
        ip = ref(ADDRESS_REF)
        reason = "does not exist"
        if candidates:
            reason = "; ".join(address_replacement(svc.address_body, candidates[0]))
        phases.address.append(
            change(
                Action.CREATE,
                "address",
                svc.address_name,
                key,
                reason=reason,
                replace=bool(candidates),
                diff={"addressType": svc.scheme},
                params={
                    **region,
                    "body": {
                        **svc.address_body,
                        "name": svc.address_name,
                        "description": ctx.marks.description(key, m.ADDRESS),
                        "labels": labels,
                    },
                },
                ref_name=ADDRESS_REF,
            )
        )
        address_name = svc.address_name
    else:
        ip = str(kept_address["address"])
        address_name = str(kept_address["name"])
        _labels(phases.address, "address", kept_address, labels, key, region)

    hc_path = _plan_health_check(ctx, phases)
    group_paths = _plan_groups(ctx, phases)
    bs_paths = _plan_backend_services(ctx, phases, hc_path=hc_path, group_paths=group_paths)
    _plan_firewalls(ctx, phases, ip=ip)
    rule_names = _plan_rules(
        ctx,
        phases,
        ip=ip,
        address_name=address_name,
        bs_paths=bs_paths,
        labels=labels,
        address_kept=kept_address is not None,
    )
    for address in stale_addresses:
        phases.stale_addresses.append(
            delete("address", address, key, reason="replaced", scope=region, replace=True)
        )
    phases.unused_groups += unused_groups(ctx, kept_groups=set(group_paths.values()))
    summary = {
        "address": ip if isinstance(ip, str) else None,
        "address_name": address_name,
        "backend_services": {p: path_of(v).rsplit("/", 1)[-1] for p, v in bs_paths.items()},
        "forwarding_rules": sorted(rule_names),
    }
    return phases.changes(), summary


def _labels(
    out: list[Change],
    kind: str,
    resource: Mapping[str, Any],
    labels: Mapping[str, str],
    key: str,
    region: Mapping[str, str],
) -> None:
    diff = label_diff(labels, resource.get("labels"))
    if diff:
        out.append(labels_update(kind, resource, key, labels=labels, diff=diff, scope=region))


def _plan_health_check(ctx: Context, phases: Phases) -> str:
    svc, key, region = ctx.service, ctx.service.key, _region(ctx.region)
    candidates, _ = _by_role(ctx.observed.health_checks, m.HEALTH_CHECK, svc.health_check_name)
    body = dict(svc.health_check_body)
    if not candidates:
        name = svc.health_check_name
        phases.health_check.append(
            health_check_create(
                name,
                key,
                body=body,
                description=ctx.marks.description(key, m.HEALTH_CHECK),
                diff={"protocol": body["type"], "port": _port(body)},
                scope=region,
            )
        )
    else:
        kept = candidates[0]
        name = str(kept["name"])
        diff = health_check_diff(body, kept)
        if diff:
            phases.health_check.append(
                health_check_update(kept, key, body=body, diff=diff, scope=region)
            )
    for stale in [h for h in ctx.observed.health_checks if h.get("name") != name]:
        phases.stale_health_checks.append(
            delete("health-check", stale, key, reason="not used any more", scope=region)
        )
    return regional_path(ctx.project, ctx.region, "healthChecks", name)


def _port(body: Mapping[str, Any]) -> Any:
    for name in ("httpHealthCheck", "httpsHealthCheck", "tcpHealthCheck"):
        if name in body:
            return body[name].get("port")
    return None


def _plan_groups(ctx: Context, phases: Phases) -> dict[str, str]:
    """The zone's shared group: created if missing, its members made the cluster's nodes."""
    paths, changes = plan_groups(
        ctx.service.groups,
        observed=ctx.observed.instance_groups,
        members=ctx.observed.members,
        marks=ctx.marks,
        project=ctx.project,
        network=ctx.service.network,
    )
    phases.instance_groups += changes
    return paths


def _plan_backend_services(
    ctx: Context, phases: Phases, *, hc_path: str, group_paths: Mapping[str, str]
) -> dict[str, str]:
    svc, key, region = ctx.service, ctx.service.key, _region(ctx.region)
    paths: dict[str, str] = {}
    kept: list[Resource] = []
    for spec in svc.backend_services:
        body = {
            **spec.body,
            "healthChecks": [hc_path],
            "backends": [
                {"group": group_paths[g.zone], "balancingMode": "CONNECTION"} for g in svc.groups
            ],
        }
        candidates, _ = _by_role(
            ctx.observed.backend_services, m.backend_service_role(spec.protocol), spec.name
        )
        current = next((b for b in candidates if not backend_service_replacement(body, b)), None)
        if current is None:
            reasons = backend_service_replacement(body, candidates[0]) if candidates else []
            phases.backend_services.append(
                change(
                    Action.CREATE,
                    "backend-service",
                    spec.name,
                    key,
                    reason="; ".join(reasons) or "does not exist",
                    replace=bool(candidates),
                    diff={
                        "scheme": body["loadBalancingScheme"],
                        "protocol": spec.protocol,
                        "groups": ["/".join(b["group"].split("/")[3::2]) for b in body["backends"]],
                    },
                    params={
                        **region,
                        "body": {
                            **body,
                            "name": spec.name,
                            "description": ctx.marks.description(
                                key, m.backend_service_role(spec.protocol)
                            ),
                        },
                    },
                )
            )
            paths[spec.protocol] = spec.path
            continue
        kept.append(current)
        name = str(current["name"])
        paths[spec.protocol] = regional_path(ctx.project, ctx.region, "backendServices", name)
        diff = backend_service_diff(body, current)
        if diff:
            patch: dict[str, Any] = {"fingerprint": current.get("fingerprint", "")}
            for field in diff:
                source = "backends" if field == "balancingMode" else field
                patch[source] = body[source]
            phases.backend_services.append(
                change(
                    Action.UPDATE,
                    "backend-service",
                    name,
                    key,
                    reason="backend service differs: " + ", ".join(diff),
                    diff=diff,
                    params={**region, "name": name, "body": patch},
                )
            )
    for stale in ctx.observed.backend_services:
        if not any(stale is k for k in kept):
            phases.stale_backend_services.append(
                delete("backend-service", stale, key, reason="not used any more", scope=region)
            )
    return paths


def _plan_firewalls(ctx: Context, phases: Phases, *, ip: Any) -> None:
    svc, key = ctx.service, ctx.service.key
    kept: list[Resource] = []
    for spec in svc.firewalls:
        body = {**spec.body, "destinationRanges": [ip]}
        candidates, _ = _by_role(ctx.observed.firewalls, spec.role, spec.name)
        current = next((f for f in candidates if not firewall_replacement(body, f)), None)
        if current is None:
            description = ctx.marks.description(key, spec.role)
            phases.firewalls.append(
                firewall_create(spec.name, key, body=body, description=description)
            )
            continue
        kept.append(current)
        comparable = {
            **body,
            "destinationRanges": [ip] if isinstance(ip, str) else ["(new address)"],
        }
        diff = firewall_diff(comparable, current)
        if diff:
            phases.firewalls.append(firewall_update(current, key, body=body, diff=diff))
    for stale in ctx.observed.firewalls:
        if not any(stale is k for k in kept):
            phases.stale_firewalls.append(
                delete("firewall", stale, key, reason="not used any more", scope={})
            )


def _plan_rules(
    ctx: Context,
    phases: Phases,
    *,
    ip: Any,
    address_name: str,
    bs_paths: Mapping[str, str],
    labels: Mapping[str, str],
    address_kept: bool,
) -> list[str]:
    svc, key, region = ctx.service, ctx.service.key, _region(ctx.region)
    wanted = {
        protocol: RuleWanted(
            protocol=protocol,
            address=ip if isinstance(ip, str) else None,
            backend_service=bs_paths[protocol],
            scheme=svc.scheme,
            subnetwork=svc.subnetwork,
            network=svc.network if svc.scheme == INTERNAL else None,
        )
        for protocol in svc.ports
    }
    observed = [
        r for r in ctx.observed.forwarding_rules if m.role(r).startswith("forwarding-rule:")
    ]
    result = plan_rules(svc.ports, observed, wanted)
    names: list[str] = []
    for rule in result.keep:
        names.append(str(rule["name"]))
        _labels(phases.rules, "forwarding-rule", rule, labels, key, region)
        if (
            svc.scheme == INTERNAL
            and bool(rule.get("allowGlobalAccess", False)) != svc.allow_global_access
        ):
            phases.rules.append(
                change(
                    Action.UPDATE,
                    "forwarding-rule",
                    str(rule["name"]),
                    key,
                    reason="global access differs",
                    diff={
                        "allowGlobalAccess": [
                            bool(rule.get("allowGlobalAccess")),
                            svc.allow_global_access,
                        ]
                    },
                    params={
                        **region,
                        "name": str(rule["name"]),
                        "body": {"allowGlobalAccess": svc.allow_global_access},
                    },
                )
            )
    replacing = bool(result.delete) and bool(result.create)
    for rule, reason in result.delete:
        item = delete("forwarding-rule", rule, key, reason=reason, scope=region, replace=replacing)
        (phases.rules_first if address_kept else phases.stale_rules).append(item)
    for protocol, ports in result.create:
        bs_name = bs_paths[protocol].rsplit("/", 1)[-1]
        name = naming.forwarding_rule_name(
            key,
            cluster=ctx.marks.cluster,
            protocol=protocol,
            ports=ports,
            address=address_name,
            backend_service=bs_name,
        )
        names.append(name)
        body: dict[str, Any] = {
            "name": name,
            "description": ctx.marks.description(key, m.forwarding_rule_role(protocol)),
            "labels": dict(labels),
            "IPAddress": ip,
            "IPProtocol": protocol,
            "ports": [str(p) for p in ports],
            "loadBalancingScheme": svc.scheme,
            "backendService": bs_paths[protocol],
        }
        if svc.scheme == EXTERNAL:
            body["networkTier"] = "PREMIUM"
        else:
            body["network"] = svc.network
            body["subnetwork"] = svc.subnetwork
            if svc.allow_global_access:
                body["allowGlobalAccess"] = True
        phases.rules.append(
            change(
                Action.CREATE,
                "forwarding-rule",
                name,
                key,
                reason="ports are not served yet",
                replace=replacing,
                diff={
                    "protocol": protocol,
                    "ports": [str(p) for p in ports],
                    "address": _shown(ip),
                },
                params={**region, "body": body},
            )
        )
    return names


def unused_groups(ctx: Context, *, kept_groups: set[str]) -> list[Change]:
    """Our instance groups this key stops using that no other backend service uses."""
    mine = {path_of(str(b.get("selfLink", ""))) for b in ctx.observed.backend_services}
    dropped = {
        path_of(str(backend.get("group", "")))
        for service in ctx.observed.backend_services
        for backend in service.get("backends") or []
    }
    return deletable_groups(ctx.observed, dropped - kept_groups, users=ctx.users, mine=mine)


def deletable_groups(
    observed: Observed, candidates: set[str], *, users: Mapping[str, set[str]], mine: set[str]
) -> list[Change]:
    """Candidates whose users, once this key's backend services let go, are none."""
    out: list[Change] = []
    for group in sorted(observed.instance_groups, key=lambda g: str(g.get("selfLink"))):
        path = path_of(str(group.get("selfLink", "")))
        if path not in candidates or users.get(path, set()) - mine:
            continue
        zone = zone_of_link(str(group.get("zone", "")))
        out.append(
            delete(
                "instance-group",
                group,
                m.group_key(zone),
                reason="no backend service uses it any more",
                scope={"zone": zone},
            )
        )
    return out


def plan_delete(
    marks: m.Marks, key: str, observed: Observed, *, region: str, users: Mapping[str, set[str]]
) -> tuple[Change, ...]:
    """Everything the key owns, in reverse order of creation; then groups left unused."""
    scope = _region(region)
    changes: list[Change] = []
    for rule in sorted(observed.forwarding_rules, key=lambda r: str(r["name"])):
        changes.append(
            delete("forwarding-rule", rule, key, reason="no longer desired", scope=scope)
        )
    for service in observed.backend_services:
        changes.append(
            delete("backend-service", service, key, reason="no longer desired", scope=scope)
        )
    for check in observed.health_checks:
        changes.append(delete("health-check", check, key, reason="no longer desired", scope=scope))
    for firewall in observed.firewalls:
        changes.append(delete("firewall", firewall, key, reason="no longer desired", scope={}))
    for address in observed.addresses:
        changes.append(delete("address", address, key, reason="no longer desired", scope=scope))
    zone = m.zone_of_group_key(key)
    if zone is not None:
        candidates = {
            path_of(str(g.get("selfLink", "")))
            for g in observed.instance_groups
            if zone_of_link(str(g.get("zone", ""))) == zone
        }
    else:
        candidates = {
            path_of(str(b.get("group", "")))
            for s in observed.backend_services
            for b in s.get("backends") or []
        }
    mine = {path_of(str(s.get("selfLink", ""))) for s in observed.backend_services}
    changes += deletable_groups(observed, candidates, users=users, mine=mine)
    return tuple(changes)
