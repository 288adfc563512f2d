"""The versioned object store and the fan-out of its changes to watchers.

Kubernetes clients depend on one property above all: every change has a
resourceVersion from a single cluster-wide counter, and a watch started from
any recent resourceVersion sees exactly the changes after it. The store keeps
that counter, a bounded history of changes (the "compaction window"), and the
queues of open watches. It knows nothing of kinds or API semantics; those live
in :mod:`provisioner.devcluster.registry`.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from provisioner.devcluster.errors import gone

Obj = dict[str, Any]
StorageKey = tuple[str, str]
Objects = list[Obj]
StorageKeys = list[StorageKey]
Changes = list["Change"]

CLOSED = None  # put on a watcher's queue when the server stops serving it


@dataclass(frozen=True)
class Change:
    """One recorded change; ``old`` lets filtered watches see objects leave."""

    rv: int
    storage: StorageKey
    type: str
    obj: Obj
    old: Obj | None


@dataclass(eq=False)
class Watcher:
    """An open watch: changes for one storage key (or all, for controllers)."""

    storage: StorageKey | None
    namespace: str | None
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[Change | None] = field(default_factory=asyncio.Queue)

    def wants(self, change: Change) -> bool:
        if self.storage is not None and change.storage != self.storage:
            return False
        if self.namespace is None:
            return True
        return bool(change.obj.get("metadata", {}).get("namespace") == self.namespace)

    def deliver(self, item: Change | None) -> None:
        # A closed loop means nobody is listening any more.
        with contextlib.suppress(RuntimeError):
            self.loop.call_soon_threadsafe(self.queue.put_nowait, item)


def _key(obj: Obj) -> tuple[str, str]:
    meta = obj.get("metadata", {})
    return (meta.get("namespace") or "", meta.get("name") or "")


class Store:
    """All objects of the cluster, keyed by storage key then (namespace, name)."""

    def __init__(self, *, window: int = 10_000) -> None:
        self.lock = threading.RLock()
        self._objects: dict[StorageKey, dict[tuple[str, str], Obj]] = {}
        self._rv = 1
        self._window = window
        self._history: deque[Change] = deque()
        self._compacted_rv = 0
        self._watchers: set[Watcher] = set()

    @property
    def resource_version(self) -> int:
        with self.lock:
            return self._rv

    def get(self, storage: StorageKey, namespace: str, name: str) -> Obj | None:
        with self.lock:
            found = self._objects.get(storage, {}).get((namespace, name))
            return copy.deepcopy(found) if found is not None else None

    def list(self, storage: StorageKey, namespace: str | None = None) -> Objects:
        with self.lock:
            items = self._objects.get(storage, {})
            chosen = [
                obj
                for (ns, _), obj in sorted(items.items())
                if namespace is None or ns == namespace
            ]
            return copy.deepcopy(chosen)

    def storages(self) -> StorageKeys:
        with self.lock:
            return list(self._objects)

    def put(self, storage: StorageKey, obj: Obj) -> Obj:
        """Store ``obj`` under a fresh resourceVersion and tell the watchers."""
        with self.lock:
            self._rv += 1
            stored = copy.deepcopy(obj)
            stored.setdefault("metadata", {})["resourceVersion"] = str(self._rv)
            bucket = self._objects.setdefault(storage, {})
            old = bucket.get(_key(stored))
            bucket[_key(stored)] = stored
            self._record(Change(self._rv, storage, "MODIFIED" if old else "ADDED", stored, old))
            return copy.deepcopy(stored)

    def remove(self, storage: StorageKey, namespace: str, name: str) -> Obj | None:
        with self.lock:
            old = self._objects.get(storage, {}).pop((namespace, name), None)
            if old is None:
                return None
            self._rv += 1
            final = copy.deepcopy(old)
            final["metadata"]["resourceVersion"] = str(self._rv)
            self._record(Change(self._rv, storage, "DELETED", final, old))
            return copy.deepcopy(final)

    def _record(self, change: Change) -> None:
        self._history.append(change)
        while len(self._history) > self._window:
            self._compacted_rv = self._history.popleft().rv
        for watcher in list(self._watchers):
            if watcher.wants(change):
                watcher.deliver(change)

    def watch(
        self,
        storage: StorageKey | None,
        namespace: str | None,
        *,
        since: int | None,
        loop: asyncio.AbstractEventLoop,
    ) -> tuple[Watcher, Changes]:
        """Open a watch; return it with the changes it must replay first.

        ``since`` None means "current state, then changes": every existing
        object is replayed as ADDED. Otherwise changes after ``since`` are
        replayed, or 410 Expired is raised if they have been compacted away.
        """
        with self.lock:
            watcher = Watcher(storage, namespace, loop)
            if since is None:
                replay = [
                    Change(self._rv, key, "ADDED", copy.deepcopy(obj), None)
                    for key in ([storage] if storage else list(self._objects))
                    for obj in self._objects.get(key, {}).values()
                    if namespace is None or _key(obj)[0] == namespace
                ]
            else:
                if since < self._compacted_rv:
                    raise gone(f"too old resource version: {since} ({self._compacted_rv + 1})")
                replay = [c for c in self._history if c.rv > since and watcher.wants(c)]
            self._watchers.add(watcher)
            return watcher, replay

    def unwatch(self, watcher: Watcher) -> None:
        with self.lock:
            self._watchers.discard(watcher)

    def compact(self) -> int:
        """Forget all history so far; watches from older versions now get 410."""
        with self.lock:
            self._history.clear()
            self._compacted_rv = self._rv
            return self._rv

    def close_watches(self) -> None:
        """End every open watch, as a restarting API server would."""
        with self.lock:
            for watcher in list(self._watchers):
                if watcher.storage is not None:
                    watcher.deliver(CLOSED)
                    self._watchers.discard(watcher)
