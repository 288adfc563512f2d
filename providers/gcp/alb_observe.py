"""Reading what one Ingress key owns in Compute Engine: the global collections of an
Application Load Balancer, by marks, whatever the names.

Each collection is listed once per reconcile (forwarding rules, addresses, both proxy
kinds, URL maps, backend services, health checks, SSL certificates and policies,
firewalls), plus the shared instance
groups in one aggregated call and the members of the zones the plan checks. Any other
resource holding a name we would create is an `OwnershipConflict` before anything is
written. The global backend services listed here are every one of the project, so they also
tell which instance groups other load balancers still use.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from providers.gcp import marks as m
from providers.gcp.client import Compute
from providers.gcp.observe import (
    GLOBAL_COLLECTIONS,
    Lookup,
    Resource,
    check_names,
    observe_groups,
    users_of,
)


@dataclass
class AppObserved:
    owned: dict[str, list[Resource]] = field(default_factory=dict)
    """Collection -> the key's resources (`urlMaps`, `globalForwardingRules`, ...)."""
    instance_groups: list[Resource] = field(default_factory=list)
    members: dict[str, frozenset[str]] = field(default_factory=dict)
    all_backend_services: list[Resource] = field(default_factory=list)
    """Every global backend service of the project, ours or not."""
    all_certificates: list[Resource] = field(default_factory=list)
    """Every SSL certificate of the project: the ones users name must exist."""

    def of(self, collection: str) -> list[Resource]:
        return self.owned.get(collection, [])

    def by_role(self, collection: str) -> dict[str, list[Resource]]:
        out: dict[str, list[Resource]] = {}
        for item in sorted(self.of(collection), key=lambda r: str(r.get("name"))):
            out.setdefault(m.role(item), []).append(item)
        return out


def observe_application(compute: Compute, marks: m.Marks, key: str, lookup: Lookup) -> AppObserved:
    project = {"project": compute.project}
    observed = AppObserved()
    for collection in (*GLOBAL_COLLECTIONS, "firewalls"):
        items = compute.listing(collection, **project)
        kind = GLOBAL_COLLECTIONS.get(collection, "firewall")
        check_names(kind, items, lookup.names.get(collection, ()), key, marks)
        observed.owned[collection] = [r for r in items if marks.owns(r, key)]
        if collection == "backendServices":
            observed.all_backend_services = items
        if collection == "sslCertificates":
            observed.all_certificates = items
    observed.instance_groups, observed.members = observe_groups(compute, marks, lookup)
    return observed


def group_users(
    compute: Compute, observed: AppObserved, *, dropping: bool
) -> Mapping[str, set[str]]:
    """Instance group path -> backend services using it; regional ones are read only when a
    group might be deleted (passthrough load balancers use the same groups)."""
    services = list(observed.all_backend_services)
    if dropping:
        services += compute.listing(
            "regionBackendServices", project=compute.project, region=compute.region
        )
    return users_of(services)
