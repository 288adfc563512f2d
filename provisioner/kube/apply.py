"""Create or update manifests through the API, for the demo (what `kubectl apply` would do).

Kinds are found through the API server's discovery documents, so custom resources and any
built-in kind work without a table here. Updates are whole-object replacements carrying the
current resourceVersion; that is enough for a demo applying its own files, and keeps this
from becoming a second kubectl.
"""

from __future__ import annotations

from collections.abc import Iterable

from provisioner.kube.api import Api, ApiError, Obj, Resource

# Kinds other objects depend on go first, as kubectl's apply ordering does.
_FIRST = ("Namespace", "CustomResourceDefinition", "IngressClassParams", "IngressClass")


class Discovery:
    def __init__(self, api: Api) -> None:
        self.api = api
        self._known: dict[tuple[str, str], Resource] = {}

    def resource(self, api_version: str, kind: str) -> Resource:
        found = self._known.get((api_version, kind))
        if found is not None:
            return found
        group, _, version = api_version.rpartition("/")
        path = f"/apis/{group}/{version}" if group else f"/api/{version}"
        body = self.api.request("GET", path)
        for entry in body.get("resources") or []:
            if "/" in entry.get("name", ""):
                continue  # subresources such as services/status
            resource = Resource(
                kind=entry["kind"],
                plural=entry["name"],
                group=group,
                version=version,
                namespaced=bool(entry.get("namespaced")),
            )
            self._known[(api_version, resource.kind)] = resource
        if (api_version, kind) not in self._known:
            raise ApiError(404, "NotFound", f"the server has no kind {kind} in {api_version}")
        return self._known[(api_version, kind)]


def _order(obj: Obj) -> int:
    kind = str(obj.get("kind"))
    return _FIRST.index(kind) if kind in _FIRST else len(_FIRST)


def apply_objects(api: Api, objects: Iterable[Obj], *, namespace: str = "default") -> list[Obj]:
    """Create each object, or replace it when it exists; returns what the server holds."""
    discovery = Discovery(api)
    applied = []
    for obj in sorted(objects, key=_order):
        resource = discovery.resource(str(obj.get("apiVersion")), str(obj.get("kind")))
        meta = obj.setdefault("metadata", {})
        ns = (meta.get("namespace") or namespace) if resource.namespaced else None
        if ns:
            meta["namespace"] = ns
        try:
            applied.append(api.create(resource, ns, obj))
        except ApiError as err:
            if not err.conflict:
                raise
            current = api.get(resource, ns, str(meta.get("name")))
            meta["resourceVersion"] = current["metadata"]["resourceVersion"]
            applied.append(api.replace(resource, ns, str(meta.get("name")), obj))
    return applied
