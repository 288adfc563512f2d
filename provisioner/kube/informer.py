"""List-then-watch one kind into a local store, and tell the controller what changed.

The store is the controller's only view of the cluster between watch events, so it has to
survive everything an API server does: watches that end after their timeout (resume from the
last resourceVersion), bookmarks (advance the version without an object), 410 Gone when the
version has been compacted away (list again, and report the difference as events so that no
deletion is missed), and connections that break or servers that restart (retry with backoff,
resume, relist if needed).
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Sequence
from typing import Any

from provisioner.kube.api import Api, ApiError, Obj, Resource

log = logging.getLogger(__name__)

ObjKey = tuple[str, str]  # (namespace, name)
Handler = Callable[[str, Obj | None, Obj | None], None]
"""(event type, old, new): ADDED has no old, DELETED no new."""


def object_key(obj: Obj) -> ObjKey:
    meta = obj.get("metadata") or {}
    return str(meta.get("namespace") or ""), str(meta.get("name") or "")


class Informer:
    def __init__(
        self,
        api: Api,
        resource: Resource,
        *,
        namespace: str | None = None,
        handler: Handler | None = None,
        watch_timeout: int = 300,
        backoff_max: float = 10.0,
        optional: bool = False,
        absent_retry: float = 30.0,
    ) -> None:
        self.api = api
        self.resource = resource
        self.namespace = namespace if resource.namespaced else None
        self.handler = handler
        self.watch_timeout = watch_timeout
        self.backoff_max = backoff_max
        self.optional = optional
        self.absent_retry = absent_retry
        self.synced = threading.Event()
        self.resource_version = ""
        self.relists = 0
        self._items: dict[ObjKey, Obj] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"informer-{resource.plural}", daemon=True
        )

    # Reading the store --------------------------------------------------------------

    def get(self, namespace: str, name: str) -> Obj | None:
        with self._lock:
            return self._items.get((namespace if self.resource.namespaced else "", name))

    def list(self, namespace: str | None = None) -> list[Obj]:
        with self._lock:
            values = list(self._items.values())
        if namespace is None or not self.resource.namespaced:
            return values
        return [v for v in values if (v.get("metadata") or {}).get("namespace") == namespace]

    # Lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                if not self.resource_version:
                    self._relist()
                self._watch()
                failures = 0
            except ApiError as err:
                if err.not_found and self.optional and not self.resource_version:
                    # A custom resource whose definition is not installed (yet): nothing to
                    # watch, which is not a reason to stay unready. Look again later.
                    self._absent()
                    self._stop.wait(self.absent_retry)
                    continue
                if err.gone:
                    log.info(
                        "watch expired, listing again",
                        extra={"resource": self.resource.plural, "version": self.resource_version},
                    )
                    self.resource_version = ""
                    failures = 0
                    continue
                failures += 1
                delay = min(self.backoff_max, 0.2 * 2**failures) * random.uniform(0.5, 1.0)
                log.warning(
                    "watch failed, retrying",
                    extra={
                        "resource": self.resource.plural,
                        "error": str(err),
                        "retry_in": round(delay, 2),
                    },
                )
                self._stop.wait(delay)
            except Exception:  # a bug in a handler must not stop the informer for good
                log.exception("informer error", extra={"resource": self.resource.plural})
                self._stop.wait(1.0)

    def _relist(self) -> None:
        items, version = self.api.list(self.resource, self.namespace)
        fresh = {object_key(obj): obj for obj in items}
        with self._lock:
            old, self._items = self._items, fresh
        self.resource_version = version
        self.relists += 1
        # Report the difference, so that what happened while we were not watching is seen.
        for key, obj in fresh.items():
            before = old.get(key)
            if before is None:
                self._emit("ADDED", None, obj)
            elif _version(before) != _version(obj):
                self._emit("MODIFIED", before, obj)
        for key, obj in old.items():
            if key not in fresh:
                self._emit("DELETED", obj, None)
        self.synced.set()

    def _absent(self) -> None:
        with self._lock:
            old, self._items = self._items, {}
        for obj in old.values():
            self._emit("DELETED", obj, None)
        self.synced.set()

    def _watch(self) -> None:
        events = self.api.watch(
            self.resource,
            self.namespace,
            self.resource_version,
            timeout_seconds=self.watch_timeout + random.randint(0, self.watch_timeout // 5),
        )
        for event in events:
            if self._stop.is_set():
                return
            kind = str(event.get("type", ""))
            obj = event.get("object") or {}
            if kind == "ERROR":
                code = int(obj.get("code") or 0)
                raise ApiError(code, str(obj.get("reason", "")), str(obj.get("message", "")))
            version = str((obj.get("metadata") or {}).get("resourceVersion") or "")
            if kind == "BOOKMARK":
                self.resource_version = version or self.resource_version
                continue
            obj.setdefault("kind", self.resource.kind)
            obj.setdefault("apiVersion", self.resource.api_version)
            key = object_key(obj)
            with self._lock:
                old = self._items.get(key)
                if kind == "DELETED":
                    self._items.pop(key, None)
                else:
                    self._items[key] = obj
            if version:
                self.resource_version = version
            if kind == "DELETED":
                self._emit(kind, old or obj, None)
            else:
                self._emit("ADDED" if old is None else "MODIFIED", old, obj)

    def _emit(self, kind: str, old: Obj | None, new: Obj | None) -> None:
        if self.handler is None:
            return
        try:
            self.handler(kind, old, new)
        except Exception:
            log.exception("event handler failed", extra={"resource": self.resource.plural})


def _version(obj: Obj) -> Any:
    return (obj.get("metadata") or {}).get("resourceVersion")


class Cache:
    """The controller's read-only cluster view over its informers (the `ClusterView` protocol).

    Kinds that are not watched read as empty: the controller never watches Pods, and
    translation falls back to EndpointSlices, which is what a real cluster keeps current.
    """

    def __init__(self, informers: Sequence[Informer]) -> None:
        self.informers = {informer.resource.kind: informer for informer in informers}

    def get(self, kind: str, namespace: str, name: str) -> Obj | None:
        informer = self.informers.get(kind)
        return informer.get(namespace, name) if informer else None

    def list(self, kind: str, namespace: str | None = None) -> list[Obj]:
        informer = self.informers.get(kind)
        return informer.list(namespace) if informer else []

    def synced(self) -> bool:
        return all(i.synced.is_set() for i in self.informers.values())
