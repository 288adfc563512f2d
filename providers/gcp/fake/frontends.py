"""Forwarding rules and URL maps: the front half of a load balancer, with the API's rules on
who may point at what and who may share an address.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from providers.gcp.fake import checks
from providers.gcp.fake.errors import Invalid, invalid_value, required
from providers.gcp.fake.links import GLOBAL, Location, Scope, check_name
from providers.gcp.fake.methods import existing, operation, refresh, whole
from providers.gcp.fake.network import allocate_external, claim_internal
from providers.gcp.fake.registry import Collection, Context, register
from providers.gcp.fake.store import Resource

PROXIES = ((Scope.GLOBAL, "targetHttpProxies"), (Scope.GLOBAL, "targetHttpsProxies"))
SERVICES = ((Scope.GLOBAL, "backendServices"),)
IMMUTABLE_RULE_FIELDS = (
    "IPAddress",
    "IPProtocol",
    "portRange",
    "ports",
    "allPorts",
    "loadBalancingScheme",
    "network",
    "subnetwork",
    "backendService",
    "ipVersion",
    "target",
)
"""Forwarding rule fields patch may not change (target changes through setTarget)."""


# forwarding rules ------------------------------------------------------------------------


def _ports(body: Resource, passthrough: bool) -> list[tuple[int, int]]:
    """The port ranges a rule takes; (1, 65535) when it takes all of them."""
    ports = body.get("ports") or []
    if ports and body.get("portRange"):
        raise invalid_value("resource.ports", ports, "Specify ports or portRange, not both.")
    if (ports or body.get("portRange")) and body.get("allPorts"):
        raise invalid_value("resource.allPorts", True, "allPorts excludes ports and portRange.")
    if ports:
        if not passthrough:
            raise invalid_value(
                "resource.ports", ports, "ports is only for rules that point at a backend service."
            )
        if len(ports) > 5:
            raise invalid_value(
                "resource.ports", ports, "At most 5 ports; use portRange or allPorts for more."
            )
        out = []
        for port in ports:
            first, last = checks.port_range(port, "resource.ports")
            if first != last:
                raise invalid_value("resource.ports", port, "Each entry must be one port.")
            out.append((first, last))
        return out
    if body.get("portRange"):
        first, last = checks.port_range(body["portRange"], "resource.portRange")
        body["portRange"] = f"{first}-{last}"
        if not passthrough and first != last:
            raise invalid_value(
                "resource.portRange",
                body["portRange"],
                "A rule for a target proxy takes a single port.",
            )
        return [(first, last)]
    if not passthrough:
        raise required("resource.portRange")
    return [(1, 65535)]


def _address(ctx: Context, body: Resource, old: Resource | None, *, internal: bool) -> None:
    """Fill IPAddress and the hidden `_address` (the reserved address used, if any)."""
    given = body.get("IPAddress")
    if old is not None:
        return
    scope_addresses = "addresses"
    location = ctx.location if ctx.location.scope is Scope.REGION else GLOBAL
    if given:
        try:
            literal = str(checks.ip(given, "resource.IPAddress"))
        except Invalid:
            literal = ""
        if literal:
            reserved = [
                (key, a)
                for key, a in ctx.items(scope_addresses)
                if key.location == location and a.get("address") == literal
            ]
            if reserved:
                body["_address"] = ctx.link(reserved[0][0])
            elif internal:
                body["IPAddress"] = claim_internal(
                    ctx, body["subnetwork"], literal, "resource.IPAddress"
                )
                return
            else:
                raise invalid_value(
                    "resource.IPAddress",
                    given,
                    "The IP address is not reserved in this project; reserve it first.",
                )
        else:
            body["_address"] = ctx.require(
                given, field="resource.IPAddress", collections=((location.scope, scope_addresses),)
            )
        address = ctx.lookup(body["_address"])
        assert address is not None
        wanted = "INTERNAL" if internal else "EXTERNAL"
        if address.get("addressType", "EXTERNAL") != wanted:
            raise invalid_value("resource.IPAddress", given, f"The rule needs an {wanted} address.")
        body["IPAddress"] = address["address"]
        return
    if internal:
        body["IPAddress"] = claim_internal(ctx, body["subnetwork"], None, "resource.IPAddress")
    else:
        body["IPAddress"] = allocate_external(ctx, location, body.get("ipVersion", "IPV4"))


def _check_sharing(ctx: Context, body: Resource, ranges: list[tuple[int, int]]) -> None:
    """Several rules may share an IP only through a reserved address, on distinct ports."""
    for key, other in ctx.items("forwardingRules"):
        if key == ctx.key or other.get("IPAddress") != body["IPAddress"]:
            continue
        if key.location != ctx.location:
            continue
        if not body.get("_address") or other.get("_address") != body["_address"]:
            raise invalid_value(
                "resource.IPAddress",
                body["IPAddress"],
                f"The IP address is in use by forwarding rule '{key.path}'; "
                "rules share an IP address only through a reserved address.",
            )
        if other.get("IPProtocol") != body.get("IPProtocol"):
            continue
        theirs = _ports(dict(other), "backendService" in other)
        if any(a <= d and c <= b for a, b in ranges for c, d in theirs):
            field = "resource.ports" if body.get("ports") else "resource.portRange"
            raise invalid_value(
                field,
                body.get("ports") or body.get("portRange") or "all",
                f"The IP address, protocol and ports are already used by "
                f"forwarding rule '{key.path}'.",
            )


def prepare_rule(ctx: Context, body: Resource, old: Resource | None) -> None:
    regional = ctx.location.scope is Scope.REGION
    if old is not None:
        for name in IMMUTABLE_RULE_FIELDS:
            if body.get(name) != old.get(name):
                raise invalid_value(
                    f"resource.{name}",
                    body.get(name),
                    "This field cannot be changed; recreate the rule.",
                )
    scheme = checks.one_of(
        body,
        "loadBalancingScheme",
        ("EXTERNAL", "EXTERNAL_MANAGED", "INTERNAL", "INTERNAL_MANAGED", "INTERNAL_SELF_MANAGED"),
        default="EXTERNAL",
    )
    protocol = checks.one_of(
        body, "IPProtocol", ("TCP", "UDP", "ESP", "AH", "SCTP", "ICMP", "L3_DEFAULT"), default="TCP"
    )
    checks.one_of(body, "ipVersion", ("IPV4", "IPV6"), default="IPV4")
    checks.one_of(body, "networkTier", ("PREMIUM", "STANDARD"), default="PREMIUM")
    has_target, has_service = bool(body.get("target")), bool(body.get("backendService"))
    if regional and has_target == has_service:
        raise invalid_value(
            "resource.target",
            body.get("target", ""),
            "Exactly one of target and backendService must be set.",
        )
    if not regional and has_service:
        raise invalid_value(
            "resource.backendService",
            body["backendService"],
            "Global forwarding rules point at a target proxy.",
        )
    if has_target:
        if regional:
            raise invalid_value(
                "resource.target",
                body["target"],
                "Regional target proxies and target pools are not modelled; "
                "point the rule at a backend service.",
            )
        body["target"] = ctx.require(body["target"], field="resource.target", collections=PROXIES)
    else:
        body["backendService"] = ctx.require(
            body.get("backendService"),
            field="resource.backendService",
            collections=((Scope.REGION, "backendServices"),),
        )
        service = ctx.lookup(body["backendService"])
        assert service is not None
        if service.get("loadBalancingScheme") != scheme:
            raise invalid_value(
                "resource.loadBalancingScheme",
                scheme,
                f"The backend service uses {service.get('loadBalancingScheme')}.",
            )
        if service.get("protocol") in ("TCP", "UDP") and service["protocol"] != protocol:
            raise invalid_value(
                "resource.IPProtocol",
                protocol,
                f"The backend service's protocol is {service['protocol']}.",
            )
    internal = scheme == "INTERNAL"
    if internal:
        region = Location(Scope.REGION, ctx.location.name)
        body["subnetwork"] = ctx.require(
            body.get("subnetwork"),
            field="resource.subnetwork",
            collections=((Scope.REGION, "subnetworks"),),
            default=region,
        )
        subnet = ctx.lookup(body["subnetwork"])
        assert subnet is not None
        body["network"] = subnet["network"]
    ranges = _ports(body, has_service)
    _address(ctx, body, old, internal=internal)
    _check_sharing(ctx, body, ranges)


def rule_refs(rule: Resource) -> Iterable[str]:
    return [
        rule[f]
        for f in ("target", "backendService", "network", "subnetwork", "_address")
        if rule.get(f)
    ]


def set_target(
    ctx: Context, collection: Collection, body: Resource, query: dict[str, str]
) -> Resource:
    rule = existing(ctx)
    if not rule.get("target"):
        raise invalid_value(
            "target", body.get("target"), "The rule points at a backend service, not a target."
        )
    rule["target"] = ctx.require(
        body.get("target"), field="targetReference.target", collections=PROXIES
    )
    refresh(ctx, collection, rule)
    return operation(ctx, "setTarget", ctx.key, target_id=rule["id"])


# URL maps --------------------------------------------------------------------------------

SERVICE_FIELDS = ("defaultService", "service", "backendService")


def _services(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """(field path, link) for every backend service reference anywhere in a URL map."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key in SERVICE_FIELDS and isinstance(inner, str):
                yield f"{path}.{key}", inner
            else:
                yield from _services(inner, f"{path}.{key}")
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _services(inner, f"{path}[{index}]")


