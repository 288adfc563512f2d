"""Carrying out a plan: one handler per (resource type, action), each safe to run twice.

Apply is re-run after crashes and lost responses, so every handler tolerates the world being
a step ahead of the plan: a delete of something already gone succeeds; an insert refused as
already existing adopts the resource when it carries the owner's marks, and is an
`OwnershipConflict` otherwise; adding a node that is already a member, or removing one that
is not, is success. Fingerprinted updates send the fingerprint read while planning: if the
resource changed since, the 412 is a `Conflict` and the key is planned again, never retried.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from providers.base import (
    Change,
    Conflict,
    NotFound,
    OwnershipConflict,
    Plan,
    ProviderError,
    Status,
    resolve_refs,
)
from providers.gcp import marks as m
from providers.gcp.changes import ADDRESS_REF
from providers.gcp.client import Compute
from providers.gcp.errors import ALREADY_EXISTS_REASONS, MEMBER_EXISTS_REASONS, reasons_of

MEMBER_MISSING_REASONS = frozenset({"memberNotFound", "MEMBER_NOT_FOUND"})
MEMBER_BATCH = 500

Handler = Callable[["Executor", Change, dict[str, Any]], None]

COLLECTIONS = {
    "address": ("addresses", "address", "address_resource"),
    "health-check": ("regionHealthChecks", "health_check", "health_check_resource"),
    "backend-service": ("regionBackendServices", "backend_service", "backend_service_resource"),
    "firewall": ("firewalls", "firewall", "firewall_resource"),
    "forwarding-rule": ("forwardingRules", "forwarding_rule", "forwarding_rule_resource"),
    "instance-group": ("instanceGroups", "instance_group", "instance_group_resource"),
}
"""Change type -> (REST collection, name parameter, body parameter)."""

GLOBAL_COLLECTIONS = {
    "globalAddresses": ("globalAddresses", "address", "address_resource"),
    "globalForwardingRules": (
        "globalForwardingRules",
        "forwarding_rule",
        "forwarding_rule_resource",
    ),
    "healthChecks": ("healthChecks", "health_check", "health_check_resource"),
    "backendServices": ("backendServices", "backend_service", "backend_service_resource"),
    "urlMaps": ("urlMaps", "url_map", "url_map_resource"),
    "targetHttpProxies": ("targetHttpProxies", "target_http_proxy", "target_http_proxy_resource"),
    "targetHttpsProxies": (
        "targetHttpsProxies",
        "target_https_proxy",
        "target_https_proxy_resource",
    ),
    "firewalls": ("firewalls", "firewall", "firewall_resource"),
    "sslCertificates": ("sslCertificates", "ssl_certificate", "ssl_certificate_resource"),
    "sslPolicies": ("sslPolicies", "ssl_policy", "ssl_policy_resource"),
}
"""The collections of an Application Load Balancer: its changes name theirs in `collection`."""


def collection_of(change: Change, p: Mapping[str, Any]) -> tuple[str, str, str]:
    if "collection" in p:
        return GLOBAL_COLLECTIONS[str(p["collection"])]
    return COLLECTIONS[change.type]


class Executor:
    """Runs one plan's changes in order, resolving the new address's IP on the way."""

    def __init__(self, compute: Compute, marks: m.Marks) -> None:
        self.compute = compute
        self.marks = marks
        self.resolved: dict[str, str] = {}

    def run(self, plan: Plan) -> Status:
        for change in plan.changes:
            params = resolve_refs(change.params, self.resolved)
            HANDLERS[(change.type, change.action.value)](self, change, params)
        if plan.deleting:
            return Status(holds_resources=False)
        ip = plan.observed.get("address") or self.resolved.get(ADDRESS_REF, "")
        detail = {
            "name": plan.observed.get("address_name", ""),
            "target_groups": dict(plan.observed.get("target_groups", {})),
        }
        return Status(ips=(str(ip),) if ip else (), holds_resources=True, detail=detail)

    def scope(self, p: Mapping[str, Any]) -> dict[str, str]:
        out = {"project": self.compute.project}
        for name in ("region", "zone"):
            if name in p:
                out[name] = str(p[name])
        return out


def _get(ex: Executor, change: Change, p: Mapping[str, Any], name: str) -> dict[str, Any] | None:
    collection, parameter, _ = collection_of(change, p)
    return ex.compute.get(collection, **ex.scope(p), **{parameter: name})


def _insert(ex: Executor, change: Change, p: dict[str, Any]) -> dict[str, Any] | None:
    """Insert; on "already exists" adopt ours (returns it) or refuse someone else's."""
    collection, _, body_name = collection_of(change, p)
    body = p["body"]
    try:
        ex.compute.mutate(collection, "insert", **ex.scope(p), **{body_name: body})
    except Conflict as err:
        if not set(reasons_of(err)) & ALREADY_EXISTS_REASONS:
            raise
        found = _get(ex, change, p, body["name"])
        if found is None:
            raise
        if not ex.marks.owns(found, change.owner):
            raise OwnershipConflict(
                f"{change.type} {body['name']} already exists and is not owned by "
                f"{change.owner} ({m.describe_marks(found)}); it is left untouched"
            ) from err
        return found
    return None


