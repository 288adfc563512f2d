"""The ownership scheme: how a resource in AWS says which cluster, class and key it belongs to.

Every resource the provider creates carries these tags, set in the create call itself
(elbv2 `Tags=`, ec2 `TagSpecifications=`), so a resource never exists unmarked, even for an
instant before a crash:

    provisioner.io/cluster   the cluster name given to the controller
    provisioner.io/class     the load balancer class the controller serves
    provisioner.io/owner     the key that owns it, e.g. `Service/default/web`
    provisioner.io/resource  its role within the key:
                               load-balancer
                               listener:<port>
                               rule:<route id>[:<n>]          (ALB listener rules; n-th part
                                                              of a route split over several)
                               backend:<backend id>          (target groups; `default/web:80`)
                               security-group                (the managed frontend group)
                               backend-rule                  (ingress rules we add to the
                                                              node security group; the rule
                                                              itself names its port)

ALB rules carry one more tag, `provisioner.io/ingress` (`<ns>/<name>`), naming the Ingress
whose route the rule carries (absent on generated rules): while that Ingress is in error, its
rules are kept exactly as they are.

A resource is ours only when cluster, class and owner all match. Anything we would use or
adopt (same name) that carries other marks, or none, is an `OwnershipConflict`: it is never
modified or deleted. The one resource we change inside something we do not own is an ingress
rule on the node security group, and only rules carrying our marks are ever revoked.

User tags come on top of the marks; they may not use the `provisioner.io/` prefix, and the
total stays within AWS's 50 tags per resource (moto does not enforce that limit; we do).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from providers.base import InvalidSpec
from provisioner.annotations import PREFIX

CLUSTER = PREFIX + "cluster"
CLASS = PREFIX + "class"
OWNER = PREFIX + "owner"
RESOURCE = PREFIX + "resource"
INGRESS = PREFIX + "ingress"

MAX_TAGS = 50

LOAD_BALANCER = "load-balancer"
SECURITY_GROUP = "security-group"


def listener_role(port: int) -> str:
    return f"listener:{port}"


def backend_role(backend_id: str) -> str:
    return f"backend:{backend_id}"


BACKEND_RULE = "backend-rule"
"""Role of our ingress rules on the node group. The rule itself says which port it opens, and
one role for all of a key's rules lets them be added in a single tagged call."""


@dataclass(frozen=True)
class Marks:
    """The cluster and class a provider instance serves; owner and role vary per resource."""

    cluster: str
    lb_class: str

    def tags(
        self,
        owner: str,
        role: str,
        user: Mapping[str, str] | None = None,
        *,
        ingress: str | None = None,
    ) -> dict[str, str]:
        """Marks plus user tags for one resource; refuses reserved keys and the 50-tag limit."""
        marks = {CLUSTER: self.cluster, CLASS: self.lb_class, OWNER: owner, RESOURCE: role}
        if ingress is not None:
            marks[INGRESS] = ingress
        extra = dict(user or {})
        check_user_tags(extra)
        merged = {**extra, **marks}
        if len(merged) > MAX_TAGS:
            raise InvalidSpec(
                f"tags: {len(extra)} user tags plus {len(marks)} ownership tags exceed AWS's "
                f"limit of {MAX_TAGS} tags per resource; remove at least "
                f"{len(merged) - MAX_TAGS}",
                field="tags",
                value=",".join(sorted(extra)),
            )
        return merged

    def search_filters(self, owner: str | None = None) -> dict[str, str]:
        """The tag values a search must match: cluster and class, and the owner if given."""
        wanted = {CLUSTER: self.cluster, CLASS: self.lb_class}
        if owner is not None:
            wanted[OWNER] = owner
        return wanted

    def owns(self, tags: Mapping[str, str], owner: str) -> bool:
        return (
            tags.get(CLUSTER) == self.cluster
            and tags.get(CLASS) == self.lb_class
            and tags.get(OWNER) == owner
        )

    def ours(self, tags: Mapping[str, str]) -> bool:
        """Marked by this cluster and class, whatever the owner (garbage collection)."""
        return tags.get(CLUSTER) == self.cluster and tags.get(CLASS) == self.lb_class


def check_user_tags(tags: Mapping[str, str]) -> None:
    reserved = sorted(k for k in tags if k.startswith(PREFIX))
    if reserved:
        raise InvalidSpec(
            f"tags: key {reserved[0]!r} uses the reserved prefix {PREFIX}; "
            "accepted: any other tag key",
            field="tags",
            value=reserved[0],
        )
    for key, value in tags.items():
        if not 1 <= len(key) <= 128 or len(value) > 256 or key.lower().startswith("aws:"):
            raise InvalidSpec(
                f"tags: {key!r}={value!r} is not a valid AWS tag; accepted: keys of 1-128 "
                "characters not starting with aws:, values of at most 256 characters",
                field="tags",
                value=key,
            )


def tag_list(tags: Mapping[str, str]) -> list[dict[str, str]]:
    """elbv2 / ec2 wire shape, sorted so that requests are deterministic."""
    return [{"Key": k, "Value": v} for k, v in sorted(tags.items())]


def tag_dict(tags: Iterable[Mapping[str, Any]] | None) -> dict[str, str]:
    return {str(t["Key"]): str(t.get("Value", "")) for t in tags or ()}


def tag_specifications(resource_type: str, tags: Mapping[str, str]) -> list[dict[str, Any]]:
    return [{"ResourceType": resource_type, "Tags": tag_list(tags)}]


def role(tags: Mapping[str, str]) -> str:
    return tags.get(RESOURCE, "")


def describe_marks(tags: Mapping[str, str]) -> str:
    """How a conflicting resource is marked, for error messages."""
    if not any(k in tags for k in (CLUSTER, CLASS, OWNER)):
        return "no provisioner.io marks"
    return ", ".join(f"{k}={tags.get(k, '')!r}" for k in (CLUSTER, CLASS, OWNER))
