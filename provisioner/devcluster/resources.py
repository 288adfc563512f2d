"""The kinds the dev cluster serves, and the discovery documents built from them.

kubectl and client libraries learn what exists through discovery before they
send a single object, so the catalog of kinds is the one place that decides
what a URL means: which group/version/plural maps to which kind, whether it is
namespaced, and which subresources it has. CustomResourceDefinitions add to
and remove from the same catalog at run time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Obj = dict[str, Any]

ALL_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]


@dataclass(frozen=True)
class ResourceType:
    """One served group/version/resource.

    ``storage`` names where objects live: several versions (or, for Events,
    several groups) can share one store, with ``to_view``/``from_view``
    converting between the stored shape and the served one.
    """

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    singular: str = ""
    status: bool = False
    scale: bool = False
    categories: tuple[str, ...] = ()
    storage_key: tuple[str, str] | None = None
    schema: Obj | None = None
    to_view: Callable[[Obj], Obj] | None = field(default=None, compare=False)
    from_view: Callable[[Obj], Obj] | None = field(default=None, compare=False)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def storage(self) -> tuple[str, str]:
        return self.storage_key or (self.group, self.plural)

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    def discovery_entries(self) -> list[Obj]:
        entry: Obj = {
            "name": self.plural,
            "singularName": self.singular or self.kind.lower(),
            "namespaced": self.namespaced,
            "kind": self.kind,
            "verbs": ALL_VERBS,
        }
        if self.short_names:
            entry["shortNames"] = list(self.short_names)
        if self.categories:
            entry["categories"] = list(self.categories)
        entries = [entry]
        if self.status:
            entries.append(
                {
                    "name": f"{self.plural}/status",
                    "singularName": "",
                    "namespaced": self.namespaced,
                    "kind": self.kind,
                    "verbs": ["get", "patch", "update"],
                }
            )
        if self.scale:
            entries.append(
                {
                    "name": f"{self.plural}/scale",
                    "singularName": "",
                    "namespaced": self.namespaced,
                    "group": "autoscaling",
                    "version": "v1",
                    "kind": "Scale",
                    "verbs": ["get", "patch", "update"],
                }
            )
        return entries


def _event_to_events_v1(obj: Obj) -> Obj:
    """Render a stored core/v1 Event the way events.k8s.io/v1 serves it."""
    renames = {
        "involvedObject": "regarding",
        "message": "note",
        "source": "deprecatedSource",
        "firstTimestamp": "deprecatedFirstTimestamp",
        "lastTimestamp": "deprecatedLastTimestamp",
        "count": "deprecatedCount",
        "reportingComponent": "reportingController",
    }
    view = {renames.get(key, key): value for key, value in obj.items()}
    if not view.get("eventTime"):
        # events.k8s.io requires eventTime; core events often only carry timestamps.
        moment = obj.get("firstTimestamp") or obj.get("metadata", {}).get("creationTimestamp")
        if moment:
            view["eventTime"] = moment.replace("Z", ".000000Z")
    return view


def _event_from_events_v1(obj: Obj) -> Obj:
    renames = {
        "regarding": "involvedObject",
        "note": "message",
        "deprecatedSource": "source",
        "deprecatedFirstTimestamp": "firstTimestamp",
        "deprecatedLastTimestamp": "lastTimestamp",
        "deprecatedCount": "count",
        "reportingController": "reportingComponent",
    }
    return {renames.get(key, key): value for key, value in obj.items()}


BUILTIN: tuple[ResourceType, ...] = (
    ResourceType("", "v1", "namespaces", "Namespace", False, ("ns",), status=True),
    ResourceType("", "v1", "nodes", "Node", False, ("no",), status=True),
    ResourceType("", "v1", "pods", "Pod", True, ("po",), status=True, categories=("all",)),
    ResourceType("", "v1", "services", "Service", True, ("svc",), status=True, categories=("all",)),
    ResourceType("", "v1", "endpoints", "Endpoints", True, ("ep",)),
    ResourceType("", "v1", "events", "Event", True, ("ev",)),
    ResourceType("", "v1", "secrets", "Secret", True),
    ResourceType("", "v1", "configmaps", "ConfigMap", True, ("cm",)),
    ResourceType("", "v1", "serviceaccounts", "ServiceAccount", True, ("sa",)),
    ResourceType(
        "apps",
        "v1",
        "deployments",
        "Deployment",
        True,
        ("deploy",),
        status=True,
        scale=True,
        categories=("all",),
    ),
    ResourceType(
        "apps",
        "v1",
        "replicasets",
        "ReplicaSet",
        True,
        ("rs",),
        status=True,
        scale=True,
        categories=("all",),
    ),
    ResourceType("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", True),
    ResourceType(
        "events.k8s.io",
        "v1",
        "events",
        "Event",
        True,
        ("ev",),
        storage_key=("", "events"),
        to_view=_event_to_events_v1,
        from_view=_event_from_events_v1,
    ),
    ResourceType("coordination.k8s.io", "v1", "leases", "Lease", True),
    ResourceType("networking.k8s.io", "v1", "ingresses", "Ingress", True, ("ing",), status=True),
    ResourceType("networking.k8s.io", "v1", "ingressclasses", "IngressClass", False),
    ResourceType(
        "apiextensions.k8s.io",
        "v1",
        "customresourcedefinitions",
        "CustomResourceDefinition",
        False,
        ("crd", "crds"),
        status=True,
    ),
)

# Preferred versions of groups that appear more than once are the first listed.
GROUP_ORDER = [
    "",
    "apps",
    "events.k8s.io",
    "discovery.k8s.io",
    "coordination.k8s.io",
    "networking.k8s.io",
    "apiextensions.k8s.io",
]


class Catalog:
    """Thread-safe lookup of served kinds; CRDs register and unregister here."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._types: dict[tuple[str, str, str], ResourceType] = {}
        for rtype in BUILTIN:
            self._types[(rtype.group, rtype.version, rtype.plural)] = rtype
        self._builtin = set(self._types)

    def lookup(self, group: str, version: str, plural: str) -> ResourceType | None:
        with self._lock:
            return self._types.get((group, version, plural))

    def by_kind(self, api_version: str, kind: str) -> ResourceType | None:
        group, _, version = api_version.rpartition("/")
        with self._lock:
            for rtype in self._types.values():
                if rtype.group == group and rtype.version == version and rtype.kind == kind:
                    return rtype
        return None

    def versions_of(self, group: str, plural: str) -> list[ResourceType]:
        with self._lock:
            return [t for t in self._types.values() if t.group == group and t.plural == plural]

    def all(self) -> list[ResourceType]:
        with self._lock:
            return list(self._types.values())

    def is_builtin(self, rtype: ResourceType) -> bool:
        return (rtype.group, rtype.version, rtype.plural) in self._builtin

    def replace_group_resource(self, group: str, plural: str, types: list[ResourceType]) -> None:
        """Swap every served version of one custom resource in one step."""
        with self._lock:
            for key in [k for k in self._types if k[0] == group and k[2] == plural]:
                if key not in self._builtin:
                    del self._types[key]
            for rtype in types:
                self._types[(rtype.group, rtype.version, rtype.plural)] = rtype

    def groups(self) -> dict[str, list[str]]:
        """Group name -> served versions, preferred version first."""
        result: dict[str, list[str]] = {}
        with self._lock:
            types = list(self._types.values())
        for rtype in types:
            versions = result.setdefault(rtype.group, [])
            if rtype.version not in versions:
                versions.append(rtype.version)
        for versions in result.values():
            versions.sort(key=_version_priority)
        ordered = {g: result[g] for g in GROUP_ORDER if g in result}
        ordered.update({g: v for g, v in sorted(result.items()) if g not in ordered})
        return ordered

    # Discovery documents -------------------------------------------------

    def core_versions(self) -> Obj:
        return {
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": ""}],
        }

    def group_doc(self, group: str) -> Obj | None:
        versions = self.groups().get(group)
        if not group or not versions:
            return None
        refs = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
        return {
            "kind": "APIGroup",
            "apiVersion": "v1",
            "name": group,
            "versions": refs,
            "preferredVersion": refs[0],
        }

    def group_list(self) -> Obj:
        docs = [self.group_doc(group) for group in self.groups() if group]
        for doc in docs:
            if doc is not None:
                del doc["kind"], doc["apiVersion"]
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [d for d in docs if d]}

    def resource_list(self, group: str, version: str) -> Obj | None:
        types = [t for t in self.all() if t.group == group and t.version == version]
        if not types:
            return None
        resources: list[Obj] = []
        for rtype in sorted(types, key=lambda t: t.plural):
            resources.extend(rtype.discovery_entries())
        group_version = f"{group}/{version}" if group else version
        return {
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": group_version,
            "resources": resources,
        }


def _version_priority(version: str) -> tuple[int, int, int]:
    """Kubernetes version ordering: GA before beta before alpha, newer first."""
    import re

    match = re.fullmatch(r"v(\d+)(?:(alpha|beta)(\d+))?", version)
    if not match:
        return (3, 0, 0)
    major = int(match.group(1))
    stage = {"alpha": 2, "beta": 1}.get(match.group(2) or "", 0)
    minor = int(match.group(3) or 0)
    return (stage, -major, -minor)
