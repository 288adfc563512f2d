"""The three patch formats the API server accepts.

``kubectl apply`` sends strategic merge patches for built-in kinds and JSON
merge patches for custom ones, ``kubectl patch`` can send any of the three, and
controllers commonly merge-patch status. Strategic merge depends on knowing
which lists merge by which key; the table below covers the fields of the kinds
this cluster serves that kubectl relies on.
"""

from __future__ import annotations

import copy
from typing import Any

from provisioner.devcluster.errors import ApiError, bad_request

MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"

# List field name -> the key its items merge on (patchMergeKey in the Go types).
MERGE_KEYS: dict[str, str] = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "imagePullSecrets": "name",
    "conditions": "type",
    "hostAliases": "ip",
    "ownerReferences": "uid",
    "topologySpreadConstraints": "topologyKey",
    "resourceClaims": "name",
    "schedulingGates": "name",
    "taints": "key",
    "addresses": "type",
    "readinessGates": "conditionType",
}
# Lists of scalars whose patch adds to rather than replaces the existing list.
PRIMITIVE_MERGE_LISTS = {"finalizers"}


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge, null deletes, everything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _merge_key(field: str, items: list[Any]) -> str | None:
    if field == "ports":
        if any(isinstance(i, dict) and "containerPort" in i for i in items):
            return "containerPort"
        return "port"
    return MERGE_KEYS.get(field)


def strategic_merge_patch(target: Any, patch: Any) -> Any:
    """Apply a strategic merge patch, honouring the ``$patch`` family of directives."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    directive = patch.get("$patch")
    if directive == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    if directive == "delete":
        return None
    result: dict[str, Any] = dict(target) if isinstance(target, dict) else {}
    retain = patch.get("$retainKeys")
    for key, value in patch.items():
        if key in ("$patch", "$retainKeys") or key.startswith("$setElementOrder/"):
            continue
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            drop = set(value or [])
            result[field] = [v for v in result.get(field) or [] if v not in drop]
            continue
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            merged = strategic_merge_patch(result.get(key), value)
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
        elif isinstance(value, list):
            result[key] = _merge_list(key, result.get(key), value)
        else:
            result[key] = copy.deepcopy(value)
    if isinstance(retain, list):
        result = {k: v for k, v in result.items() if k in retain}
    return result


def _merge_list(field: str, current: Any, patch: list[Any]) -> list[Any]:
    current_list = list(current) if isinstance(current, list) else []
    if field in PRIMITIVE_MERGE_LISTS:
        merged = list(current_list)
        merged.extend(copy.deepcopy(v) for v in patch if v not in merged)
        return merged
    key = _merge_key(field, patch + current_list)
    if key is None or not all(isinstance(i, dict) for i in patch):
        return [copy.deepcopy(v) for v in patch if not _is_directive(v)]
    if any(isinstance(i, dict) and i.get("$patch") == "replace" for i in patch):
        return [copy.deepcopy(i) for i in patch if i.get("$patch") != "replace"]
    merged = [copy.deepcopy(i) for i in current_list]
    for item in patch:
        position = next(
            (
                n
                for n, existing in enumerate(merged)
                if isinstance(existing, dict) and existing.get(key) == item.get(key)
            ),
            None,
        )
        if item.get("$patch") == "delete":
            if position is not None:
                del merged[position]
        elif position is None:
            merged.append(strategic_merge_patch({}, item))
        else:
            merged[position] = strategic_merge_patch(merged[position], item)
    return merged


def _is_directive(value: Any) -> bool:
    return isinstance(value, dict) and "$patch" in value


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise bad_request(f"invalid JSON pointer {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _parent(doc: Any, parts: list[str]) -> Any:
    node = doc
    for part in parts[:-1]:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise ApiError(422, f"doc is missing path: /{'/'.join(parts)}")
    return node


def _get(doc: Any, parts: list[str]) -> Any:
    node = _parent(doc, parts)
    last = parts[-1]
    if isinstance(node, dict) and last in node:
        return node[last]
    if isinstance(node, list) and last.isdigit() and int(last) < len(node):
        return node[int(last)]
    raise ApiError(422, f"doc is missing path: /{'/'.join(parts)}")


def _remove(doc: Any, parts: list[str]) -> Any:
    node = _parent(doc, parts)
    value = _get(doc, parts)
    if isinstance(node, dict):
        del node[parts[-1]]
    else:
        del node[int(parts[-1])]
    return value


def _add(doc: Any, parts: list[str], value: Any) -> Any:
    if not parts:
        return value
    node = _parent(doc, parts)
    last = parts[-1]
    if isinstance(node, dict):
        node[last] = value
    elif isinstance(node, list):
        if last == "-":
            node.append(value)
        elif last.isdigit() and int(last) <= len(node):
            node.insert(int(last), value)
        else:
            raise ApiError(422, f"index out of range: {last}")
    else:
        raise ApiError(422, "cannot add to a scalar")
    return doc


def json_patch(target: Any, operations: Any) -> Any:
    """RFC 6902 add/remove/replace/move/copy/test."""
    if not isinstance(operations, list):
        raise bad_request("a JSON patch must be a list of operations")
    doc = copy.deepcopy(target)
    for operation in operations:
        if not isinstance(operation, dict) or "op" not in operation:
            raise bad_request("each JSON patch operation needs an 'op'")
        op = operation["op"]
        parts = _pointer(str(operation.get("path", "")))
        if op == "add":
            doc = _add(doc, parts, copy.deepcopy(operation.get("value")))
        elif op == "remove":
            _remove(doc, parts)
        elif op == "replace":
            if not parts:
                doc = copy.deepcopy(operation.get("value"))
                continue
            _get(doc, parts)
            node = _parent(doc, parts)
            if isinstance(node, dict):
                node[parts[-1]] = copy.deepcopy(operation.get("value"))
            else:
                node[int(parts[-1])] = copy.deepcopy(operation.get("value"))
        elif op in ("move", "copy"):
            source = _pointer(str(operation.get("from", "")))
            value = _remove(doc, source) if op == "move" else copy.deepcopy(_get(doc, source))
            doc = _add(doc, parts, value)
        elif op == "test":
            if _get(doc, parts) != operation.get("value"):
                raise ApiError(422, f"testing value /{'/'.join(parts)} failed")
        else:
            raise bad_request(f"unknown JSON patch operation {op!r}")
    return doc


def apply_patch(content_type: str, target: Any, body: Any, *, builtin: bool) -> Any:
    """Dispatch on the request's Content-Type the way the real server does."""
    kind = content_type.split(";")[0].strip()
    if kind == MERGE_PATCH:
        return merge_patch(target, body)
    if kind == STRATEGIC_PATCH:
        if not builtin:
            raise ApiError(
                415,
                "the body of the request was in an unknown format - accepted media types "
                "include: application/json-patch+json, application/merge-patch+json",
                reason="UnsupportedMediaType",
            )
        return strategic_merge_patch(target, body)
    if kind == JSON_PATCH:
        return json_patch(target, body)
    raise ApiError(
        415,
        f"the body of the request was in an unknown format - accepted media types include: "
        f"{JSON_PATCH}, {MERGE_PATCH}, {STRATEGIC_PATCH}",
        reason="UnsupportedMediaType",
    )
