"""The REST semantics of the API server over the versioned store.

Everything a client can observe about a write lives here: metadata the
server owns (uid, resourceVersion, generation, timestamps), optimistic
concurrency, the status and scale subresources, finalizers and graceful
deletion, per-kind defaulting and CRD schema validation. The HTTP layer and
the simulated controllers both write through this one path, so a change made
by a controller is indistinguishable from one made by a client.
"""

from __future__ import annotations

import copy
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from provisioner.devcluster import crds
from provisioner.devcluster.defaults import DEFAULTERS, name_problem
from provisioner.devcluster.errors import (
    ApiError,
    already_exists,
    bad_request,
    conflict,
    field_cause,
    invalid,
    not_found,
)
from provisioner.devcluster.patch import apply_patch
from provisioner.devcluster.resources import Catalog, ResourceType
from provisioner.devcluster.schema import validate_custom_object
from provisioner.devcluster.selectors import object_filter, selector_string
from provisioner.devcluster.services import admit_service
from provisioner.devcluster.store import Store

Obj = dict[str, Any]
Objects = list[Obj]

_NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"
_rng = random.Random()


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def timestamp(moment: datetime | None = None) -> str:
    return (moment or now()).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_timestamp(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def random_suffix(length: int = 5) -> str:
    return "".join(_rng.choice(_NAME_CHARS) for _ in range(length))


def _without(obj: Obj, *keys: str) -> Obj:
    return {k: v for k, v in obj.items() if k not in keys}


class Registry:
    """Create, read, update, patch and delete with Kubernetes semantics."""

    def __init__(self, store: Store, catalog: Catalog) -> None:
        self.store = store
        self.catalog = catalog

    # Views -----------------------------------------------------------------

    def view(self, rtype: ResourceType, stored: Obj) -> Obj:
        obj = rtype.to_view(stored) if rtype.to_view else stored
        obj = dict(obj)
        obj["apiVersion"] = rtype.api_version
        obj["kind"] = rtype.kind
        return obj

    def _stored_form(self, rtype: ResourceType, obj: Obj) -> Obj:
        stored = rtype.from_view(obj) if rtype.from_view else dict(obj)
        if rtype.storage_key:
            owner = self.catalog.lookup(rtype.storage_key[0], "v1", rtype.storage_key[1])
            if owner is not None:
                stored["apiVersion"] = owner.api_version
        return stored

    # Reads -----------------------------------------------------------------

    def get(self, rtype: ResourceType, namespace: str, name: str) -> Obj:
        found = self.store.get(rtype.storage, namespace if rtype.namespaced else "", name)
        if found is None:
            raise not_found(rtype.group, rtype.plural, name)
        return self.view(rtype, found)

    def list(
        self,
        rtype: ResourceType,
        namespace: str | None,
        *,
        label_selector: str = "",
        field_selector: str = "",
    ) -> tuple[Objects, str]:
        matches = object_filter(label_selector, field_selector)
        with self.store.lock:
            items = self.store.list(rtype.storage, namespace if rtype.namespaced else None)
            version = str(self.store.resource_version)
        views = [self.view(rtype, item) for item in items]
        return [v for v in views if matches(v)], version

    # Writes ----------------------------------------------------------------

    def _check_identity(self, rtype: ResourceType, namespace: str, body: Any) -> Obj:
        if not isinstance(body, dict):
            raise bad_request("the request body must be a JSON or YAML object")
        obj = copy.deepcopy(body)
        if obj.get("apiVersion") not in (None, rtype.api_version):
            raise bad_request(
                f"the API version in the data ({obj['apiVersion']}) does not match the expected "
                f"API version ({rtype.api_version})"
            )
        if obj.get("kind") not in (None, rtype.kind):
            raise bad_request(
                f"the kind in the data ({obj['kind']}) does not match the expected kind "
                f"({rtype.kind})"
            )
        meta = obj.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise bad_request("metadata must be an object")
        meta.pop("managedFields", None)
        if rtype.namespaced:
            if meta.get("namespace") not in (None, "", namespace):
                raise bad_request(
                    "the namespace of the provided object does not match the namespace sent "
                    "on the request"
                )
            meta["namespace"] = namespace
        else:
            meta.pop("namespace", None)
        obj["apiVersion"] = rtype.api_version
        obj["kind"] = rtype.kind
        return obj

    def _require_namespace(self, rtype: ResourceType, namespace: str) -> None:
        if rtype.namespaced and self.store.get(("", "namespaces"), "", namespace) is None:
            raise not_found("", "namespaces", namespace)

    def create(
        self, rtype: ResourceType, namespace: str, body: Any, *, strict: bool = False
    ) -> Obj:
        obj = self._check_identity(rtype, namespace, body)
        meta = obj["metadata"]
        with self.store.lock:
            self._require_namespace(rtype, namespace)
            if not meta.get("name"):
                if not meta.get("generateName"):
                    raise invalid(
                        rtype.kind,
                        "",
                        [
                            field_cause(
                                "metadata.name",
                                "Required value: name or generateName is required",
                                reason="FieldValueRequired",
                            )
                        ],
                        group=rtype.group,
                    )
                meta["name"] = meta["generateName"] + random_suffix()
            problem = name_problem(rtype.storage, meta["name"])
            if problem:
                raise invalid(
                    rtype.kind,
                    meta["name"],
                    [field_cause("metadata.name", problem)],
                    group=rtype.group,
                )
            store_ns = namespace if rtype.namespaced else ""
            if self.store.get(rtype.storage, store_ns, meta["name"]) is not None:
                raise already_exists(rtype.group, rtype.plural, meta["name"])
            for key in ("resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds"):
                meta.pop(key, None)
            meta["uid"] = str(uuid.uuid4())
            meta["creationTimestamp"] = timestamp()
            meta["generation"] = 1
            if rtype.status and self.catalog.is_builtin(rtype) is False:
                obj.pop("status", None)
            obj = self._admit(rtype, obj, None, strict=strict)
            return self.view(rtype, self.store.put(rtype.storage, self._stored_form(rtype, obj)))

    def _admit(self, rtype: ResourceType, obj: Obj, old: Obj | None, *, strict: bool) -> Obj:
        """Kind-specific defaulting and validation, then side effects on the catalog."""
        storage = rtype.storage
        defaulter = DEFAULTERS.get(storage)
        if defaulter is not None:
            defaulter(obj, old)
        if storage == ("", "services"):
            admit_service(obj, old, self.store.list(("", "services")))
        if storage == ("apiextensions.k8s.io", "customresourcedefinitions"):
            crds.validate_crd(obj)
            crds.establish(obj)
            crds.register(self.catalog, obj)
        if rtype.schema is not None:
            pruned, causes, unknown = validate_custom_object(obj, rtype.schema)
            if causes:
                raise invalid(
                    rtype.kind, obj["metadata"].get("name", ""), causes, group=rtype.group
                )
            if unknown and strict:
                fields = ", ".join(f'unknown field "{path}"' for path in unknown)
                raise bad_request(f"strict decoding error: {fields}")
            obj = pruned
        return obj

    def update(
        self,
        rtype: ResourceType,
        namespace: str,
        name: str,
        body: Any,
        *,
        subresource: str = "",
        strict: bool = False,
    ) -> Obj:
        obj = self._check_identity(rtype, namespace, body)
        if obj["metadata"].get("name") not in (None, name):
            raise bad_request(
                f"the name of the object ({obj['metadata'].get('name')}) does not match the "
                f"name on the URL ({name})"
            )
        with self.store.lock:
            store_ns = namespace if rtype.namespaced else ""
            current = self.store.get(rtype.storage, store_ns, name)
            if current is None:
                raise not_found(rtype.group, rtype.plural, name)
            existing = self.view(rtype, current)
            wanted_rv = obj["metadata"].get("resourceVersion")
            if wanted_rv and wanted_rv != existing["metadata"]["resourceVersion"]:
                raise conflict(rtype.group, rtype.plural, name)
            return self._write_update(rtype, existing, obj, subresource=subresource, strict=strict)

    def _write_update(
        self, rtype: ResourceType, existing: Obj, obj: Obj, *, subresource: str, strict: bool
    ) -> Obj:
        meta = obj.setdefault("metadata", {})
        old_meta = existing["metadata"]
        for key in (
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "generation",
            "name",
            "namespace",
        ):
            if key in old_meta:
                meta[key] = old_meta[key]
            else:
                meta.pop(key, None)
        if subresource == "status":
            obj = {**copy.deepcopy(existing), "status": obj.get("status")}
            if obj["status"] is None:
                del obj["status"]
        elif rtype.status:
            if "status" in existing:
                obj["status"] = copy.deepcopy(existing["status"])
            else:
                obj.pop("status", None)
        ignored = ("metadata", "status") if rtype.status else ("metadata",)
        obj = self._admit(rtype, obj, existing, strict=strict)
        if _without(obj, *ignored) != _without(existing, *ignored):
            obj["metadata"]["generation"] = int(old_meta.get("generation", 1)) + 1
        comparable = copy.deepcopy(obj)
        comparable["metadata"]["resourceVersion"] = old_meta.get("resourceVersion")
        if comparable == existing:
            return existing
        finalized = old_meta.get("deletionTimestamp") and not meta.get("finalizers")
        if finalized and self._deletion_due(existing):
            final = self.store.remove(rtype.storage, meta.get("namespace", ""), meta["name"])
            return self.view(rtype, final or obj)
        return self.view(rtype, self.store.put(rtype.storage, self._stored_form(rtype, obj)))

    def patch(
        self,
        rtype: ResourceType,
        namespace: str,
        name: str,
        content_type: str,
        body: Any,
        *,
        subresource: str = "",
        strict: bool = False,
    ) -> Obj:
        with self.store.lock:
            existing = self.get(rtype, namespace, name)
            patched = apply_patch(
                content_type, copy.deepcopy(existing), body, builtin=self.catalog.is_builtin(rtype)
            )
            if not isinstance(patched, dict):
                raise bad_request("the patch did not produce an object")
            patched = self._check_identity(rtype, namespace, patched)
            if patched["metadata"].get("name") != name:
                raise bad_request("the patch may not change the object's name")
            wanted_rv = patched["metadata"].get("resourceVersion")
            if wanted_rv and wanted_rv != existing["metadata"]["resourceVersion"]:
                raise conflict(rtype.group, rtype.plural, name)
            return self._write_update(
                rtype, existing, patched, subresource=subresource, strict=strict
            )

    # Deletion ----------------------------------------------------------------

    def _deletion_due(self, obj: Obj) -> bool:
        meta = obj["metadata"]
        if not meta.get("deletionTimestamp"):
            return False
        if not meta.get("deletionGracePeriodSeconds"):
            return True
        return parse_timestamp(meta["deletionTimestamp"]) <= now()

    def delete(
        self, rtype: ResourceType, namespace: str, name: str, options: Obj | None = None
    ) -> Obj:
        options = options or {}
        with self.store.lock:
            existing = self.get(rtype, namespace, name)
            meta = existing["metadata"]
            preconditions = options.get("preconditions") or {}
            if preconditions.get("uid") and preconditions["uid"] != meta.get("uid"):
                raise conflict(rtype.group, rtype.plural, name)
            wanted_rv = preconditions.get("resourceVersion")
            if wanted_rv and wanted_rv != meta.get("resourceVersion"):
                raise conflict(rtype.group, rtype.plural, name)
            grace = options.get("gracePeriodSeconds")
            if rtype.storage == ("", "pods"):
                if grace is None:
                    grace = existing.get("spec", {}).get("terminationGracePeriodSeconds", 0)
                if not existing.get("spec", {}).get("nodeName"):
                    grace = 0
            else:
                grace = 0
            store_ns = namespace if rtype.namespaced else ""
            if grace or meta.get("finalizers"):
                return self._mark_deleting(rtype, existing, int(grace or 0))
            return self._remove(rtype, store_ns, name)

    def _mark_deleting(self, rtype: ResourceType, existing: Obj, grace: int) -> Obj:
        """Start (or, for a forced pod deletion, shorten) a graceful deletion."""
        meta = existing["metadata"]
        if not meta.get("deletionTimestamp"):
            meta["deletionTimestamp"] = timestamp(now() + timedelta(seconds=grace))
            meta["deletionGracePeriodSeconds"] = grace
        elif grace == 0 and meta.get("deletionGracePeriodSeconds"):
            meta["deletionGracePeriodSeconds"] = 0
            meta["deletionTimestamp"] = timestamp()
        else:
            return existing
        return self.view(rtype, self.store.put(rtype.storage, self._stored_form(rtype, existing)))

    def _remove(self, rtype: ResourceType, namespace: str, name: str) -> Obj:
        final = self.store.remove(rtype.storage, namespace, name)
        if final is None:
            raise not_found(rtype.group, rtype.plural, name)
        if rtype.storage == ("", "namespaces"):
            for storage in self.store.storages():
                for obj in self.store.list(storage, name):
                    meta = obj["metadata"]
                    if meta.get("namespace") == name:
                        self.store.remove(storage, name, meta["name"])
        if rtype.storage == ("apiextensions.k8s.io", "customresourcedefinitions"):
            spec = final.get("spec", {})
            for obj in self.store.list((spec.get("group", ""), spec["names"]["plural"])):
                meta = obj["metadata"]
                self.store.remove(
                    (spec.get("group", ""), spec["names"]["plural"]),
                    meta.get("namespace", ""),
                    meta["name"],
                )
            crds.unregister(self.catalog, final)
        return self.view(rtype, final)

    def finish_deletion(self, rtype: ResourceType, namespace: str, name: str) -> bool:
        """Remove an object whose grace period is over, unless finalizers hold it."""
        with self.store.lock:
            found = self.store.get(rtype.storage, namespace, name)
            if found is None or found["metadata"].get("finalizers"):
                return False
            if not self._deletion_due(found):
                return False
            self.store.remove(rtype.storage, namespace, name)
            return True

    def delete_collection(
        self,
        rtype: ResourceType,
        namespace: str | None,
        *,
        label_selector: str,
        field_selector: str,
        options: Obj | None = None,
    ) -> Objects:
        items, _ = self.list(
            rtype, namespace, label_selector=label_selector, field_selector=field_selector
        )
        deleted = []
        for item in items:
            meta = item["metadata"]
            try:
                deleted.append(self.delete(rtype, meta.get("namespace", ""), meta["name"], options))
            except ApiError as error:
                if error.code != 404:
                    raise
        return deleted

    # Scale subresource ---------------------------------------------------------

    def get_scale(self, rtype: ResourceType, namespace: str, name: str) -> Obj:
        obj = self.get(rtype, namespace, name)
        meta = obj["metadata"]
        return {
            "kind": "Scale",
            "apiVersion": "autoscaling/v1",
            "metadata": {
                "name": name,
                "namespace": namespace,
                "uid": meta["uid"],
                "resourceVersion": meta["resourceVersion"],
                "creationTimestamp": meta["creationTimestamp"],
            },
            "spec": {"replicas": obj.get("spec", {}).get("replicas", 0)},
            "status": {
                "replicas": obj.get("status", {}).get("replicas", 0),
                "selector": selector_string(obj.get("spec", {}).get("selector")),
            },
        }

    def update_scale(
        self,
        rtype: ResourceType,
        namespace: str,
        name: str,
        scale: Any,
        *,
        content_type: str = "",
    ) -> Obj:
        with self.store.lock:
            current = self.get_scale(rtype, namespace, name)
            if content_type:
                scale = apply_patch(content_type, copy.deepcopy(current), scale, builtin=True)
            if not isinstance(scale, dict):
                raise bad_request("the request body must be a Scale object")
            replicas = (scale.get("spec") or {}).get("replicas")
            if not isinstance(replicas, int) or replicas < 0:
                raise invalid(
                    "Scale",
                    name,
                    [
                        field_cause(
                            "spec.replicas",
                            f"Invalid value: {replicas}: must be greater than or equal to 0",
                        )
                    ],
                    group="autoscaling",
                )
            wanted_rv = (scale.get("metadata") or {}).get("resourceVersion")
            if wanted_rv and wanted_rv != current["metadata"]["resourceVersion"]:
                raise conflict(rtype.group, rtype.plural, name)
            existing = self.get(rtype, namespace, name)
            wanted = copy.deepcopy(existing)
            wanted["spec"]["replicas"] = replicas
            self._write_update(rtype, existing, wanted, subresource="", strict=False)
            return self.get_scale(rtype, namespace, name)
