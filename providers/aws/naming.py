"""Names of the resources we create, and AWS's rules for names users give.

A name is computed once, when a resource is created, from a hash of the owner key and every
field that cannot change in place. A change to such a field therefore yields a new name, so
the replacement can exist beside the resource it replaces (create before delete). Existing
resources are found by their marks, never by recomputing a name, so changing this scheme
later would not orphan anything.
"""

from __future__ import annotations

import hashlib
import re

from providers.base import InvalidSpec
from provisioner.model import split_key

MAX_NAME = 32
_ALLOWED = re.compile(r"^[A-Za-z0-9-]+$")


def _sanitise(text: str, limit: int) -> str:
    cleaned = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return cleaned[:limit].strip("-") or "x"


def _hash(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:10]


def _name(key: str, *parts: str) -> str:
    _, namespace, name = split_key(key)
    return f"k8s-{_sanitise(namespace or 'cluster', 8)}-{_sanitise(name, 8)}-{_hash(key, *parts)}"


def load_balancer_name(key: str, *, scheme: str, lb_type: str = "network") -> str:
    return _name(key, "load-balancer", scheme, lb_type)


def target_group_name(
    key: str,
    *,
    backend_id: str,
    protocol: str,
    port: int,
    target_type: str,
    vpc_id: str,
    load_balancer_name: str,
    protocol_version: str | None = None,
) -> str:
    """A target group serves one load balancer only, so a replaced LB gets new groups.

    The protocol version (ALB target groups) cannot change in place either; it joins the
    hash only when set, so the names of NLB target groups are unaffected.
    """
    parts = [backend_id, protocol, str(port), target_type, vpc_id, load_balancer_name]
    if protocol_version is not None:
        parts.append(protocol_version)
    return _name(key, "target-group", *parts)


def security_group_name(key: str, *, vpc_id: str) -> str:
    return _name(key, "security-group", vpc_id)


def name_problem(name: str) -> str | None:
    """Why AWS would refuse `name` for a load balancer or target group, or None."""
    if not name:
        return "must not be empty"
    if len(name) > MAX_NAME:
        return f"must be at most {MAX_NAME} characters (it has {len(name)})"
    if not _ALLOWED.match(name):
        return "may contain only letters, digits and hyphens"
    if name.startswith("-") or name.endswith("-"):
        return "must not begin or end with a hyphen"
    if name.lower().startswith("internal-"):
        return 'must not begin with "internal-"'
    return None


def check_name(name: str, *, field: str = "name") -> str:
    problem = name_problem(name)
    if problem is not None:
        raise InvalidSpec(
            f"{field}: load balancer name {name!r} {problem}; accepted: at most {MAX_NAME} "
            "letters, digits and hyphens, not beginning or ending with a hyphen, not beginning "
            'with "internal-"',
            field=field,
            value=name,
        )
    return name
