"""Translation of google-api-core errors and failed operations into the neutral hierarchy.

The core decides what to retry and what to report from the neutral class alone. Compute
reports failures in two places: the HTTP answer (status plus `error.errors[].reason`) and, for
writes, the operation that finishes later (`error.errors[].code`, upper case). Both are sorted
here, once; the original exception is chained by the caller (`raise ... from err`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import requests
from google.api_core import exceptions as gexc

from providers.base import (
    CloudValidation,
    Conflict,
    InUse,
    NotFound,
    ProviderError,
    Throttled,
    Unavailable,
)

IN_USE_REASONS = frozenset(
    {"resourceInUseByAnotherResource", "RESOURCE_IN_USE_BY_ANOTHER_RESOURCE"}
)
THROTTLE_REASONS = frozenset(
    {"rateLimitExceeded", "userRateLimitExceeded", "RATE_LIMIT_EXCEEDED", "TOO_MANY_REQUESTS"}
)
NOT_FOUND_REASONS = frozenset({"notFound", "RESOURCE_NOT_FOUND", "NOT_FOUND"})
CONFLICT_REASONS = frozenset(
    {
        "alreadyExists",
        "conditionNotMet",
        "RESOURCE_ALREADY_EXISTS",
        "ALREADY_EXISTS",
        "CONDITION_NOT_MET",
        "PRECONDITION_FAILED",
        "FINGERPRINT_MISMATCH",
    }
)
UNAVAILABLE_REASONS = frozenset({"backendError", "internalError", "INTERNAL_ERROR", "UNAVAILABLE"})
ALREADY_EXISTS_REASONS = frozenset({"alreadyExists", "RESOURCE_ALREADY_EXISTS", "ALREADY_EXISTS"})
MEMBER_EXISTS_REASONS = frozenset({"memberAlreadyExists", "MEMBER_ALREADY_EXISTS"})


def classify(status: int, reasons: Iterable[str] = ()) -> type[ProviderError]:
    """Which neutral class an HTTP status and Compute reasons belong to (pure, table-tested).

    A 412 (stale fingerprint) is a `Conflict`: the key is re-read and re-planned, never
    retried in place. Reasons decide before the status, because Compute answers "in use" with
    a 400 and "rate limit exceeded" with a 403.
    """
    found = set(reasons)
    if found & THROTTLE_REASONS or status == 429:
        return Throttled
    if found & IN_USE_REASONS:
        return InUse
    if found & NOT_FOUND_REASONS or status == 404:
        return NotFound
    if found & CONFLICT_REASONS or status in (409, 412):
        return Conflict
    if found & UNAVAILABLE_REASONS or status >= 500:
        return Unavailable
    if status == 400 or found:
        return CloudValidation
    return ProviderError


def _reasons(errors: Iterable[Any]) -> list[str]:
    out: list[str] = []
    for item in errors or ():
        if isinstance(item, Mapping):
            out.append(str(item.get("reason") or item.get("code") or ""))
    return [r for r in out if r]


def reasons_of(exc: BaseException) -> list[str]:
    """Every Compute reason or operation code behind a neutral error (walks the chain)."""
    current: BaseException | None = exc
    while current is not None:
        found = getattr(current, "gcp_reasons", None)
        if found:
            return list(found)
        if isinstance(current, gexc.GoogleAPICallError):
            reasons = _reasons(current.errors)
            if current.reason:
                reasons.append(current.reason)
            return reasons
        current = current.__cause__
    return []


def translate(err: BaseException, *, operation: str) -> ProviderError:
    """A neutral error for an SDK failure; the caller raises it `from err`."""
    if isinstance(err, gexc.GoogleAPICallError):
        reasons = _reasons(err.errors)
        if err.reason:
            reasons.append(err.reason)
        status = int(err.code or 0)
        cls = classify(status, reasons)
        text = f"{operation}: {status} {err.message}"
        if reasons:
            text += f" ({', '.join(reasons)})"
        neutral = cls(text)
        neutral.gcp_reasons = tuple(reasons)  # type: ignore[attr-defined]
        return neutral
    if isinstance(err, requests.exceptions.RequestException | ConnectionError | TimeoutError):
        return Unavailable(f"{operation}: connection failed: {err}")
    if isinstance(err, gexc.RetryError):
        return Unavailable(f"{operation}: {err}")
    return ProviderError(f"{operation}: {err}")


def operation_error(operation: str, op: Mapping[str, Any]) -> ProviderError | None:
    """The neutral error of a finished operation that failed, or None if it succeeded."""
    errors = (op.get("error") or {}).get("errors") or []
    if not errors:
        return None
    codes = [str(e.get("code", "")) for e in errors]
    messages = "; ".join(str(e.get("message", "")) for e in errors)
    status = int(op.get("httpErrorStatusCode") or 0)
    cls = classify(status, codes)
    neutral = cls(f"{operation}: {', '.join(codes)}: {messages}")
    neutral.gcp_reasons = tuple(codes)  # type: ignore[attr-defined]
    return neutral
