"""Health checks, backend services and unmanaged instance groups: the back half of a load
balancer, and the rule that an instance may sit in only one load-balanced group.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from providers.gcp.fake import checks
from providers.gcp.fake.errors import (
    Invalid,
    MemberAlreadyExists,
    MemberNotFound,
    invalid_value,
    not_found,
    required,
)
from providers.gcp.fake.filters import compile_filter, page
from providers.gcp.fake.links import GLOBAL, Location, Scope, check_name
from providers.gcp.fake.methods import check_fingerprint, existing, operation, refresh, whole
from providers.gcp.fake.registry import Collection, Context, register
from providers.gcp.fake.store import Resource

HEALTH_TYPES = {
    "TCP": "tcpHealthCheck",
    "SSL": "sslHealthCheck",
    "HTTP": "httpHealthCheck",
    "HTTPS": "httpsHealthCheck",
    "HTTP2": "http2HealthCheck",
    "GRPC": "grpcHealthCheck",
    "GRPC_WITH_TLS": "grpcTlsHealthCheck",
}
SCHEMES = ("EXTERNAL", "INTERNAL", "INTERNAL_MANAGED", "INTERNAL_SELF_MANAGED", "EXTERNAL_MANAGED")
PASSTHROUGH = ("EXTERNAL", "INTERNAL")
"""Schemes of regional backend services behind passthrough (L4) forwarding rules."""
GROUPS = ((Scope.ZONE, "instanceGroups"),)
INSTANCES = ((Scope.ZONE, "instances"),)


# health checks ---------------------------------------------------------------------------


def prepare_health_check(ctx: Context, body: Resource, old: Resource | None) -> None:
    kind = checks.one_of(body, "type", HEALTH_TYPES, default=None)
    if kind is None:
        raise required("resource.type")
    for other, field in HEALTH_TYPES.items():
        if other != kind and field in body:
            raise invalid_value(
                f"resource.{field}",
                "{...}",
                f"Only {HEALTH_TYPES[kind]} may be set when type is {kind}.",
            )
    detail: dict[str, Any] = body.setdefault(HEALTH_TYPES[kind], {})
    prefix = f"resource.{HEALTH_TYPES[kind]}"
    spec = checks.one_of(
        detail,
        "portSpecification",
        ("USE_FIXED_PORT", "USE_NAMED_PORT", "USE_SERVING_PORT"),
        default="USE_FIXED_PORT",
        prefix=prefix,
    )
    if spec == "USE_FIXED_PORT":
        checks.integer(
            detail,
            "port",
            default=443 if kind in ("HTTPS", "SSL", "HTTP2") else 80,
            low=1,
            high=65535,
            prefix=prefix,
        )
    if kind in ("HTTP", "HTTPS", "HTTP2"):
        path = detail.setdefault("requestPath", "/")
        if not str(path).startswith("/"):
            raise invalid_value(f"{prefix}.requestPath", path, "Must start with '/'.")
    if kind != "GRPC":
        checks.one_of(detail, "proxyHeader", ("NONE", "PROXY_V1"), default="NONE", prefix=prefix)
    interval = checks.integer(body, "checkIntervalSec", default=5, low=1, high=300)
    timeout = checks.integer(body, "timeoutSec", default=5, low=1, high=300)
    if timeout is not None and interval is not None and timeout > interval:
        raise invalid_value(
            "resource.timeoutSec",
            timeout,
            "timeoutSec must be less than or equal to checkIntervalSec.",
        )
    checks.integer(body, "healthyThreshold", default=2, low=1, high=10)
    checks.integer(body, "unhealthyThreshold", default=2, low=1, high=10)


# instance groups -------------------------------------------------------------------------


def lb_groups(ctx: Context, *, skip: str = "") -> dict[str, str]:
    """Instance group link -> a backend service (not `skip`) that uses it."""
    used: dict[str, str] = {}
    for key, service in ctx.items("backendServices"):
        if ctx.link(key) == skip:
            continue
        for backend in service.get("backends", []):
            used.setdefault(backend["group"], ctx.link(key))
    return used


def check_single_group(
    ctx: Context, group: str, instances: Iterable[str], used: dict[str, str]
) -> None:
    """Refuse an instance in `group` that another load-balanced group already holds."""
    for instance in instances:
        for key, other in ctx.items("instanceGroups"):
            other_link = ctx.link(key)
            if other_link != group and other_link in used and instance in other["_members"]:
                raise Invalid(
                    f"Validation failed for instance '{ctx.key_of(instance).path}': instance "
                    "may belong to at most one load-balanced instance group; it is already in "
                    f"'{key.path}', a backend of '{ctx.key_of(used[other_link]).path}'."
                )


def _named_ports(body: Resource, prefix: str) -> None:
    for index, port in enumerate(body.get("namedPorts", [])):
        check_name(port.get("name"), f"{prefix}.namedPorts[{index}].name")
        checks.integer(
            port, "port", default=None, low=1, high=65535, prefix=f"{prefix}.namedPorts[{index}]"
        )
        if "port" not in port:
            raise required(f"{prefix}.namedPorts[{index}].port")


def prepare_group(ctx: Context, body: Resource, old: Resource | None) -> None:
    if body.get("network"):
        body["network"] = ctx.require(
            body["network"],
            field="resource.network",
            collections=((Scope.GLOBAL, "networks"),),
            default=GLOBAL,
        )
    if body.get("subnetwork"):
        body["subnetwork"] = ctx.require(
            body["subnetwork"],
            field="resource.subnetwork",
            collections=((Scope.REGION, "subnetworks"),),
            default=Location(Scope.REGION, ctx.location.region),
        )
    _named_ports(body, "resource")
    body.setdefault("namedPorts", [])
    body["_members"] = list(old["_members"]) if old else []


def render_group(ctx: Context, group: Resource) -> Resource:
    return {**group, "size": len(group["_members"])}


def group_refs(group: Resource) -> Iterable[str]:
    return [group[f] for f in ("network", "subnetwork") if group.get(f)]


def _instance_links(ctx: Context, body: Resource, field: str) -> list[str]:
    links = []
    for index, ref in enumerate(body.get("instances", [])):
        name = f"{field}.instances[{index}].instance"
        key = ctx.parse(ref.get("instance"), field=name, collections=INSTANCES)
        if key.location != ctx.location:
            raise invalid_value(
                name, ref.get("instance"), f"The instance must be in zone {ctx.location.name}."
            )
        links.append(ctx.link(key))
    return links


def add_instances(
    ctx: Context, collection: Collection, body: Resource, query: dict[str, str]
) -> Resource:
    group = existing(ctx)
    links = _instance_links(ctx, body, "instanceGroupsAddInstancesRequest")
    for link in links:
        instance = ctx.lookup(link)
        if instance is None:
            raise not_found(ctx.key_of(link).path)
        if link in group["_members"]:
            raise MemberAlreadyExists(
                f"The resource '{ctx.key_of(link).path}' is already a member of '{ctx.key.path}'"
            )
        network = instance["networkInterfaces"][0]["network"]
        if group.get("network") and network != group["network"]:
            raise invalid_value(
                "instances",
                link,
                f"The instance is not in the instance group's network '{group['network']}'.",
            )
    used = lb_groups(ctx)
    if ctx.link(ctx.key) in used:
        check_single_group(ctx, ctx.link(ctx.key), links, used)
    group["_members"].extend(links)
    if not group.get("network") and links:
        first = ctx.lookup(links[0])
        assert first is not None
        group["network"] = first["networkInterfaces"][0]["network"]
    return operation(ctx, "addInstances", ctx.key, target_id=group["id"])


def remove_instances(
    ctx: Context, collection: Collection, body: Resource, query: dict[str, str]
) -> Resource:
    group = existing(ctx)
    links = _instance_links(ctx, body, "instanceGroupsRemoveInstancesRequest")
    for link in links:
        if link not in group["_members"]:
            raise MemberNotFound(
                f"The resource '{ctx.key_of(link).path}' is not a member of '{ctx.key.path}'"
            )
    for link in links:
        group["_members"].remove(link)
    return operation(ctx, "removeInstances", ctx.key, target_id=group["id"])


def list_instances(
    ctx: Context, collection: Collection, body: Resource, query: dict[str, str]
) -> Resource:
    group = existing(ctx)
    state = checks.one_of(
        body,
        "instanceState",
        ("ALL", "RUNNING"),
        default="ALL",
        prefix="instanceGroupsListInstancesRequest",
    )
    keep = compile_filter(query.get("filter"))
    pairs = []
    for link in group["_members"]:
        instance = ctx.lookup(link)
        status = instance.get("status", "RUNNING") if instance else "TERMINATED"
        item = {"instance": link, "status": status}
        if (state == "ALL" or status == "RUNNING") and keep(item):
            pairs.append(((ctx.key_of(link).name, ""), item))
    items, token = page(pairs, query)
    out: Resource = {
        "kind": "compute#instanceGroupsListInstances",
        "id": f"{ctx.key.path}/listInstances",
        "selfLink": f"{ctx.link(ctx.key)}/listInstances",
    }
    if items:
        out["items"] = items
    if token:
        out["nextPageToken"] = token
    return out


def set_named_ports(
    ctx: Context, collection: Collection, body: Resource, query: dict[str, str]
) -> Resource:
    group = existing(ctx)
    check_fingerprint(group, body)
    _named_ports(body, "instanceGroupsSetNamedPortsRequest")
    group["namedPorts"] = list(body.get("namedPorts", []))
    refresh(ctx, collection, group)
    return operation(ctx, "setNamedPorts", ctx.key, target_id=group["id"])


# backend services ------------------------------------------------------------------------


def prepare_backend_service(ctx: Context, body: Resource, old: Resource | None) -> None:
    regional = ctx.location.scope is Scope.REGION
    scheme = checks.one_of(body, "loadBalancingScheme", SCHEMES, default="EXTERNAL")
    passthrough = regional and scheme in PASSTHROUGH
    if not regional and scheme == "INTERNAL":
        raise invalid_value(
            "resource.loadBalancingScheme",
            scheme,
            "Global backend services cannot use the INTERNAL scheme.",
        )
    protocol = checks.one_of(
        body,
        "protocol",
        ("HTTP", "HTTPS", "HTTP2", "TCP", "SSL", "UDP", "GRPC", "UNSPECIFIED", "H2C"),
        default="TCP" if passthrough else "HTTP",
    )
    if passthrough and protocol not in ("TCP", "UDP", "UNSPECIFIED"):
        raise invalid_value(
            "resource.protocol",
            protocol,
            f"A {scheme} regional backend service takes TCP, UDP or UNSPECIFIED.",
        )
    checks.one_of(
        body,
        "sessionAffinity",
        (
            "NONE",
            "CLIENT_IP",
            "CLIENT_IP_PROTO",
            "CLIENT_IP_PORT_PROTO",
            "CLIENT_IP_NO_DESTINATION",
            "GENERATED_COOKIE",
            "HEADER_FIELD",
            "HTTP_COOKIE",
            "STRONG_COOKIE_AFFINITY",
        ),
        default="NONE",
    )
    checks.integer(body, "timeoutSec", default=30, low=1, high=2147483647)
    checks.integer(body, "affinityCookieTtlSec", default=0, low=0, high=1209600)
    draining = body.setdefault("connectionDraining", {})
    checks.integer(
        draining,
        "drainingTimeoutSec",
        default=0 if passthrough else 300,
        low=0,
        high=3600,
        prefix="resource.connectionDraining",
    )
    if not passthrough:
        body.setdefault("port", 80)
        body.setdefault("portName", "http")
    if not regional:
        body.setdefault("enableCDN", False)
    if body.get("network"):
        body["network"] = ctx.require(
            body["network"],
            field="resource.network",
            collections=((Scope.GLOBAL, "networks"),),
            default=GLOBAL,
        )
    checks_allowed = (
        ((Scope.REGION, "healthChecks"), (Scope.GLOBAL, "healthChecks"))
        if regional
        else ((Scope.GLOBAL, "healthChecks"),)
    )
    health_checks = body.get("healthChecks", [])
    if len(health_checks) > 1:
        raise invalid_value(
            "resource.healthChecks", health_checks, "At most one health check is allowed."
        )
    body["healthChecks"] = [
        ctx.require(link, field=f"resource.healthChecks[{i}]", collections=checks_allowed)
        for i, link in enumerate(health_checks)
    ]
    _backends(ctx, body, passthrough=passthrough, protocol=protocol or "")


def _backends(ctx: Context, body: Resource, *, passthrough: bool, protocol: str) -> None:
    backends = body.setdefault("backends", [])
    if backends and not body["healthChecks"]:
        raise invalid_value(
            "resource.healthChecks",
            "",
            "Backend services with instance group backends must have a health check.",
        )
    seen: set[str] = set()
    for index, backend in enumerate(backends):
        field = f"resource.backends[{index}]"
        key = ctx.parse(backend.get("group"), field=f"{field}.group", collections=GROUPS)
        if ctx.location.scope is Scope.REGION and key.location.region != ctx.location.name:
            raise invalid_value(
                f"{field}.group",
                backend["group"],
                f"The group must be in region {ctx.location.name}.",
            )
        backend["group"] = ctx.require(backend["group"], field=f"{field}.group", collections=GROUPS)
        if backend["group"] in seen:
            raise invalid_value(
                f"{field}.group",
                backend["group"],
                "Duplicate backend group in the backend service.",
            )
        seen.add(backend["group"])
        modes = (
            ("CONNECTION",)
            if passthrough
            else (
                ("CONNECTION", "UTILIZATION")
                if protocol in ("TCP", "SSL", "UDP")
                else ("RATE", "UTILIZATION")
            )
        )
        checks.one_of(backend, "balancingMode", modes, default=modes[-1], prefix=field)
        capacity = backend.setdefault("capacityScaler", 1.0)
        if not isinstance(capacity, int | float) or not 0 <= capacity <= 1:
            raise invalid_value(f"{field}.capacityScaler", capacity, "Must be between 0 and 1.")
    used = lb_groups(ctx, skip=ctx.link(ctx.key))
    for group in seen:
        used.setdefault(group, ctx.link(ctx.key))
    for group in seen:
        stored = ctx.lookup(group)
        assert stored is not None
        check_single_group(ctx, group, stored["_members"], used)


def backend_refs(service: Resource) -> Iterable[str]:
    yield from service.get("healthChecks", [])
    for backend in service.get("backends", []):
        yield backend["group"]


def get_health(
    ctx: Context, collection: Collection, body: Resource, query: dict[str, str]
) -> Resource:
    """Every member of the group, HEALTHY unless a test said otherwise."""
    service = existing(ctx)
    key = ctx.parse(body.get("group"), field="resourceGroupReference.group", collections=GROUPS)
    link = ctx.link(key)
    if link not in [b["group"] for b in service.get("backends", [])]:
        raise invalid_value(
            "resourceGroupReference.group",
            body.get("group"),
            f"The group is not a backend of '{ctx.key.path}'.",
        )
    group = ctx.lookup(link)
    assert group is not None
    statuses = []
    for member in group["_members"]:
        instance = ctx.lookup(member)
        address = instance["networkInterfaces"][0]["networkIP"] if instance else ""
        status = {
            "instance": member,
            "ipAddress": address,
            "healthState": ctx.project.health.get(member, "HEALTHY"),
        }
        if "port" in service:
            status["port"] = service["port"]
        statuses.append(status)
    out: Resource = {"kind": "compute#backendServiceGroupHealth"}
    if statuses:
        out["healthStatus"] = statuses
    return out


HEALTH_METHODS = frozenset({"get", "list", "insert", "delete", "patch", "update"})
SERVICE_METHODS = frozenset({"get", "list", "insert", "delete", "patch", "update", "getHealth"})

register(
    Collection(
        "healthChecks",
        "healthChecks",
        Scope.GLOBAL,
        "compute#healthCheck",
        "health_check",
        methods=HEALTH_METHODS,
        prepare=prepare_health_check,
    ),
    Collection(
        "regionHealthChecks",
        "healthChecks",
        Scope.REGION,
        "compute#healthCheck",
        "health_check",
        methods=HEALTH_METHODS,
        prepare=prepare_health_check,
    ),
    Collection(
        "backendServices",
        "backendServices",
        Scope.GLOBAL,
        "compute#backendService",
        "backend_service",
        methods=SERVICE_METHODS,
        prepare=prepare_backend_service,
        refs=backend_refs,
        fingerprint=whole,
    ),
    Collection(
        "regionBackendServices",
        "backendServices",
        Scope.REGION,
        "compute#backendService",
        "backend_service",
        methods=SERVICE_METHODS,
        prepare=prepare_backend_service,
        refs=backend_refs,
        fingerprint=whole,
    ),
    Collection(
        "instanceGroups",
        "instanceGroups",
        Scope.ZONE,
        "compute#instanceGroup",
        "instance_group",
        methods=frozenset({"get", "list", "insert", "delete", "aggregatedList"}),
        prepare=prepare_group,
        refs=group_refs,
        render=render_group,
        fingerprint=lambda group: group.get("namedPorts", []),
    ),
)

VERBS = {
    ("instanceGroups", "addInstances"): add_instances,
    ("instanceGroups", "removeInstances"): remove_instances,
    ("instanceGroups", "listInstances"): list_instances,
    ("instanceGroups", "setNamedPorts"): set_named_ports,
    ("backendServices", "getHealth"): get_health,
    ("regionBackendServices", "getHealth"): get_health,
}
