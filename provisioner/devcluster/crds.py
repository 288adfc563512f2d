"""CustomResourceDefinitions: turning a stored CRD into served kinds.

Applying a CRD must make its resource appear in discovery and become
servable at once, because ``kubectl apply -f crd.yaml -f cr.yaml`` and
controllers that install their own CRDs rely on it. The CRD's status is set
the way the real apiextensions server reports an established definition.
"""

from __future__ import annotations

from typing import Any

from provisioner.devcluster.errors import field_cause, invalid
from provisioner.devcluster.resources import Catalog, ResourceType

Obj = dict[str, Any]


def validate_crd(crd: Obj) -> None:
    name = crd.get("metadata", {}).get("name", "")
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    causes = []
    for field in ("group", "scope"):
        if not spec.get(field):
            causes.append(
                field_cause(f"spec.{field}", "Required value", reason="FieldValueRequired")
            )
    for field in ("plural", "kind"):
        if not names.get(field):
            causes.append(
                field_cause(f"spec.names.{field}", "Required value", reason="FieldValueRequired")
            )
    if spec.get("scope") not in (None, "Namespaced", "Cluster"):
        causes.append(
            field_cause(
                "spec.scope",
                f'Unsupported value: "{spec.get("scope")}": supported values: "Cluster", '
                '"Namespaced"',
                reason="FieldValueNotSupported",
            )
        )
    versions = spec.get("versions") or []
    if not versions:
        causes.append(field_cause("spec.versions", "Required value", reason="FieldValueRequired"))
    elif sum(1 for v in versions if v.get("storage")) != 1:
        causes.append(
            field_cause(
                "spec.versions",
                f"Invalid value: {versions!r:.60}: must have exactly one version marked as "
                "storage version",
            )
        )
    if names.get("plural") and spec.get("group"):
        expected = f"{names['plural']}.{spec['group']}"
        if name != expected:
            causes.append(
                field_cause(
                    "metadata.name",
                    f'Invalid value: "{name}": must be spec.names.plural+"."+spec.group',
                )
            )
    if causes:
        raise invalid("CustomResourceDefinition", name, causes, group="apiextensions.k8s.io")


def served_types(crd: Obj) -> list[ResourceType]:
    spec = crd["spec"]
    names = spec["names"]
    result = []
    for version in spec.get("versions") or []:
        if not version.get("served", True):
            continue
        subresources = version.get("subresources") or {}
        result.append(
            ResourceType(
                spec["group"],
                version["name"],
                names["plural"],
                names["kind"],
                spec.get("scope") == "Namespaced",
                tuple(names.get("shortNames") or ()),
                singular=names.get("singular") or names["kind"].lower(),
                status="status" in subresources,
                categories=tuple(names.get("categories") or ()),
                schema=(version.get("schema") or {}).get("openAPIV3Schema"),
            )
        )
    return result


def establish(crd: Obj) -> None:
    """Fill in the status the real server reports once a CRD is served."""
    spec = crd["spec"]
    names = dict(spec["names"])
    names.setdefault("singular", names["kind"].lower())
    names.setdefault("listKind", f"{names['kind']}List")
    spec["names"] = names
    stored = [v["name"] for v in spec.get("versions") or [] if v.get("storage")]
    previous = (crd.get("status") or {}).get("storedVersions") or []
    timestamp = crd["metadata"].get("creationTimestamp", "")
    crd["status"] = {
        "acceptedNames": names,
        "storedVersions": sorted(set(previous) | set(stored)),
        "conditions": [
            {
                "type": "NamesAccepted",
                "status": "True",
                "reason": "NoConflicts",
                "message": "no conflicts found",
                "lastTransitionTime": timestamp,
            },
            {
                "type": "Established",
                "status": "True",
                "reason": "InitialNamesAccepted",
                "message": "the initial names have been accepted",
                "lastTransitionTime": timestamp,
            },
        ],
    }


def register(catalog: Catalog, crd: Obj) -> None:
    spec = crd["spec"]
    catalog.replace_group_resource(spec["group"], spec["names"]["plural"], served_types(crd))


def unregister(catalog: Catalog, crd: Obj) -> None:
    spec = crd["spec"]
    catalog.replace_group_resource(spec["group"], spec["names"]["plural"], [])
