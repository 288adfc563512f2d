"""Just enough OpenAPI v3 for kubectl to validate and apply without flags.

kubectl asks the OpenAPI document two questions before it writes: does the
server accept ``fieldValidation`` on PATCH for this kind (if so, it lets the
server validate instead of needing a full client-side schema), and can it
compute a strategic merge patch from the document (we say no, so it falls back
to the schemas compiled into kubectl, whose merge keys match ours). The
schemas themselves are permissive except for custom resources, which carry
their CRD's schema so ``kubectl explain`` has something to show.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from provisioner.devcluster.resources import Catalog, ResourceType

Obj = dict[str, Any]

_QUERY_PARAMS = ("fieldValidation", "dryRun", "fieldManager", "force", "pretty")


def gv_path(group: str, version: str) -> str:
    return f"api/{version}" if not group else f"apis/{group}/{version}"


def _schema_name(rtype: ResourceType) -> str:
    group = rtype.group or "core"
    return f"io.k8s.dev.{group}.{rtype.version}.{rtype.kind}"


def _gvk(rtype: ResourceType) -> Obj:
    return {"group": rtype.group, "version": rtype.version, "kind": rtype.kind}


def _schema(rtype: ResourceType) -> Obj:
    base: Obj = dict(rtype.schema) if rtype.schema else {"type": "object"}
    properties = dict(base.get("properties") or {})
    properties.setdefault("apiVersion", {"type": "string"})
    properties.setdefault("kind", {"type": "string"})
    properties["metadata"] = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    base["properties"] = properties
    if not rtype.schema:
        base["x-kubernetes-preserve-unknown-fields"] = True
    base["x-kubernetes-group-version-kind"] = [_gvk(rtype)]
    return base


def _operation(rtype: ResourceType, action: str, schema_ref: str) -> Obj:
    return {
        "operationId": f"{action}{rtype.kind}",
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": _gvk(rtype),
        "parameters": [
            {"name": name, "in": "query", "schema": {"type": "string"}, "uniqueItems": True}
            for name in _QUERY_PARAMS
        ],
        "responses": {
            "200": {
                "description": "OK",
                "content": {"application/json": {"schema": {"$ref": schema_ref}}},
            }
        },
    }


def group_version_document(catalog: Catalog, group: str, version: str) -> Obj | None:
    types = [t for t in catalog.all() if t.group == group and t.version == version]
    if not types:
        return None
    paths: Obj = {}
    schemas: Obj = {}
    prefix = "/" + gv_path(group, version)
    for rtype in types:
        name = _schema_name(rtype)
        schemas[name] = _schema(rtype)
        ref = f"#/components/schemas/{name}"
        scope = f"{prefix}/namespaces/{{namespace}}" if rtype.namespaced else prefix
        paths[f"{scope}/{rtype.plural}"] = {
            "get": _operation(rtype, "list", ref),
            "post": _operation(rtype, "post", ref),
        }
        paths[f"{scope}/{rtype.plural}/{{name}}"] = {
            "get": _operation(rtype, "get", ref),
            "put": _operation(rtype, "put", ref),
            "patch": _operation(rtype, "patch", ref),
            "delete": _operation(rtype, "delete", ref),
        }
        if rtype.status:
            paths[f"{scope}/{rtype.plural}/{{name}}/status"] = {
                "get": _operation(rtype, "get", ref),
                "put": _operation(rtype, "put", ref),
                "patch": _operation(rtype, "patch", ref),
            }
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.32.0"},
        "paths": paths,
        "components": {"schemas": schemas},
    }


def document_hash(document: Obj) -> str:
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()[:32].upper()


def root_document(catalog: Catalog) -> Obj:
    paths: Obj = {}
    for group, versions in catalog.groups().items():
        for version in versions:
            document = group_version_document(catalog, group, version)
            if document is None:
                continue
            path = gv_path(group, version)
            paths[path] = {
                "serverRelativeURL": f"/openapi/v3/{path}?hash={document_hash(document)}"
            }
    return {"paths": paths}
