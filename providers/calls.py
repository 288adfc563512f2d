"""Call counting shared by every provider: cloud-neutral, no SDK.

Each provider's client counts every attempt (retries included) by (service, operation,
outcome), so that `Provider.call_counts()` feeds the controller's metrics and tests can
assert what a step costs. What counts as a write differs per cloud's naming, so the
provider passes its own `is_mutating`.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

from providers.base import (
    CloudValidation,
    Conflict,
    InUse,
    NotFound,
    Throttled,
    Unavailable,
)

_OUTCOMES: tuple[tuple[type[Exception], str], ...] = (
    (Throttled, "throttled"),
    (Unavailable, "unavailable"),
    (NotFound, "not_found"),
    (InUse, "in_use"),
    (Conflict, "conflict"),
    (CloudValidation, "invalid"),
)


def outcome(exc: BaseException | None) -> str:
    """A short, bounded label for the call counter: `ok` or the neutral class name."""
    if exc is None:
        return "ok"
    return next((name for cls, name in _OUTCOMES if isinstance(exc, cls)), "error")


class CallCounter:
    """Counts every attempt by (service, operation, outcome); thread-safe."""

    def __init__(self, is_mutating: Callable[[str], bool]) -> None:
        self._is_mutating = is_mutating
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, str, str]] = Counter()

    def record(self, service: str, operation: str, result: str) -> None:
        with self._lock:
            self._counts[(service, operation, result)] += 1

    def snapshot(self) -> dict[tuple[str, str, str], int]:
        with self._lock:
            return dict(self._counts)

    def total(self) -> int:
        with self._lock:
            return sum(self._counts.values())

    def mutating(self) -> int:
        with self._lock:
            return sum(n for (_, op, _), n in self._counts.items() if self._is_mutating(op))

    def by_operation(self) -> dict[str, int]:
        """Attempts per operation name, whatever the outcome (handy in reports and tests)."""
        out: Counter[str] = Counter()
        with self._lock:
            for (_, op, _), n in self._counts.items():
                out[op] += n
        return dict(out)

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()
