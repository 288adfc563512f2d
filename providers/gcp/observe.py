"""Reading what one key owns in Compute Engine: found by marks, whatever the names.

The cloud is the record. Each collection a Service uses is listed once per reconcile (a
handful of calls, whatever the number of nodes): regional forwarding rules, addresses,
backend services and health checks, global firewalls, and every zone's instance groups in
one aggregated call. Resources carrying this key's marks are the observed state; any other
resource holding a name we would create is an `OwnershipConflict` before anything is
written. Listing every backend service of the region also tells which instance groups other
keys still use, which decides when a shared group may go.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from providers.base import OwnershipConflict
from providers.gcp import marks as m
from providers.gcp.client import Compute
from providers.gcp.network import path_of, zone_of_link

Resource = dict[str, Any]


@dataclass
class Observed:
    """Everything of the region we looked at, and the part of it the key owns."""

    forwarding_rules: list[Resource] = field(default_factory=list)
    addresses: list[Resource] = field(default_factory=list)
    backend_services: list[Resource] = field(default_factory=list)
    health_checks: list[Resource] = field(default_factory=list)
    firewalls: list[Resource] = field(default_factory=list)
    instance_groups: list[Resource] = field(default_factory=list)
    """Every instance group of the project (all of our cluster's zones)."""
    members: dict[str, frozenset[str]] = field(default_factory=dict)
    """Group path -> instance paths, for the groups whose membership the plan checks."""
    all_backend_services: list[Resource] = field(default_factory=list)
    """Every backend service of the region (and global ones, once read), ours or not."""

    @property
    def empty(self) -> bool:
        return not (
            self.forwarding_rules
            or self.addresses
            or self.backend_services
            or self.health_checks
            or self.firewalls
        )


def _conflict(kind: str, resource: Mapping[str, Any], key: str) -> OwnershipConflict:
    return OwnershipConflict(
        f"{kind} {resource.get('name')} already exists and is not owned by {key} "
        f"({m.describe_marks(resource)}); it is left untouched: delete or rename it"
    )


def check_names(
    kind: str, items: Iterable[Resource], names: Iterable[str], key: str, marks: m.Marks
) -> None:
    """A name we would create, held by a resource that is not the key's: a conflict."""
    wanted = set(names)
    for item in items:
        if item.get("name") in wanted and not marks.owns(item, key):
            raise _conflict(kind, item, key)


@dataclass(frozen=True)
class Lookup:
    """Names we would create, checked for clashes, and zones whose membership matters."""

    names: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Collection -> names (`forwardingRules`, `addresses`, ...)."""
    member_zones: tuple[str, ...] = ()


GLOBAL_COLLECTIONS = {
    "globalForwardingRules": "forwarding rule",
    "targetHttpProxies": "target HTTP proxy",
    "targetHttpsProxies": "target HTTPS proxy",
    "urlMaps": "URL map",
    "backendServices": "backend service",
    "healthChecks": "health check",
    "globalAddresses": "address",
    "sslCertificates": "SSL certificate",
    "sslPolicies": "SSL policy",
}
"""What an Application Load Balancer uses beyond firewalls and instance groups."""

KINDS = {
    "forwardingRules": "forwarding rule",
    "addresses": "address",
    "regionBackendServices": "backend service",
    "regionHealthChecks": "health check",
    "firewalls": "firewall",
}


def observe(compute: Compute, marks: m.Marks, key: str, lookup: Lookup) -> Observed:
    region = {"project": compute.project, "region": compute.region}
    listed = {
        "forwardingRules": compute.listing("forwardingRules", **region),
        "addresses": compute.listing("addresses", **region),
        "regionBackendServices": compute.listing("regionBackendServices", **region),
        "regionHealthChecks": compute.listing("regionHealthChecks", **region),
        "firewalls": compute.listing("firewalls", project=compute.project),
    }
    for collection, items in listed.items():
        check_names(KINDS[collection], items, lookup.names.get(collection, ()), key, marks)
    observed = Observed(
        forwarding_rules=[r for r in listed["forwardingRules"] if marks.owns(r, key)],
        addresses=[r for r in listed["addresses"] if marks.owns(r, key)],
        backend_services=[r for r in listed["regionBackendServices"] if marks.owns(r, key)],
        health_checks=[r for r in listed["regionHealthChecks"] if marks.owns(r, key)],
        firewalls=[r for r in listed["firewalls"] if marks.owns(r, key)],
        all_backend_services=listed["regionBackendServices"],
    )
    observed.instance_groups, observed.members = observe_groups(compute, marks, lookup)
    return observed


def observe_groups(
    compute: Compute, marks: m.Marks, lookup: Lookup
) -> tuple[list[Resource], dict[str, frozenset[str]]]:
    """Our shared instance groups (one aggregated call) and the members of those in
    `lookup.member_zones`; a group name we would create held by another owner is a conflict."""
    groups = compute.aggregated("instanceGroups", "instanceGroups", project=compute.project)
    names = set(lookup.names.get("instanceGroups", ()))
    for group in groups:
        zone = zone_of_link(str(group.get("zone", "")))
        if group.get("name") in names and not marks.owns(group, m.group_key(zone)):
            raise _conflict("instance group", group, m.group_key(zone))
    ours = [g for g in groups if marks.owns(g, m.group_key(zone_of_link(str(g.get("zone", "")))))]
    found: dict[str, frozenset[str]] = {}
    for group in ours:
        zone = zone_of_link(str(group.get("zone", "")))
        if zone in lookup.member_zones:
            found[path_of(str(group["selfLink"]))] = members(compute, zone, group)
    return ours, found


def members(compute: Compute, zone: str, group: Mapping[str, Any]) -> frozenset[str]:
    items = compute.listing(
        "instanceGroups",
        "listInstances",
        project=compute.project,
        zone=zone,
        instance_group=str(group["name"]),
        instance_groups_list_instances_request_resource={"instanceState": "ALL"},
    )
    return frozenset(path_of(str(i["instance"])) for i in items)


def group_users(
    compute: Compute, observed: Observed, *, include_global: bool
) -> dict[str, set[str]]:
    """Instance group path -> names of the backend services that use it (ours or not)."""
    services = list(observed.all_backend_services)
    if include_global:
        services += compute.listing("backendServices", project=compute.project)
    return users_of(services)


def users_of(services: Iterable[Resource]) -> dict[str, set[str]]:
    """Instance group path -> the backend services (paths) among `services` that use it."""
    users: dict[str, set[str]] = {}
    for service in services:
        for backend in service.get("backends") or []:
            users.setdefault(path_of(str(backend.get("group", ""))), set()).add(
                path_of(str(service.get("selfLink", service.get("name", ""))))
            )
    return users


def owned_keys(compute: Compute, marks: m.Marks) -> set[str]:
    """Every owner key with a resource of this cluster and class, shared keys included."""
    region = {"project": compute.project, "region": compute.region}
    items: list[Resource] = []
    for collection in (
        "forwardingRules",
        "addresses",
        "regionBackendServices",
        "regionHealthChecks",
    ):
        items += compute.listing(collection, **region)
    items += compute.listing("firewalls", project=compute.project)
    items += compute.aggregated("instanceGroups", "instanceGroups", project=compute.project)
    for collection in GLOBAL_COLLECTIONS:
        items += compute.listing(collection, project=compute.project)
    keys = {m.owner(item) for item in items if marks.ours(item)}
    keys.discard("")
    return keys
