"""What the controller writes back to Kubernetes: finalizers, status and Events.

Every write is skipped when the object already says the same thing, so a controller that
restarts over a converged cluster writes nothing at all. Finalizer changes carry the
object's resourceVersion, so a stale cache gives a 409 and a retry instead of overwriting
someone else's finalizers.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from provisioner.kube.api import EVENTS, INGRESSES, SERVICES, Api, Obj, Resource

log = logging.getLogger(__name__)

FINALIZER = "provisioner.io/resources"
"""Held while a key owns cloud resources, so deleting the object cannot orphan them."""

COMPONENT = "provisioner"

RESOURCES = {"Service": SERVICES, "Ingress": INGRESSES}


def _meta(obj: Mapping[str, Any]) -> dict[str, Any]:
    meta: dict[str, Any] = obj.get("metadata") or {}
    return meta


def has_finalizer(obj: Mapping[str, Any]) -> bool:
    return FINALIZER in (_meta(obj).get("finalizers") or [])


def load_balancer_ingress(hostnames: Sequence[str], ips: Sequence[str]) -> list[dict[str, str]]:
    return [{"hostname": h} for h in hostnames] + [{"ip": ip} for ip in ips]


class Writer:
    def __init__(self, api: Api) -> None:
        self.api = api
        self._last_event: dict[str, tuple[str, str, str]] = {}
        self._lock = threading.Lock()

    def _resource(self, obj: Obj) -> Resource:
        return RESOURCES[str(obj.get("kind"))]

    def add_finalizer(self, obj: Obj) -> Obj:
        if has_finalizer(obj):
            return obj
        meta = _meta(obj)
        finalizers = [*(meta.get("finalizers") or []), FINALIZER]
        return self._patch_meta(obj, finalizers)

    def remove_finalizer(self, obj: Obj) -> Obj:
        if not has_finalizer(obj):
            return obj
        finalizers = [f for f in _meta(obj).get("finalizers") or [] if f != FINALIZER]
        return self._patch_meta(obj, finalizers)

    def _patch_meta(self, obj: Obj, finalizers: list[str]) -> Obj:
        meta = _meta(obj)
        body = {
            "metadata": {
                "finalizers": finalizers or None,
                "resourceVersion": meta.get("resourceVersion"),
            }
        }
        return self.api.merge_patch(
            self._resource(obj), meta.get("namespace"), str(meta.get("name")), body
        )

    def set_addresses(self, obj: Obj, ingress: list[dict[str, str]]) -> bool:
        """Write status.loadBalancer.ingress when it differs; True when a write was made."""
        current = ((obj.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
        if current == ingress:
            return False
        meta = _meta(obj)
        body = {"status": {"loadBalancer": {"ingress": ingress or None}}}
        self.api.merge_patch(
            self._resource(obj),
            meta.get("namespace"),
            str(meta.get("name")),
            body,
            subresource="status",
        )
        return True

    def event(self, obj: Obj, type_: str, reason: str, message: str) -> bool:
        """Record an Event unless the last one for this object said the same thing."""
        meta = _meta(obj)
        uid = str(meta.get("uid") or f"{meta.get('namespace')}/{meta.get('name')}")
        with self._lock:
            if self._last_event.get(uid) == (type_, reason, message):
                return False
            self._last_event[uid] = (type_, reason, message)
        namespace = str(meta.get("namespace") or "default")
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        digest = hashlib.sha256(f"{uid}{reason}{time.time_ns()}".encode()).hexdigest()[:10]
        body: Mapping[str, Any] = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": f"{meta.get('name')}.{digest}", "namespace": namespace},
            "involvedObject": {
                "apiVersion": obj.get("apiVersion"),
                "kind": obj.get("kind"),
                "name": meta.get("name"),
                "namespace": meta.get("namespace"),
                "uid": meta.get("uid"),
                "resourceVersion": meta.get("resourceVersion"),
            },
            "type": type_,
            "reason": reason,
            "message": message[:1024],
            "source": {"component": COMPONENT},
            "reportingComponent": f"provisioner.io/{COMPONENT}",
            "reportingInstance": COMPONENT,
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
        }
        try:
            self.api.create(EVENTS, namespace, dict(body))
        except Exception as err:  # an Event is worth a log line, never a failed reconcile
            log.warning("could not record an event", extra={"error": str(err)})
        return True

    def last_was_warning(self, obj: Obj) -> bool:
        meta = _meta(obj)
        uid = str(meta.get("uid") or f"{meta.get('namespace')}/{meta.get('name')}")
        with self._lock:
            last = self._last_event.get(uid)
        return last is not None and last[0] == "Warning"

    def forget(self, obj: Obj) -> None:
        uid = str(_meta(obj).get("uid") or "")
        with self._lock:
            self._last_event.pop(uid, None)
