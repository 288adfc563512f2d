"""The ownership scheme: how a Compute Engine resource says which cluster, class and key own it.

Every resource we create carries a description marker, set in the insert call itself, so a
resource never exists unmarked. It is compact JSON holding the same facts as the AWS tags:

    {"provisioner.io/class": "<load balancer class>",
     "provisioner.io/cluster": "<cluster name>",
     "provisioner.io/owner": "<key, e.g. Service/default/web>",
     "provisioner.io/resource": "<role>"}

Roles: `address`, `health-check`, `backend-service:<tcp|udp>`, `forwarding-rule:<tcp|udp>`,
`firewall:traffic`, `firewall:health-check`, and `instance-group` (owned by the shared key
`Shared/gcp/instance-group:<zone>`, one per zone per cluster). An Ingress key's Application
Load Balancer (global resources): `address`, `firewall:application`,
`health-check:<backend id>`, `backend-service:<backend id>`, `url-map:<ports>`,
`target-proxy:<port>` and `forwarding-rule:<port>`.

Resources that have labels (forwarding rules, addresses) carry the same facts as labels too,
so that they can be filtered and seen in the console. Label values allow only 63 characters
of `[a-z0-9_-]`, so they hold a hash of each value:

    provisioner-cluster   sha256(cluster)[:32]
    provisioner-class     sha256(class)[:32]
    provisioner-owner     sha256(key)[:32]

The description is authoritative: a resource is ours only when cluster, class and owner in
it all match (and, where it has our labels, those agree). A resource that we would create or
use but that carries other marks, or none, is an `OwnershipConflict` and is never modified or
deleted. User tags (`provisioner.io/tags`) become labels where the resource has labels.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from providers.base import InvalidSpec
from provisioner.annotations import PREFIX

CLUSTER = PREFIX + "cluster"
CLASS = PREFIX + "class"
OWNER = PREFIX + "owner"
RESOURCE = PREFIX + "resource"

LABEL_CLUSTER = "provisioner-cluster"
LABEL_CLASS = "provisioner-class"
LABEL_OWNER = "provisioner-owner"
RESERVED_LABEL_PREFIX = "provisioner-"
MAX_LABELS = 64

ADDRESS = "address"
HEALTH_CHECK = "health-check"
INSTANCE_GROUP = "instance-group"
FIREWALL_TRAFFIC = "firewall:traffic"
FIREWALL_HEALTH = "firewall:health-check"

SHARED_GROUP_PREFIX = "Shared/gcp/instance-group:"

_LABEL_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
_LABEL_VALUE = re.compile(r"^[a-z0-9_-]{0,63}$")


def backend_service_role(protocol: str) -> str:
    return f"backend-service:{protocol.lower()}"


def forwarding_rule_role(protocol: str) -> str:
    return f"forwarding-rule:{protocol.lower()}"


def group_key(zone: str) -> str:
    """The shared key that owns a zone's instance group."""
    return SHARED_GROUP_PREFIX + zone


def zone_of_group_key(key: str) -> str | None:
    return key[len(SHARED_GROUP_PREFIX) :] if key.startswith(SHARED_GROUP_PREFIX) else None


def label_hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def parse_description(text: str | None) -> dict[str, str]:
    """Our marks from a description; {} for anything that is not our JSON marker."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    if not isinstance(value, dict):
        return {}
    return {str(k): str(v) for k, v in value.items() if str(k).startswith(PREFIX)}


@dataclass(frozen=True)
class Marks:
    """The cluster and class a provider instance serves; owner and role vary per resource."""

    cluster: str
    lb_class: str

    def facts(self, owner: str, role: str) -> dict[str, str]:
        return {CLUSTER: self.cluster, CLASS: self.lb_class, OWNER: owner, RESOURCE: role}

    def description(self, owner: str, role: str) -> str:
        return json.dumps(self.facts(owner, role), sort_keys=True, separators=(",", ":"))

    def labels(self, owner: str, user: Mapping[str, str] | None = None) -> dict[str, str]:
        """Hashed marks plus user labels (already checked by `check_user_labels`)."""
        return {
            **dict(user or {}),
            LABEL_CLUSTER: label_hash(self.cluster),
            LABEL_CLASS: label_hash(self.lb_class),
            LABEL_OWNER: label_hash(owner),
        }

    def ours(self, resource: Mapping[str, Any]) -> bool:
        """Marked by this cluster and class, whatever the owner (garbage collection)."""
        facts = parse_description(resource.get("description"))
        return facts.get(CLUSTER) == self.cluster and facts.get(CLASS) == self.lb_class

    def owns(self, resource: Mapping[str, Any], owner: str) -> bool:
        facts = parse_description(resource.get("description"))
        if not (self.ours(resource) and facts.get(OWNER) == owner):
            return False
        labels = resource.get("labels") or {}
        expected = self.labels(owner)
        return all(labels[k] == v for k, v in expected.items() if k in labels)


def owner(resource: Mapping[str, Any]) -> str:
    return parse_description(resource.get("description")).get(OWNER, "")


def role(resource: Mapping[str, Any]) -> str:
    return parse_description(resource.get("description")).get(RESOURCE, "")


def describe_marks(resource: Mapping[str, Any]) -> str:
    """How a conflicting resource is marked, for error messages."""
    facts = parse_description(resource.get("description"))
    if not any(k in facts for k in (CLUSTER, CLASS, OWNER)):
        return "no provisioner.io marks"
    return ", ".join(f"{k}={facts.get(k, '')!r}" for k in (CLUSTER, CLASS, OWNER))


def check_user_labels(tags: Mapping[str, str]) -> dict[str, str]:
    """User tags as GCP labels: refuse what GCP would refuse, and our reserved keys."""
    for key, value in tags.items():
        if key.startswith(PREFIX) or key.startswith(RESERVED_LABEL_PREFIX):
            raise InvalidSpec(
                f"annotation provisioner.io/tags: key {key!r} is reserved for ownership marks; "
                "accepted: any other label key",
                field="provisioner.io/tags",
                value=key,
            )
        if not _LABEL_KEY.match(key) or not _LABEL_VALUE.match(value):
            raise InvalidSpec(
                f"annotation provisioner.io/tags: {key}={value} is not a valid GCP label; "
                "accepted: keys of 1-63 characters of [a-z0-9_-] starting with a letter, "
                "values of at most 63 characters of [a-z0-9_-]",
                field="provisioner.io/tags",
                value=key,
            )
    if len(tags) + 3 > MAX_LABELS:
        raise InvalidSpec(
            f"annotation provisioner.io/tags: {len(tags)} labels plus 3 ownership labels "
            f"exceed GCP's limit of {MAX_LABELS}",
            field="provisioner.io/tags",
            value=",".join(sorted(tags)),
        )
    return dict(tags)
