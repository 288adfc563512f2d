"""Rule priorities for one listener: the fewest moves, and never a priority in use.

A listener's rules are evaluated by priority (1..50000, unique per listener). Given the rules
in the order they must be evaluated, some already in AWS with a priority and some new, this
chooses a priority for each so that

- as many existing rules as possible keep theirs (each kept rule is one rule fewer in the
  single SetRulePriorities call; rules of a frozen Ingress weigh more, so they stay put);
- every new or moved rule lands on a number no rule holds right now, so creates and the
  priority call never collide with a rule that has yet to move or be deleted (AWS and moto
  refuse a priority in use);
- new rules are spread out, leaving gaps, so that a path added later fits between its
  neighbours without moving any of them.

Pure: tested by table and by property without a cloud.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise

MAX_PRIORITY = 50000
STEP = 10


@dataclass(frozen=True)
class Slot:
    """One rule in evaluation order: its current priority (None: not created yet)."""

    current: int | None
    weight: int = 1


class _Free:
    """Counts and lists numbers in 1..MAX_PRIORITY that no rule holds."""

    def __init__(self, occupied: Iterable[int]) -> None:
        self.taken = sorted(set(occupied))
        self.taken_set = set(self.taken)

    def between(self, low: int, high: int) -> int:
        """Free numbers strictly between `low` and `high`."""
        if high - low <= 1:
            return 0
        inside = bisect_left(self.taken, high) - bisect_right(self.taken, low)
        return high - low - 1 - inside

    def listing(self, low: int, high: int) -> list[int]:
        return [n for n in range(low + 1, high) if n not in self.taken_set]


def _kept(slots: Sequence[Slot], free: _Free) -> list[int]:
    """Indexes of the existing rules that keep their priority (heaviest feasible chain)."""
    n = len(slots)
    candidates = [
        i for i, s in enumerate(slots) if s.current is not None and 1 <= s.current <= MAX_PRIORITY
    ]
    best: dict[int, int] = {}
    back: dict[int, int | None] = {}
    for k in candidates:
        p_k = slots[k].current
        assert p_k is not None
        score: int | None = 0 if free.between(0, p_k) >= k else None
        prev: int | None = None
        for j in candidates:
            if j >= k or j not in best:
                continue
            p_j = slots[j].current
            assert p_j is not None
            if (
                p_j < p_k
                and free.between(p_j, p_k) >= k - j - 1
                and (score is None or best[j] > score)
            ):
                score, prev = best[j], j
        if score is not None:
            best[k] = score + slots[k].weight
            back[k] = prev
    ends = [k for k in best if free.between(slots[k].current or 0, MAX_PRIORITY + 1) >= n - 1 - k]
    if not ends:
        return []
    last: int | None = max(ends, key=lambda k: (best[k], -k))
    chain: list[int] = []
    while last is not None:
        chain.append(last)
        last = back[last]
    return chain[::-1]


def _spread(free: _Free, low: int, high: int | None, count: int) -> list[int]:
    """`count` free numbers between `low` and `high` (None: open end), evenly spaced."""
    if count == 0:
        return []
    if high is None:
        picked: list[int] = []
        number = low
        for _ in range(count):
            number += STEP
            while number in free.taken_set:
                number += 1
            picked.append(number)
        if picked[-1] <= MAX_PRIORITY:
            return picked
        high = MAX_PRIORITY + 1
    numbers = free.listing(low, high)
    if len(numbers) < count:
        raise ValueError(f"no room for {count} rules between {low} and {high}")
    return [numbers[((i + 1) * (len(numbers) + 1)) // (count + 1) - 1] for i in range(count)]


def assign(slots: Sequence[Slot], occupied: Iterable[int]) -> list[int]:
    """A priority per slot, strictly increasing; kept ones unchanged, others on free numbers.

    `occupied` is every priority in use on the listener now (ours, foreign, to be deleted).
    """
    free = _Free(occupied)
    kept = _kept(slots, free)
    if free.between(0, MAX_PRIORITY + 1) + len(kept) < len(slots):
        raise ValueError(f"{len(slots)} rules do not fit priorities 1..{MAX_PRIORITY}")
    out: list[int | None] = [None] * len(slots)
    for k in kept:
        out[k] = slots[k].current
    bounds = [-1, *kept, len(slots)]
    for left, right in pairwise(bounds):
        low = out[left] if left >= 0 else 0
        high = out[right] if right < len(slots) else None
        assert low is not None
        picked = _spread(free, low, high, right - left - 1)
        for offset, number in enumerate(picked):
            out[left + 1 + offset] = number
    return [n for n in out if n is not None]