def _rewrite(ctx: Context, value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: (
                ctx.require(v, field=k, collections=SERVICES)
                if k in SERVICE_FIELDS and isinstance(v, str)
                else _rewrite(ctx, v)
            )
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_rewrite(ctx, v) for v in value]
    return value


def _has_default(body: dict[str, Any]) -> bool:
    return any(body.get(f) for f in ("defaultService", "defaultUrlRedirect", "defaultRouteAction"))


def prepare_url_map(ctx: Context, body: Resource, old: Resource | None) -> None:
    if not _has_default(body):
        raise required("resource.defaultService")
    for field, link in _services(body, "resource"):
        ctx.require(link, field=field, collections=SERVICES)
        service = ctx.lookup(ctx.link(ctx.parse(link, field=field, collections=SERVICES)))
        assert service is not None
        if service.get("loadBalancingScheme") not in (
            "EXTERNAL",
            "EXTERNAL_MANAGED",
            "INTERNAL_SELF_MANAGED",
        ):
            raise invalid_value(
                field,
                link,
                "The backend service's loadBalancingScheme cannot be used by a global URL map.",
            )
    matchers: dict[str, int] = {}
    for index, matcher in enumerate(body.get("pathMatchers", [])):
        field = f"resource.pathMatchers[{index}]"
        name = check_name(matcher.get("name"), f"{field}.name")
        if name in matchers:
            raise invalid_value(f"{field}.name", name, "Duplicate path matcher name.")
        matchers[name] = index
        if not _has_default(matcher):
            raise required(f"{field}.defaultService")
        seen: set[str] = set()
        for rule_index, rule in enumerate(matcher.get("pathRules", [])):
            rule_field = f"{field}.pathRules[{rule_index}]"
            for path in checks.present(rule, "paths", rule_field):
                if (
                    not str(path).startswith("/")
                    or "*" in str(path)[:-1]
                    or (str(path).endswith("*") and not str(path).endswith("/*"))
                ):
                    raise invalid_value(
                        f"{rule_field}.paths",
                        path,
                        "Paths start with '/' and may end in '/*'; no other '*' is allowed.",
                    )
                if path in seen:
                    raise invalid_value(f"{rule_field}.paths", path, "Duplicate path pattern.")
                seen.add(path)
            if not any(rule.get(f) for f in ("service", "urlRedirect", "routeAction")):
                raise required(f"{rule_field}.service")
        if matcher.get("pathRules") and matcher.get("routeRules"):
            raise invalid_value(
                f"{field}.routeRules",
                len(matcher["routeRules"]),
                "A path matcher takes pathRules or routeRules, not both.",
            )
        priorities: set[int] = set()
        for rule_index, rule in enumerate(matcher.get("routeRules", [])):
            priority = checks.integer(
                rule,
                "priority",
                default=None,
                low=0,
                high=2147483647,
                prefix=f"{field}.routeRules[{rule_index}]",
            )
            if priority is None:
                raise required(f"{field}.routeRules[{rule_index}].priority")
            if priority in priorities:
                raise invalid_value(
                    f"{field}.routeRules[{rule_index}].priority",
                    priority,
                    "Route rule priorities must be unique in a path matcher.",
                )
            priorities.add(priority)
    hosts: set[str] = set()
    for index, rule in enumerate(body.get("hostRules", [])):
        field = f"resource.hostRules[{index}]"
        if rule.get("pathMatcher") not in matchers:
            raise invalid_value(
                f"{field}.pathMatcher",
                rule.get("pathMatcher", ""),
                "No path matcher of that name in the URL map.",
            )
        for host in checks.present(rule, "hosts", field):
            if host in hosts:
                raise invalid_value(f"{field}.hosts", host, "Duplicate host in host rules.")
            hosts.add(host)
    body.update(_rewrite(ctx, {k: v for k, v in body.items() if not k.startswith("_")}))


