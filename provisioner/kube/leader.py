"""Leader election on a coordination.k8s.io Lease, so that one replica writes to the cloud.

Two replicas writing at once would race on the same cloud resources, so only the holder of
the Lease reconciles. Expiry is judged by when this replica last *saw* the record change, on
its own monotonic clock, never by comparing timestamps written by another machine: clocks
skew, the observation does not. A leader that cannot renew within the renew deadline stops at
once, which is before any other replica can take over (renew deadline < lease duration).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from provisioner.kube.api import LEASES, Api, ApiError, Obj

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LeaseConfig:
    namespace: str
    name: str
    identity: str
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0

    def check(self) -> None:
        if not self.lease_duration > self.renew_deadline > self.retry_period > 0:
            raise ValueError(
                "leader election needs lease duration > renew deadline > retry period > 0, got "
                f"{self.lease_duration}s, {self.renew_deadline}s, {self.retry_period}s"
            )


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class LeaderElector:
    def __init__(
        self,
        api: Api,
        config: LeaseConfig,
        *,
        on_started: Callable[[], None] = lambda: None,
        on_stopped: Callable[[], None] = lambda: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        config.check()
        self.api = api
        self.config = config
        self.on_started = on_started
        self.on_stopped = on_stopped
        self._clock = clock
        self._leading = threading.Event()
        self._stop = threading.Event()
        self._observed: tuple[Any, ...] | None = None
        self._observed_at = 0.0
        self._last_renew = 0.0
        self._thread = threading.Thread(target=self._run, name="leader-election", daemon=True)
        self.transitions = 0

    @property
    def leading(self) -> bool:
        return self._leading.is_set()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self.config.retry_period + 5)

    def _run(self) -> None:
        while not self._stop.is_set():
            acquired = False
            try:
                acquired = self._try_acquire_or_renew()
            except ApiError as err:
                log.warning("lease update failed", extra={"error": str(err)})
            now = self._clock()
            if acquired:
                self._last_renew = now
                if not self.leading:
                    self._leading.set()
                    self.transitions += 1
                    log.info("became leader", extra={"lease": self.config.name})
                    self.on_started()
            elif self.leading and now - self._last_renew > self.config.renew_deadline:
                self._leading.clear()
                log.warning(
                    "lost leadership: lease not renewed within the renew deadline",
                    extra={"lease": self.config.name},
                )
                self.on_stopped()
            jitter = random.uniform(1.0, 1.2) if not self.leading else 1.0
            self._stop.wait(self.config.retry_period * jitter)

    def _try_acquire_or_renew(self) -> bool:
        config = self.config
        try:
            lease = self.api.get(LEASES, config.namespace, config.name)
        except ApiError as err:
            if not err.not_found:
                raise
            body = {
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {"name": config.name, "namespace": config.namespace},
                "spec": self._spec({}, acquiring=True),
            }
            try:
                self.api.create(LEASES, config.namespace, body)
            except ApiError as create_err:
                if create_err.conflict:
                    return False
                raise
            return True
        spec = lease.get("spec") or {}
        holder = spec.get("holderIdentity") or ""
        record = (holder, spec.get("renewTime"), spec.get("leaseTransitions"))
        now = self._clock()
        if record != self._observed:
            self._observed, self._observed_at = record, now
        duration = float(spec.get("leaseDurationSeconds") or config.lease_duration)
        if holder and holder != config.identity and now < self._observed_at + duration:
            return False  # someone else holds a lease that has not expired
        lease["spec"] = self._spec(spec, acquiring=holder != config.identity)
        try:
            self.api.replace(LEASES, config.namespace, config.name, lease)
        except ApiError as err:
            if err.conflict:
                return False
            raise
        return True

    def _spec(self, spec: Obj, *, acquiring: bool) -> Obj:
        now = _now()
        updated = dict(spec)
        updated.update(
            {
                "holderIdentity": self.config.identity,
                "leaseDurationSeconds": round(self.config.lease_duration),
                "renewTime": now,
            }
        )
        if acquiring:
            updated["acquireTime"] = now
            # Every change of holder on an existing lease counts, a release in between or not.
            updated["leaseTransitions"] = int(spec.get("leaseTransitions") or 0) + (
                1 if spec else 0
            )
        return updated

    def release(self) -> None:
        """Give the lease up on shutdown so a standby takes over at its next retry."""
        if not self.leading:
            return
        self._leading.clear()
        try:
            lease = self.api.get(LEASES, self.config.namespace, self.config.name)
            spec = lease.get("spec") or {}
            if spec.get("holderIdentity") != self.config.identity:
                return
            spec.update({"holderIdentity": "", "leaseDurationSeconds": 1, "renewTime": _now()})
            lease["spec"] = spec
            self.api.replace(LEASES, self.config.namespace, self.config.name, lease)
            log.info("released leadership", extra={"lease": self.config.name})
        except ApiError as err:
            log.warning("could not release the lease", extra={"error": str(err)})
