"""The controller: informers feed a work queue, workers run `reconcile`, results go back.

Everything a worker decides comes from the cache and the cloud as they are now (the
reconcile principle); the queue only says *which* keys to look at. What wakes which key:

- a Service wakes its own key when it is (or was) a LoadBalancer Service or carries our
  finalizer, and every Ingress key that routes to it;
- an EndpointSlice wakes its Service's key and the Ingress keys that route to that Service;
- a Node wakes every key, when a field that decides targets changed (labels, providerID,
  taints, addresses) rather than on every status heartbeat;
- an Ingress wakes its old and new keys; an IngressClass or its parameters wake every
  Ingress key.

Status-only changes never wake a key: our own status writes would otherwise cause a second
reconcile of every object we touch.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from providers.base import Provider
from provisioner.kube import api as resources
from provisioner.kube import membership as keyspace
from provisioner.kube.api import Api, ApiError, Obj
from provisioner.kube.informer import Cache, Informer
from provisioner.kube.metrics import Metrics
from provisioner.kube.queue import WorkQueue
from provisioner.kube.writer import FINALIZER, Writer, has_finalizer, load_balancer_ingress
from provisioner.model import Key, service_key, split_key
from provisioner.reconcile import Outcome, Selection, reconcile
from provisioner.translate.objects import is_deleting

log = logging.getLogger(__name__)

OutcomeHook = Callable[[Key, Outcome, float], None]


@dataclass(frozen=True)
class ControllerConfig:
    selection: Selection
    namespace: str | None = None
    workers: int = 2
    resync: float = 300.0
    watch_timeout: int = 300


def _meta(obj: Obj | None) -> dict[str, Any]:
    return dict((obj or {}).get("metadata") or {})


def _spec_and_meta(obj: Obj | None) -> tuple[Any, ...]:
    """What decides a reconcile: spec, labels, annotations, other finalizers, deletion.

    Our own finalizer is left out: adding it must not wake the key a second time.
    """
    meta = _meta(obj)
    return (
        (obj or {}).get("spec"),
        meta.get("labels"),
        meta.get("annotations"),
        sorted(f for f in meta.get("finalizers") or [] if f != FINALIZER),
        meta.get("deletionTimestamp"),
    )


def _node_facts(node: Obj | None) -> tuple[Any, ...]:
    spec = (node or {}).get("spec") or {}
    status = (node or {}).get("status") or {}
    return (
        _meta(node).get("labels"),
        spec.get("providerID"),
        spec.get("taints"),
        status.get("addresses"),
    )


class Controller:
    def __init__(
        self,
        api: Api,
        provider: Provider,
        config: ControllerConfig,
        *,
        metrics: Metrics | None = None,
        on_outcome: OutcomeHook | None = None,
    ) -> None:
        self.api = api
        self.provider = provider
        self.config = config
        self.metrics = metrics or Metrics()
        self.on_outcome = on_outcome
        self.writer = Writer(api)
        self.queue = WorkQueue()
        self.leading = threading.Event()
        self._stopping = threading.Event()
        self._workers: list[threading.Thread] = []
        self._gc_lock = threading.Lock()
        self._last_gc = 0.0
        namespace = config.namespace
        watched = [
            (resources.SERVICES, self._on_service),
            (resources.ENDPOINT_SLICES, self._on_endpoint_slice),
            (resources.NODES, self._on_node),
            (resources.INGRESSES, self._on_ingress),
            (resources.INGRESS_CLASSES, self._on_ingress_class),
            (resources.INGRESS_CLASS_PARAMS, self._on_ingress_class),
        ]
        self.informers = [
            Informer(
                api,
                resource,
                namespace=namespace,
                handler=handler,
                watch_timeout=config.watch_timeout,
                optional=resource.group == resources.INGRESS_CLASS_PARAMS.group,
            )
            for resource, handler in watched
        ]
        self.cache = Cache(self.informers)

    # Lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        for informer in self.informers:
            informer.start()
        for index in range(self.config.workers):
            thread = threading.Thread(target=self._work, name=f"worker-{index}", daemon=True)
            thread.start()
            self._workers.append(thread)
        threading.Thread(target=self._resync_loop, name="resync", daemon=True).start()

    def synced(self) -> bool:
        return self.cache.synced()

    def wait_synced(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not self.synced():
            if time.monotonic() > deadline or self._stopping.is_set():
                return False
            time.sleep(0.05)
        return True

    def start_leading(self) -> None:
        """Called when this replica may write: look at every key, then collect garbage."""
        self.metrics.leader.set(1)
        self.leading.set()
        threading.Thread(target=self._catch_up, name="catch-up", daemon=True).start()

    def stop_leading(self) -> None:
        """Called the moment leadership is lost: workers take no further key."""
        self.leading.clear()
        self.metrics.leader.set(0)

    def _catch_up(self) -> None:
        if not self.wait_synced(timeout=3600):
            return
        for key in self.all_keys():
            self.queue.add(key)
        self.collect_garbage()

    def shutdown(self, grace: float) -> bool:
        """Stop taking keys and wait for in-flight reconciles; True if they all finished."""
        self._stopping.set()
        self.queue.shutdown()
        deadline = time.monotonic() + grace
        for thread in self._workers:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        for informer in self.informers:
            informer.stop()
        return not any(t.is_alive() for t in self._workers)

    # Keys -----------------------------------------------------------------------------

    def in_scope(self, key: Key) -> bool:
        _, namespace, _ = split_key(key)
        if self.config.namespace is None:
            return True
        return bool(namespace) and namespace == self.config.namespace

    def all_keys(self) -> set[Key]:
        keys: set[Key] = set()
        for service in self.cache.list("Service"):
            if self._service_relevant(service):
                keys.add(self._service_key(service))
        keys |= keyspace.ingress_keys(self.cache, self.config.selection)
        return {k for k in keys if self.in_scope(k)}

    def collect_garbage(self) -> int:
        """Queue every key the cloud says we own that has no object in the watched scope.

        Leader only, after every informer has synced, at most once per resync period.
        """
        if not (self.leading.is_set() and self.synced()):
            return 0
        with self._gc_lock:
            if time.monotonic() - self._last_gc < self.config.resync * 0.5 and self._last_gc:
                return 0
            self._last_gc = time.monotonic()
        try:
            owned = self.provider.owned()
        except Exception as err:
            log.warning("garbage collection could not list owned keys", extra={"error": str(err)})
            with self._gc_lock:
                self._last_gc = 0.0
            return 0
        finally:
            self.metrics.record_calls(self.provider.call_counts())
        present = self.all_keys()
        orphans = sorted(k for k in owned if self.in_scope(k) and k not in present)
        for key in orphans:
            log.info("garbage collecting", extra={"key": key})
            self.queue.add(key)
        return len(orphans)

    def _resync_loop(self) -> None:
        while not self._stopping.is_set():
            period = self.config.resync * random.uniform(0.9, 1.1)
            if self._stopping.wait(period):
                return
            if self.leading.is_set() and self.synced():
                for key in self.all_keys():
                    self.queue.add(key)
                self.collect_garbage()

    # Event handlers -----------------------------------------------------------------

    def _service_key(self, service: Obj) -> Key:
        meta = _meta(service)
        return service_key(str(meta.get("namespace")), str(meta.get("name")))

    def _service_relevant(self, service: Obj | None) -> bool:
        if service is None:
            return False
        spec = service.get("spec") or {}
        return spec.get("type") == "LoadBalancer" or has_finalizer(service)

    def _wake(self, keys: Iterable[Key]) -> None:
        for key in keys:
            if self.in_scope(key):
                self.queue.add(key)
        self.metrics.queue_depth.set(self.queue.depth())

    def _routing_to(self, namespace: str, service: str) -> set[Key]:
        return keyspace.ingress_keys_for_service(
            self.cache, self.config.selection, namespace, service
        )

    def _on_service(self, kind: str, old: Obj | None, new: Obj | None) -> None:
        if kind == "MODIFIED" and _spec_and_meta(old) == _spec_and_meta(new):
            return
        obj = new or old or {}
        wake: set[Key] = set()
        if self._service_relevant(old) or self._service_relevant(new):
            wake.add(self._service_key(obj))
        meta = _meta(obj)
        wake |= self._routing_to(str(meta.get("namespace")), str(meta.get("name")))
        self._wake(wake)

    def _on_endpoint_slice(self, kind: str, old: Obj | None, new: Obj | None) -> None:
        if kind == "MODIFIED" and _slice_facts(old) == _slice_facts(new):
            return
        obj = new or old or {}
        meta = _meta(obj)
        namespace = str(meta.get("namespace"))
        name = (meta.get("labels") or {}).get("kubernetes.io/service-name")
        if not name:
            return
        wake: set[Key] = set()
        if self._service_relevant(self.cache.get("Service", namespace, name)):
            wake.add(service_key(namespace, name))
        wake |= self._routing_to(namespace, name)
        self._wake(wake)

    def _on_node(self, kind: str, old: Obj | None, new: Obj | None) -> None:
        if kind == "MODIFIED" and _node_facts(old) == _node_facts(new):
            return
        if self.synced():  # the initial list is followed by a look at every key anyway
            self._wake(self.all_keys())

    def _on_ingress(self, kind: str, old: Obj | None, new: Obj | None) -> None:
        if kind == "MODIFIED" and _spec_and_meta(old) == _spec_and_meta(new):
            return
        selection = self.config.selection
        wake = {
            key
            for obj in (old, new)
            if obj is not None
            for key in [keyspace.ingress_key_of(obj, self.cache, selection)]
            if key is not None
        }
        self._wake(wake)

    def _on_ingress_class(self, kind: str, old: Obj | None, new: Obj | None) -> None:
        if kind == "MODIFIED" and _spec_and_meta(old) == _spec_and_meta(new):
            return
        if self.synced():
            self._wake(keyspace.ingress_keys(self.cache, self.config.selection, every=True))

    # Workers ----------------------------------------------------------------------------

    def _work(self) -> None:
        while not self._stopping.is_set():
            if not self.leading.wait(timeout=0.2):
                continue
            item = self.queue.get(timeout=0.5)
            if item is None:
                continue
            key, waited = item
            self.metrics.queue_latency.observe(waited)
            self.metrics.queue_depth.set(self.queue.depth())
            try:
                if not self.leading.is_set():
                    self.queue.add_after(key, 0.1)  # back in line for whoever leads next
                    continue
                self.process(key)
            except Exception:
                log.exception("reconcile crashed", extra={"key": key})
                self.queue.retry(key)
            finally:
                self.queue.done(key)

    def members(self, key: Key) -> list[Obj]:
        """The objects a key's result is written to (a Service, or every Ingress of a group)."""
        kind, namespace, name = split_key(key)
        if kind == "Service":
            service = self.cache.get("Service", namespace, name)
            return [service] if service is not None else []
        # The cache holds plain dicts; membership reads them through the Mapping protocol.
        return [dict(o) for o in keyspace.ingress_members(self.cache, self.config.selection, key)]

    def is_ours(self, obj: Obj) -> bool:
        if obj.get("kind") == "Service":
            return keyspace.service_is_ours_now(obj, self.config.selection)
        return keyspace.ingress_is_ours_now(obj, self.cache, self.config.selection)

    def process(self, key: Key) -> Outcome | None:
        objects = self.members(key)
        ours = [o for o in objects if self.is_ours(o) and not is_deleting(o)]
        try:
            ours = [self.writer.add_finalizer(o) for o in ours]
        except ApiError as err:
            delay = self.queue.retry(key)
            log.warning(
                "could not add the finalizer",
                extra={"key": key, "error": str(err), "retry_in": round(delay, 2)},
            )
            return None
        started = time.monotonic()
        outcome = reconcile(key, self.cache, self.provider, selection=self.config.selection)
        elapsed = time.monotonic() - started
        self.metrics.reconcile_seconds.observe(elapsed)
        self.metrics.record_calls(self.provider.call_counts())
        result = (
            "success"
            if not outcome.error
            else ("invalid" if outcome.error_kind == "InvalidSpec" else "error")
        )
        self.metrics.reconciles.labels(result).inc()
        log_extra = {"key": key, "result": result, "seconds": round(elapsed, 3)}
        if outcome.plan is not None:
            log_extra["changes"] = len(outcome.plan.changes)
        if outcome.error:
            log_extra["error"] = outcome.error
        log.info("reconciled", extra=log_extra)
        try:
            self._write_back(key, outcome, objects, ours)
        except ApiError as err:
            delay = self.queue.retry(key)
            log.warning(
                "could not write the result back",
                extra={"key": key, "error": str(err), "retry_in": round(delay, 2)},
            )
        if self.on_outcome is not None:
            self.on_outcome(key, outcome, elapsed)
        return outcome

    def _write_back(self, key: Key, outcome: Outcome, objects: list[Obj], ours: list[Obj]) -> None:
        targets = ours or objects
        for event in outcome.events:
            for obj in self._event_targets(event.member, targets):
                self.writer.event(obj, event.type, event.reason, event.message)
        if outcome.error:
            if outcome.error_kind == "InvalidSpec":
                self.queue.forget(key)  # nothing to retry until the object changes
            else:
                delay = self.queue.retry(key)
                log.info("will retry", extra={"key": key, "retry_in": round(delay, 2)})
            return
        self.queue.forget(key)
        status = outcome.status
        addresses = load_balancer_ingress(status.hostnames, status.ips) if status else []
        for obj in ours:
            self.writer.set_addresses(obj, addresses)
            # An object whose last word was a Warning hears that it is fine again.
            if _object_key(obj) not in outcome.member_errors and self.writer.last_was_warning(obj):
                self.writer.event(obj, "Normal", "Synced", "the load balancer matches the spec")
        mine = {_object_key(o) for o in ours}
        # A group's load balancer outlives a member that leaves it: once the group's
        # reconcile succeeded, nothing routes to the leaver any more. Any other key lets go
        # only when it holds nothing at all.
        leaving_is_clean = split_key(key)[0] == "IngressGroup" or not outcome.holds_resources
        for obj in objects:
            if _object_key(obj) in mine or not has_finalizer(obj) or not leaving_is_clean:
                continue
            if not is_deleting(obj):
                self.writer.set_addresses(obj, [])
            self.writer.remove_finalizer(obj)
            self.writer.forget(obj)

    def _event_targets(self, member: Key | None, objects: list[Obj]) -> list[Obj]:
        """Events about one member go to that Ingress only; the others to every object."""
        if member is None:
            return objects
        return [o for o in objects if _object_key(o) == member]


def _slice_facts(obj: Obj | None) -> tuple[Any, ...]:
    body = obj or {}
    return (body.get("endpoints"), body.get("ports"), _meta(obj).get("labels"))


def _object_key(obj: Obj) -> Key:
    meta = _meta(obj)
    return f"{obj.get('kind')}/{meta.get('namespace')}/{meta.get('name')}"