def url_map_refs(url_map: Resource) -> Iterable[str]:
    return [link for _, link in _services(url_map, "resource")]


register(
    Collection(
        "forwardingRules",
        "forwardingRules",
        Scope.REGION,
        "compute#forwardingRule",
        "forwarding_rule",
        methods=frozenset(
            {"get", "list", "insert", "delete", "patch", "setLabels", "setTarget", "aggregatedList"}
        ),
        prepare=prepare_rule,
        refs=rule_refs,
        fingerprint=whole,
        labels=True,
    ),
    Collection(
        "globalForwardingRules",
        "forwardingRules",
        Scope.GLOBAL,
        "compute#forwardingRule",
        "forwarding_rule",
        methods=frozenset({"get", "list", "insert", "delete", "patch", "setLabels", "setTarget"}),
        prepare=prepare_rule,
        refs=rule_refs,
        fingerprint=whole,
        labels=True,
    ),
    Collection(
        "urlMaps",
        "urlMaps",
        Scope.GLOBAL,
        "compute#urlMap",
        "url_map",
        methods=frozenset({"get", "list", "insert", "delete", "patch", "update"}),
        prepare=prepare_url_map,
        refs=url_map_refs,
        fingerprint=whole,
    ),
)

VERBS = {
    ("forwardingRules", "setTarget"): set_target,
    ("globalForwardingRules", "setTarget"): set_target,
}