def create(ex: Executor, change: Change, p: dict[str, Any]) -> None:
    _insert(ex, change, p)


def create_address(ex: Executor, change: Change, p: dict[str, Any]) -> None:
    found = _insert(ex, change, p) or _get(ex, change, p, p["body"]["name"])
    if found is None or not found.get("address"):
        raise ProviderError(f"address {p['body']['name']} has no IP after it was reserved")
    ex.resolved[change.ref or ADDRESS_REF] = str(found["address"])


def remove(ex: Executor, change: Change, p: dict[str, Any]) -> None:
    collection, parameter, _ = collection_of(change, p)
    try:
        ex.compute.mutate(collection, "delete", **ex.scope(p), **{parameter: p["name"]})
    except NotFound:
        return


def patch(ex: Executor, change: Change, p: dict[str, Any]) -> None:
    collection, parameter, body_name = collection_of(change, p)
    ex.compute.mutate(
        collection, "patch", **ex.scope(p), **{parameter: p["name"], body_name: p["body"]}
    )


def update_whole(ex: Executor, change: Change, p: dict[str, Any]) -> None:
    """A full replacement (`update`): a health check whose type changed drops the old probe
    fields, and a URL map is always written whole (with the fingerprint read while planning)."""
    collection, parameter, body_name = collection_of(change, p)
    ex.compute.mutate(
        collection, "update", **ex.scope(p), **{parameter: p["name"], body_name: p["body"]}
    )


def update_firewall(ex: Executor, change: Change, p: dict[str, Any]) -> None:
    """A patch, or the whole rule when a target must go (a patch cannot clear a list)."""
    (update_whole if p.get("whole") else patch)(ex, change, p)


def set_labels(ex: Executor, change: Change, p: dict[str, Any]) -> None:
    collection, _, _ = collection_of(change, p)
    field = (
        "global_set_labels_request_resource"
        if "collection" in p
        else ("region_set_labels_request_resource")
    )
    ex.compute.mutate(
        collection,
        "setLabels",
        **ex.scope(p),
        resource=p["name"],
        **{field: {"labels": p["labels"], "labelFingerprint": p["labelFingerprint"]}},
    )


def update_labelled(ex: Executor, change: Change, p: dict[str, Any]) -> None:
    if "target" in p:
        ex.compute.mutate(
            "globalForwardingRules",
            "setTarget",
            **ex.scope(p),
            forwarding_rule=p["name"],
            target_reference_resource={"target": p["target"]},
        )
    if "labels" in p:
        set_labels(ex, change, p)
    if "body" in p:
        patch(ex, change, p)


