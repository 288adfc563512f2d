"""The front half of an Application Load Balancer plan: URL maps, target proxies, the
address and the forwarding rules.

A URL map is written whole (`update` with the fingerprint) when what we set differs; proxies
change through setUrlMap, setSslCertificates and setSslPolicy, forwarding rules through
setTarget and setLabels; a rule whose address or port changes is replaced.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers.base import Action, InvalidSpec
from providers.gcp import application as a
from providers.gcp.alb_context import (
    AppContext,
    AppPhases,
    desc,
    differs,
    first,
    global_scope,
    stale,
)
from providers.gcp.changes import ADDRESS_REF, change, delete, labels_update, ref
from providers.gcp.match import label_diff
from providers.gcp.naming import application_name
from providers.gcp.network import global_path, path_of
from providers.gcp.url_map import (
    Unexpressible,
    host_rules,
    keep_frozen,
    observed_hosts,
    url_map_body,
)


def plan_url_maps(
    ctx: AppContext, phases: AppPhases, services: Mapping[str, str]
) -> dict[str, str]:
    key, collection = ctx.app.key, "urlMaps"
    found = ctx.observed.by_role(collection)
    frozen_hosts = [
        host for url_map in ctx.observed.of(collection) for host in observed_hosts(url_map)
    ]
    paths: dict[str, str] = {}
    keep: set[str] = set()
    for spec in ctx.app.url_maps:
        current = first(found, spec.role)
        try:
            hosts = host_rules(spec.routes, spec.default, services)
            previous = observed_hosts(current) if current is not None else frozen_hosts
            hosts = keep_frozen(hosts, previous, ctx.app.frozen)
            body = url_map_body(hosts, spec.default, services)
        except Unexpressible as err:
            raise InvalidSpec(f"{key}: {err}", field="spec.rules") from None
        if current is None:
            name = spec.name
            phases.add(
                change(
                    Action.CREATE,
                    "url-map",
                    name,
                    key,
                    reason="does not exist",
                    diff={"ports": list(spec.ports), "hosts": [h.host for h in hosts]},
                    params={
                        **global_scope(collection),
                        "body": {**body, "name": name, **desc(ctx, spec.role)},
                    },
                )
            )
        else:
            name = str(current["name"])
            if differs(body, current) or _extra(body, current):
                phases.add(
                    change(
                        Action.UPDATE,
                        "url-map",
                        name,
                        key,
                        reason="routes differ",
                        diff={"hosts": [h.host for h in hosts]},
                        params={
                            **global_scope(collection),
                            "name": name,
                            "body": {
                                **body,
                                "name": name,
                                "description": current["description"],
                                "fingerprint": current.get("fingerprint", ""),
                            },
                        },
                    )
                )
        keep.add(name)
        paths[spec.role] = global_path(ctx.project, collection, name)
    stale(ctx, phases, "url-map", collection, keep)
    return paths


def _extra(body: Mapping[str, Any], current: Mapping[str, Any]) -> bool:
    """Defaults we no longer set but the map still has (a default changed kind)."""
    fields = ("defaultService", "defaultRouteAction", "defaultUrlRedirect")
    return any(current.get(f) and f not in body for f in fields)


def plan_proxies(
    ctx: AppContext,
    phases: AppPhases,
    map_paths: Mapping[str, str],
    *,
    policy: str | None = None,
    managed: str | None = None,
) -> dict[int, str]:
    """`policy` and `managed` are the paths of the key's SSL policy and managed certificate,
    which every HTTPS proxy carries (the certificate only where none is named)."""
    key = ctx.app.key
    paths: dict[int, str] = {}
    keep: dict[str, set[str]] = {"targetHttpProxies": set(), "targetHttpsProxies": set()}
    for spec in ctx.app.proxies:
        found = ctx.observed.by_role(spec.collection)
        current = first(found, spec.role)
        url_map = map_paths[spec.url_map_role]
        certificates = [ctx.certificates[c] for c in spec.certificates]
        if spec.managed_certificate and managed is not None:
            certificates = [managed]
        https = spec.collection == "targetHttpsProxies"
        shown = [c.rsplit("/", 1)[-1] for c in certificates]
        if current is None:
            name = spec.name
            body: dict[str, Any] = {"name": name, "urlMap": url_map, **desc(ctx, spec.role)}
            if https:
                body["sslCertificates"] = certificates
                if policy is not None:
                    body["sslPolicy"] = policy
            phases.add(
                change(
                    Action.CREATE,
                    "target-proxy",
                    name,
                    key,
                    reason="does not exist",
                    diff={"port": spec.port, "certificates": shown},
                    params={**global_scope(spec.collection), "body": body},
                )
            )
        else:
            name = str(current["name"])
            params: dict[str, Any] = {**global_scope(spec.collection), "name": name}
            diff: dict[str, Any] = {}
            if path_of(str(current.get("urlMap", ""))) != url_map:
                params["url_map"] = url_map
                diff["urlMap"] = [path_of(str(current.get("urlMap", ""))), url_map]
            have = [path_of(str(c)) for c in current.get("sslCertificates") or []]
            if https and have != certificates:
                params["certificates"] = certificates
                diff["sslCertificates"] = [[c.rsplit("/", 1)[-1] for c in have], shown]
            had = path_of(str(current.get("sslPolicy") or "")) or None
            if https and policy is not None and had != policy:
                params["ssl_policy"] = policy
                diff["sslPolicy"] = [had and had.rsplit("/", 1)[-1], policy.rsplit("/", 1)[-1]]
            if diff:
                phases.add(
                    change(
                        Action.UPDATE,
                        "target-proxy",
                        name,
                        key,
                        reason="proxy differs: " + ", ".join(diff),
                        diff=diff,
                        params=params,
                    )
                )
        keep[spec.collection].add(name)
        paths[spec.port] = global_path(ctx.project, spec.collection, name)
    for collection, names in keep.items():
        stale(ctx, phases, "target-proxy", collection, names)
    return paths


def plan_address(ctx: AppContext, phases: AppPhases) -> tuple[Any, str]:
    key, collection = ctx.app.key, "globalAddresses"
    ours = ctx.observed.of(collection)
    labels = ctx.marks.labels(key, ctx.app.labels)
    if ctx.static_address is not None:
        for item in ours:
            phases.drop(
                delete(
                    "address",
                    item,
                    key,
                    reason="the static IP is used instead",
                    scope=global_scope(collection),
                )
            )
        return str(ctx.static_address["address"]), str(ctx.static_address["name"])
    current = ours[0] if ours else None
    for item in ours[1:]:
        phases.drop(
            delete("address", item, key, reason="duplicate", scope=global_scope(collection))
        )
    if current is None:
        name = ctx.app.address_name
        phases.add(
            change(
                Action.CREATE,
                "address",
                name,
                key,
                reason="does not exist",
                diff={"addressType": "EXTERNAL"},
                params={
                    **global_scope(collection),
                    "body": {
                        "name": name,
                        "addressType": "EXTERNAL",
                        "ipVersion": "IPV4",
                        "labels": labels,
                        **desc(ctx, a.ADDRESS),
                    },
                },
                ref_name=ADDRESS_REF,
            )
        )
        return ref(ADDRESS_REF), name
    diff = label_diff(labels, current.get("labels"))
    if diff:
        phases.add(
            labels_update(
                "address",
                current,
                ctx.app.key,
                labels=labels,
                diff=diff,
                scope=global_scope(collection),
            )
        )
    return str(current["address"]), str(current["name"])


def plan_rules(
    ctx: AppContext,
    phases: AppPhases,
    proxy_paths: Mapping[int, str],
    *,
    ip: Any,
    address_name: str,
) -> None:
    key, collection = ctx.app.key, "globalForwardingRules"
    found = ctx.observed.by_role(collection)
    labels = ctx.marks.labels(key, ctx.app.labels)
    keep: set[str] = set()
    for spec in ctx.app.proxies:
        current = first(found, spec.rule_role)
        target = proxy_paths[spec.port]
        port_range = f"{spec.port}-{spec.port}"
        if current is not None and (
            not isinstance(ip, str)
            or current.get("IPAddress") != ip
            or current.get("portRange") != port_range
            or current.get("loadBalancingScheme") != a.SCHEME
        ):
            current = None  # replaced: the stale rule is deleted after the new one exists
        if current is None:
            name = application_name(
                "fr", key, cluster=ctx.marks.cluster, parts=(str(spec.port), address_name)
            )
            phases.add(
                change(
                    Action.CREATE,
                    "forwarding-rule",
                    name,
                    key,
                    reason="does not exist",
                    diff={"port": spec.port, "address": ip if isinstance(ip, str) else "(new)"},
                    params={
                        **global_scope(collection),
                        "body": {
                            "name": name,
                            "IPAddress": ip,
                            "IPProtocol": "TCP",
                            "portRange": str(spec.port),
                            "loadBalancingScheme": a.SCHEME,
                            "networkTier": "PREMIUM",
                            "target": target,
                            "labels": labels,
                            **desc(ctx, spec.rule_role),
                        },
                    },
                )
            )
            keep.add(name)
            continue
        name = str(current["name"])
        keep.add(name)
        params: dict[str, Any] = {**global_scope(collection), "name": name}
        diff: dict[str, Any] = {}
        if path_of(str(current.get("target", ""))) != target:
            params["target"] = target
            diff["target"] = [path_of(str(current.get("target", ""))), target]
        labelled = label_diff(labels, current.get("labels"))
        if labelled:
            params["labels"] = dict(labels)
            params["labelFingerprint"] = current.get("labelFingerprint", "")
            diff["labels"] = labelled
        if diff:
            phases.add(
                change(
                    Action.UPDATE,
                    "forwarding-rule",
                    name,
                    key,
                    reason="rule differs: " + ", ".join(diff),
                    diff=diff,
                    params=params,
                )
            )
    stale(ctx, phases, "forwarding-rule", collection, keep)
