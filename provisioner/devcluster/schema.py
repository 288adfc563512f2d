"""Validation, pruning and defaulting of custom objects against a CRD schema.

A controller's CRDs are part of its contract: an object the real server would
refuse must be refused here too, with the field path in the message, or tests
would pass against the dev cluster and fail against a real one. The subset of
OpenAPI v3 implemented is what structural CRD schemas use in practice.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from provisioner.devcluster.errors import field_cause

Obj = dict[str, Any]

_TYPE_CHECKS: dict[str, Any] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
}


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _shown(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(_json_type(value))
    return json.dumps(value)


class _Walker:
    """Walks one object, collecting causes and unknown fields as it goes."""

    def __init__(self) -> None:
        self.causes: list[dict[str, str]] = []
        self.unknown: list[str] = []

    def invalid(self, path: str, value: Any, detail: str) -> None:
        self.causes.append(
            field_cause(path, f"Invalid value: {_shown(value)}: {path} in body {detail}")
        )

    def walk(self, value: Any, schema: Obj, path: str) -> Any:
        """Validate ``value``; return it pruned and defaulted."""
        for part in schema.get("allOf") or []:
            value = self.walk(value, part, path)
        if value is None:
            if not schema.get("nullable"):
                self.invalid(path, value, f"must be of type {schema.get('type', 'object')}")
            return value
        if schema.get("x-kubernetes-int-or-string"):
            if not (isinstance(value, str) or _TYPE_CHECKS["integer"](value)):
                self.invalid(path, value, "must be of type integer or string")
            return value
        expected = schema.get("type")
        if expected in _TYPE_CHECKS and not _TYPE_CHECKS[expected](value):
            self.invalid(
                path, value, f"must be of type {expected}: {json.dumps(_json_type(value))}"
            )
            return value
        self._check_scalar(value, schema, path)
        if isinstance(value, dict):
            return self._walk_object(value, schema, path)
        if isinstance(value, list):
            return self._walk_array(value, schema, path)
        return value

    def _check_scalar(self, value: Any, schema: Obj, path: str) -> None:
        if "enum" in schema and value not in schema["enum"]:
            supported = ", ".join(json.dumps(v) for v in schema["enum"])
            self.causes.append(
                field_cause(
                    path,
                    f"Unsupported value: {_shown(value)}: supported values: {supported}",
                    reason="FieldValueNotSupported",
                )
            )
        if isinstance(value, int | float) and not isinstance(value, bool):
            if "minimum" in schema:
                low = schema["minimum"]
                if value < low or (schema.get("exclusiveMinimum") is True and value == low):
                    word = (
                        "greater than"
                        if schema.get("exclusiveMinimum")
                        else ("greater than or equal to")
                    )
                    self.invalid(path, value, f"should be {word} {low}")
            if "maximum" in schema:
                high = schema["maximum"]
                if value > high or (schema.get("exclusiveMaximum") is True and value == high):
                    word = (
                        "less than" if schema.get("exclusiveMaximum") else ("less than or equal to")
                    )
                    self.invalid(path, value, f"should be {word} {high}")
            if "multipleOf" in schema and value % schema["multipleOf"]:
                self.invalid(path, value, f"should be a multiple of {schema['multipleOf']}")
        if isinstance(value, str):
            if "minLength" in schema and len(value) < schema["minLength"]:
                self.invalid(path, value, f"should be at least {schema['minLength']} chars long")
            if "maxLength" in schema and len(value) > schema["maxLength"]:
                self.causes.append(
                    field_cause(
                        path,
                        f"Too long: may not be more than {schema['maxLength']} bytes",
                        reason="FieldValueTooLong",
                    )
                )
            if "pattern" in schema and not re.search(schema["pattern"], value):
                self.invalid(path, value, f"should match '{schema['pattern']}'")

    def _walk_object(self, value: Obj, schema: Obj, path: str) -> Obj:
        properties: Obj = schema.get("properties") or {}
        additional = schema.get("additionalProperties")
        preserve = schema.get("x-kubernetes-preserve-unknown-fields") is True
        result: Obj = {}
        for key, child in properties.items():
            if key not in value and "default" in child:
                value = {**value, key: copy.deepcopy(child["default"])}
        for key, item in value.items():
            child_path = f"{path}.{key}" if path else key
            if key in properties:
                result[key] = self.walk(item, properties[key], child_path)
            elif isinstance(additional, dict):
                result[key] = self.walk(item, additional, child_path)
            elif (
                additional is True
                or preserve
                or (not properties and additional is None and schema.get("type") != "object")
            ) or (not properties and additional is None and preserve is False and path == ""):
                result[key] = item
            else:
                self.unknown.append(child_path)
        for key in schema.get("required") or []:
            if key not in value:
                child_path = f"{path}.{key}" if path else key
                self.causes.append(
                    field_cause(child_path, "Required value", reason="FieldValueRequired")
                )
        count = len(value)
        if "minProperties" in schema and count < schema["minProperties"]:
            self.invalid(path, count, f"should have at least {schema['minProperties']} properties")
        if "maxProperties" in schema and count > schema["maxProperties"]:
            self.invalid(path, count, f"should have at most {schema['maxProperties']} properties")
        return result

    def _walk_array(self, value: list[Any], schema: Obj, path: str) -> list[Any]:
        if "minItems" in schema and len(value) < schema["minItems"]:
            self.invalid(path, len(value), f"should have at least {schema['minItems']} items")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            self.causes.append(
                field_cause(
                    path,
                    f"Too many: {len(value)}: must have at most {schema['maxItems']} items",
                    reason="FieldValueTooMany",
                )
            )
        items = schema.get("items")
        if not isinstance(items, dict):
            return value
        result = [self.walk(item, items, f"{path}[{n}]") for n, item in enumerate(value)]
        if schema.get("x-kubernetes-list-type") == "set":
            seen: list[Any] = []
            for n, item in enumerate(value):
                if item in seen:
                    self.causes.append(
                        field_cause(
                            f"{path}[{n}]",
                            f"Duplicate value: {json.dumps(item)}",
                            reason="FieldValueDuplicate",
                        )
                    )
                seen.append(item)
        return result


def validate_custom_object(
    obj: Obj, schema: Obj | None
) -> tuple[Obj, list[dict[str, str]], list[str]]:
    """Validate a custom object against its version's ``openAPIV3Schema``.

    Returns the pruned and defaulted object, the failure causes, and the paths
    of fields the schema does not know (which strict field validation refuses
    and the default mode silently drops).
    """
    if not schema:
        return obj, [], []
    walker = _Walker()
    body = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "metadata")}
    body_schema = dict(schema)
    properties = {
        k: v
        for k, v in (schema.get("properties") or {}).items()
        if k not in ("apiVersion", "kind", "metadata")
    }
    body_schema["properties"] = properties
    body_schema["required"] = [
        r for r in schema.get("required") or [] if r not in ("apiVersion", "kind", "metadata")
    ]
    checked = walker.walk(body, body_schema, "")
    result: Obj = {k: obj[k] for k in ("apiVersion", "kind", "metadata") if k in obj}
    if isinstance(checked, dict):
        result.update(checked)
    return result, walker.causes, walker.unknown