def update_proxy(ex: Executor, change: Change, p: dict[str, Any]) -> None:
    """A proxy changes only through its set* methods: the URL map, the certificates (all in
    one call, so a replaced certificate is swapped at once), the SSL policy."""
    collection, parameter, _ = collection_of(change, p)
    if "url_map" in p:
        ex.compute.mutate(
            collection,
            "setUrlMap",
            **ex.scope(p),
            **{parameter: p["name"]},
            url_map_reference_resource={"urlMap": p["url_map"]},
        )
    if "certificates" in p:
        ex.compute.mutate(
            collection,
            "setSslCertificates",
            **ex.scope(p),
            **{parameter: p["name"]},
            target_https_proxies_set_ssl_certificates_request_resource={
                "sslCertificates": p["certificates"]
            },
        )
    if "ssl_policy" in p:
        ex.compute.mutate(
            collection,
            "setSslPolicy",
            **ex.scope(p),
            **{parameter: p["name"]},
            ssl_policy_reference_resource={"sslPolicy": p["ssl_policy"]},
        )


def _members(ex: Executor, p: Mapping[str, Any], method: str, paths: list[str]) -> None:
    field = "instance_groups_add_instances_request_resource"
    tolerated = MEMBER_EXISTS_REASONS
    if method == "removeInstances":
        field = "instance_groups_remove_instances_request_resource"
        tolerated = MEMBER_MISSING_REASONS

    def send(instances: list[str]) -> None:
        ex.compute.mutate(
            "instanceGroups",
            method,
            **ex.scope(p),
            instance_group=p["name"],
            **{field: {"instances": [{"instance": i} for i in instances]}},
        )

    for start in range(0, len(paths), MEMBER_BATCH):
        batch = paths[start : start + MEMBER_BATCH]
        try:
            send(batch)
        except ProviderError as err:
            if not set(reasons_of(err)) & tolerated:
                raise
            # Someone got there first for part of the batch: one call per instance decides.
            for instance in batch:
                try:
                    send([instance])
                except ProviderError as one:
                    if not set(reasons_of(one)) & tolerated:
                        raise


def create_group(ex: Executor, change: Change, p: dict[str, Any]) -> None:
    _insert(ex, change, p)
    if p.get("add"):
        _members(ex, {**p, "name": p["body"]["name"]}, "addInstances", list(p["add"]))


def update_group(ex: Executor, change: Change, p: dict[str, Any]) -> None:
    if "named_ports" in p:
        ex.compute.mutate(
            "instanceGroups",
            "setNamedPorts",
            **ex.scope(p),
            instance_group=p["name"],
            instance_groups_set_named_ports_request_resource={
                "namedPorts": p["named_ports"],
                "fingerprint": p["fingerprint"],
            },
        )
    if p.get("add"):
        _members(ex, p, "addInstances", list(p["add"]))
    if p.get("remove"):
        _members(ex, p, "removeInstances", list(p["remove"]))


HANDLERS: dict[tuple[str, str], Handler] = {
    ("address", "create"): create_address,
    ("address", "update"): update_labelled,
    ("address", "delete"): remove,
    ("health-check", "create"): create,
    ("health-check", "update"): update_whole,
    ("health-check", "delete"): remove,
    ("instance-group", "create"): create_group,
    ("instance-group", "update"): update_group,
    ("instance-group", "delete"): remove,
    ("backend-service", "create"): create,
    ("backend-service", "update"): patch,
    ("backend-service", "delete"): remove,
    ("firewall", "create"): create,
    ("firewall", "update"): update_firewall,
    ("firewall", "delete"): remove,
    ("forwarding-rule", "create"): create,
    ("forwarding-rule", "update"): update_labelled,
    ("forwarding-rule", "delete"): remove,
    ("url-map", "create"): create,
    ("url-map", "update"): update_whole,
    ("url-map", "delete"): remove,
    ("target-proxy", "create"): create,
    ("target-proxy", "update"): update_proxy,
    ("target-proxy", "delete"): remove,
    ("ssl-policy", "create"): create,
    ("ssl-policy", "update"): patch,
    ("ssl-policy", "delete"): remove,
    ("ssl-certificate", "create"): create,
    ("ssl-certificate", "delete"): remove,
}
