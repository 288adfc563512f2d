"""Manifest files as a read-only cluster view, for the one-shot `plan` and `apply` commands.

Objects are held as the API server would hold them, so translation cannot tell a file from a
live cluster. A document that cannot be parsed becomes an error entry naming its source; it
never stops the other documents.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

Obj = Mapping[str, Any]

_SUFFIXES = (".yaml", ".yml", ".json")


@dataclass(frozen=True)
class DocumentError:
    source: str
    error: str


@dataclass
class Manifests:
    """Objects by (kind, namespace, name), in the order they were read."""

    objects: dict[tuple[str, str, str], Obj] = field(default_factory=dict)
    errors: list[DocumentError] = field(default_factory=list)

    def get(self, kind: str, namespace: str, name: str) -> Obj | None:
        return self.objects.get((kind, namespace, name))

    def list(self, kind: str, namespace: str | None = None) -> Sequence[Obj]:
        return [
            obj
            for (k, ns, _), obj in self.objects.items()
            if k == kind and (namespace is None or ns == namespace)
        ]

    def replace(self, obj: Obj) -> None:
        """Swap in a changed object (the demo rewrites Nodes to match its cloud)."""
        self.objects[_identity(obj)] = obj


_CLUSTER_SCOPED = frozenset({"Node", "Namespace", "IngressClass", "CustomResourceDefinition"})


def _identity(obj: Obj) -> tuple[str, str, str]:
    kind = str(obj["kind"])
    meta = obj.get("metadata") or {}
    namespace = "" if kind in _CLUSTER_SCOPED else str(meta.get("namespace") or "default")
    return kind, namespace, str(meta.get("name", ""))


def _files(paths: Iterable[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.suffix in _SUFFIXES))
        else:
            found.append(path)
    return found


def _check(doc: Any) -> str | None:
    if not isinstance(doc, Mapping):
        return "not a Kubernetes object (expected a mapping with apiVersion, kind, metadata)"
    for name in ("apiVersion", "kind"):
        if not isinstance(doc.get(name), str) or not doc.get(name):
            return f"field {name}: missing; every object needs apiVersion and kind"
    meta = doc.get("metadata")
    if not isinstance(meta, Mapping) or not isinstance(meta.get("name"), str) or not meta["name"]:
        return "field metadata.name: missing; every object needs a name"
    for name in ("annotations", "labels"):
        value = meta.get(name)
        if value is not None and not isinstance(value, Mapping):
            return f"field metadata.{name}: must be a mapping of strings"
        for key, item in (value or {}).items():
            if not isinstance(item, str):
                return (
                    f"field metadata.{name}.{key}: value {item!r} is not a string; quote it in YAML"
                )
    return None


def load(paths: Iterable[Path]) -> Manifests:
    manifests = Manifests()
    for path in _files(paths):
        try:
            text = path.read_text()
        except OSError as err:
            manifests.errors.append(DocumentError(str(path), f"cannot read: {err.strerror}"))
            continue
        docs: list[Any] = []
        stream = yaml.safe_load_all(text)
        while True:
            try:
                doc = next(stream)
            except StopIteration:
                break
            except yaml.YAMLError as err:
                # Documents before the broken one are kept; the rest of the file cannot be
                # split reliably, so it is reported once, at the broken document.
                mark = getattr(err, "problem_mark", None)
                where = f" at line {mark.line + 1}" if mark is not None else ""
                problem = getattr(err, "problem", None) or str(err)
                manifests.errors.append(
                    DocumentError(f"{path}#{len(docs) + 1}", f"invalid YAML{where}: {problem}")
                )
                break
            docs.append(doc)
        for index, doc in enumerate(docs, start=1):
            if doc is None:
                continue
            if isinstance(doc, Mapping) and str(doc.get("kind", "")).endswith("List"):
                items = doc.get("items") or []
            else:
                items = [doc]
            for item in items:
                problem = _check(item)
                if problem is not None:
                    manifests.errors.append(DocumentError(f"{path}#{index}", problem))
                    continue
                manifests.objects[_identity(item)] = item
    return manifests
