"""Names of the resources we create in Compute Engine, and GCP's rule for names.

A name is computed once, at creation, from a hash of the owner key and every field that
cannot change in place, so a replacement gets a new name and can exist beside the resource it
replaces. Existing resources are found by their marks, never by recomputing a name, so a
change to this scheme would not orphan anything. Every name satisfies GCP's rule: 1-63
characters of `[a-z]([-a-z0-9]*[a-z0-9])?`.
"""

from __future__ import annotations

import hashlib
import re

from providers.base import InvalidSpec
from provisioner.model import split_key

PREFIX = "pv"
"""Our own prefix (`pv-<kind>-...`), distinct from GKE's `k8s-` and `k8s2-` names."""

MAX_NAME = 63
_VALID = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")


def _sanitise(text: str, limit: int) -> str:
    cleaned = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return cleaned[:limit].strip("-") or "x"


def _hash(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:10]


def _name(kind: str, key: str, cluster: str, *parts: str) -> str:
    """The cluster is in the hash: two clusters in one project may have the same Service."""
    _, namespace, name = split_key(key)
    return (
        f"{PREFIX}-{kind}-{_sanitise(namespace or 'cluster', 12)}-{_sanitise(name, 20)}-"
        f"{_hash(cluster, key, kind, *parts)}"
    )


def address_name(key: str, *, cluster: str, scheme: str, subnetwork: str | None) -> str:
    return _name("ip", key, cluster, scheme, subnetwork or "")


def health_check_name(key: str, *, cluster: str) -> str:
    """Type, port and path change in place, so only the key goes into the hash."""
    return _name("hc", key, cluster)


def backend_service_name(
    key: str, *, cluster: str, protocol: str, scheme: str, network: str
) -> str:
    return _name("bs", key, cluster, protocol, scheme, network)


def forwarding_rule_name(
    key: str,
    *,
    cluster: str,
    protocol: str,
    ports: tuple[int, ...],
    address: str,
    backend_service: str,
) -> str:
    """Ports, protocol, address and target cannot change in place: all are in the hash."""
    return _name(
        "fr",
        key,
        cluster,
        protocol,
        ",".join(str(p) for p in sorted(ports)),
        address,
        backend_service,
    )


def firewall_name(key: str, *, cluster: str, role: str, network: str) -> str:
    return _name("fw", key, cluster, role, network)


def application_name(kind: str, key: str, *, cluster: str, parts: tuple[str, ...]) -> str:
    """An Application Load Balancer's resource: `parts` are its role's fixed fields."""
    return _name(kind, key, cluster, *parts)


def instance_group_name(cluster: str, *, lb_class: str) -> str:
    """One group per zone per cluster; the same name in every zone (zones scope names)."""
    return f"{PREFIX}-ig-{_sanitise(cluster, 30)}-{_hash(cluster, lb_class)}"


def name_problem(name: str) -> str | None:
    """Why GCP would refuse `name` for a resource, or None."""
    if not name:
        return "must not be empty"
    if len(name) > MAX_NAME:
        return f"must be at most {MAX_NAME} characters (it has {len(name)})"
    if not _VALID.match(name):
        return (
            "must start with a lowercase letter and contain only lowercase letters, digits "
            "and hyphens, not ending with a hyphen"
        )
    return None


def check_name(name: str, *, field: str = "name") -> str:
    problem = name_problem(name)
    if problem is not None:
        raise InvalidSpec(
            f"{field}: name {name!r} {problem}; accepted: 1-63 characters matching "
            "[a-z]([-a-z0-9]*[a-z0-9])?",
            field=field,
            value=name,
        )
    return name
