"""The work queue: de-duplication, one worker per key, dirty re-queueing, backoff."""

from __future__ import annotations

import threading

from provisioner.kube.queue import WorkQueue


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_adding_a_queued_key_again_does_not_duplicate_it() -> None:
    queue = WorkQueue()
    for _ in range(5):
        queue.add("Service/a/b")
    queue.add("Service/a/c")
    assert queue.depth() == 2
    first = queue.get(timeout=0)
    second = queue.get(timeout=0)
    assert first and second and {first[0], second[0]} == {"Service/a/b", "Service/a/c"}
    assert queue.get(timeout=0) is None


def test_a_key_woken_while_in_flight_comes_back_once_after_done() -> None:
    queue = WorkQueue()
    queue.add("k")
    item = queue.get(timeout=0)
    assert item is not None
    queue.add("k")
    queue.add("k")
    assert queue.get(timeout=0) is None  # never handed to a second worker at once
    queue.done("k")
    again = queue.get(timeout=0)
    assert again is not None and again[0] == "k"
    queue.done("k")
    assert queue.get(timeout=0) is None


def test_retry_backs_off_exponentially_and_forget_resets() -> None:
    clock = Clock()
    queue = WorkQueue(base_delay=1.0, max_delay=8.0, clock=clock)
    delays = [queue.retry("k") for _ in range(6)]
    assert [round(d) for d in delays[:4]] == [1, 2, 3, 7] or all(
        low * 0.8 <= d <= low for d, low in zip(delays, [1, 2, 4, 8, 8, 8], strict=True)
    )
    assert max(delays) <= 8.0
    queue.forget("k")
    assert queue.failures("k") == 0
    assert 0.8 <= queue.retry("k") <= 1.0


def test_delayed_keys_become_available_when_due() -> None:
    clock = Clock()
    queue = WorkQueue(clock=clock)
    queue.add_after("k", 5.0)
    assert queue.get(timeout=0) is None
    clock.now = 5.0
    item = queue.get(timeout=0)
    assert item is not None and item[0] == "k"


def test_shutdown_wakes_blocked_workers() -> None:
    queue = WorkQueue()
    results: list[object] = []
    worker = threading.Thread(target=lambda: results.append(queue.get()))
    worker.start()
    queue.shutdown()
    worker.join(timeout=5)
    assert results == [None]
    queue.add("k")
    assert queue.depth() == 0
