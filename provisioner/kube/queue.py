"""A work queue of keys: de-duplicated, one worker per key at a time, backoff per key.

Watch events arrive in bursts (a Deployment scaled by ten changes an EndpointSlice ten times);
reconcile is level-triggered, so ten wake-ups of one key are worth one reconcile. A key that
is being reconciled and is woken again is marked dirty and goes back in the queue when the
worker is done, so the same key is never reconciled twice at once and no change is lost.
"""

from __future__ import annotations

import heapq
import random
import threading
import time
from collections import deque
from collections.abc import Callable

from provisioner.model import Key


class WorkQueue:
    def __init__(
        self,
        *,
        base_delay: float = 0.5,
        max_delay: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_delay = base_delay
        self.max_delay = max_delay
        self._clock = clock
        self._queue: deque[Key] = deque()
        self._queued: set[Key] = set()
        self._processing: set[Key] = set()
        self._dirty: set[Key] = set()
        self._added_at: dict[Key, float] = {}
        self._delayed: list[tuple[float, Key]] = []
        self._failures: dict[Key, int] = {}
        self._cond = threading.Condition()
        self._shutdown = False

    # Producers --------------------------------------------------------------------------

    def add(self, key: Key) -> None:
        with self._cond:
            if self._shutdown:
                return
            if key in self._processing:
                self._dirty.add(key)
                return
            if key in self._queued:
                return
            self._queued.add(key)
            self._added_at.setdefault(key, self._clock())
            self._queue.append(key)
            self._cond.notify()

    def add_after(self, key: Key, delay: float) -> None:
        if delay <= 0:
            self.add(key)
            return
        with self._cond:
            heapq.heappush(self._delayed, (self._clock() + delay, key))
            self._cond.notify()

    def retry(self, key: Key) -> float:
        """Requeue after a failure: 0.5 s, 1 s, 2 s ... capped, with jitter. Returns the delay."""
        with self._cond:
            failures = self._failures.get(key, 0)
            self._failures[key] = failures + 1
        delay = float(min(self.max_delay, self.base_delay * 2**failures)) * random.uniform(0.8, 1.0)
        self.add_after(key, delay)
        return delay

    def forget(self, key: Key) -> None:
        with self._cond:
            self._failures.pop(key, None)

    def failures(self, key: Key) -> int:
        with self._cond:
            return self._failures.get(key, 0)

    # Consumers --------------------------------------------------------------------------

    def get(self, timeout: float | None = None) -> tuple[Key, float] | None:
        """The next key and how long it waited, or None on shutdown or timeout."""
        deadline = None if timeout is None else self._clock() + timeout
        with self._cond:
            while True:
                if self._shutdown:
                    return None
                self._promote_due()
                if self._queue:
                    key = self._queue.popleft()
                    self._queued.discard(key)
                    self._processing.add(key)
                    waited = self._clock() - self._added_at.pop(key, self._clock())
                    return key, waited
                now = self._clock()
                if deadline is not None and now >= deadline:
                    return None
                wait = None if deadline is None else deadline - now
                if self._delayed:
                    due = self._delayed[0][0] - now
                    wait = due if wait is None else min(wait, due)
                self._cond.wait(timeout=None if wait is None else max(wait, 0.001))

    def done(self, key: Key) -> None:
        with self._cond:
            self._processing.discard(key)
            if key in self._dirty:
                self._dirty.discard(key)
                if key not in self._queued and not self._shutdown:
                    self._queued.add(key)
                    self._added_at.setdefault(key, self._clock())
                    self._queue.append(key)
                    self._cond.notify()

    def _promote_due(self) -> None:
        now = self._clock()
        while self._delayed and self._delayed[0][0] <= now:
            _, key = heapq.heappop(self._delayed)
            if key in self._processing:
                self._dirty.add(key)
            elif key not in self._queued:
                self._queued.add(key)
                self._added_at.setdefault(key, now)
                self._queue.append(key)

    # State ------------------------------------------------------------------------------

    def depth(self) -> int:
        with self._cond:
            return len(self._queue)

    def pending(self) -> int:
        """Keys queued, delayed or being worked on."""
        with self._cond:
            return len(self._queue) + len(self._delayed) + len(self._processing)

    def in_flight(self) -> int:
        with self._cond:
            return len(self._processing)

    def shutdown(self) -> None:
        with self._cond:
            self._shutdown = True
            self._cond.notify_all()
