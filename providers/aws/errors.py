"""Translation of botocore errors into the neutral hierarchy of `providers.base`.

The core decides what to retry and what to report from the neutral class alone, so every
AWS error code that matters is sorted here, once. The original botocore exception is always
chained (`raise ... from err`), so its code and request id stay visible in logs;
`error_code` reads the code back from the chain when the provider needs to tell apart two
errors of one class (a duplicate target group from a duplicate rule, say).
"""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from providers.base import (
    CloudValidation,
    Conflict,
    InUse,
    NotFound,
    ProviderError,
    Throttled,
    Unavailable,
)

THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "BandwidthLimitExceeded",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
        "ProvisionedThroughputExceededException",
    }
)
"""Codes AWS uses for "slow down"; they are the only 4xx answers worth retrying."""

UNAVAILABLE_CODES = frozenset(
    {"InternalError", "InternalFailure", "ServiceUnavailable", "Unavailable", "InternalServerError"}
)
IN_USE_CODES = frozenset({"ResourceInUse", "DependencyViolation", "InvalidGroup.InUse"})
VALIDATION_CODES = frozenset(
    {
        "ValidationError",
        "ValidationException",
        "InvalidConfigurationRequest",
        "OperationNotPermitted",
    }
)
CONFLICT_CODES = frozenset({"PriorityInUse"})
"""A rule priority someone else took since the plan was made: re-read and re-plan."""


def error_code(exc: BaseException) -> str:
    """The AWS error code behind a neutral error (or of a ClientError itself), else ""."""
    current: BaseException | None = exc
    while current is not None:
        if isinstance(current, ClientError):
            return str(current.response.get("Error", {}).get("Code", ""))
        current = current.__cause__
    return ""


def _status(err: ClientError) -> int:
    meta = err.response.get("ResponseMetadata", {})
    return int(meta.get("HTTPStatusCode", 0) or 0)


def classify(code: str, status: int = 0) -> type[ProviderError]:
    """Which neutral class an AWS error code belongs to (pure, so it is tested by table)."""
    if code in THROTTLING_CODES:
        return Throttled
    if code in UNAVAILABLE_CODES or status >= 500:
        return Unavailable
    if code.endswith(("NotFound", ".NotFound", "NotFoundException")):
        return NotFound
    if code.startswith("Duplicate") or code.endswith(".Duplicate") or code in CONFLICT_CODES:
        return Conflict
    if code in IN_USE_CODES:
        return InUse
    if code in VALIDATION_CODES or code.startswith("InvalidParameter"):
        return CloudValidation
    if code.startswith("Invalid") or code.endswith(".Malformed"):
        return CloudValidation
    return ProviderError


def translate(err: BaseException, *, service: str, operation: str) -> ProviderError:
    """A neutral error for a botocore failure; the caller raises it `from err`."""
    where = f"{service} {operation}"
    if isinstance(err, ClientError):
        code = str(err.response.get("Error", {}).get("Code", "Unknown"))
        message = str(err.response.get("Error", {}).get("Message", ""))
        cls = classify(code, _status(err))
        return cls(f"{where}: {code}: {message}".rstrip(": "))
    if isinstance(err, (BotoConnectionError, HTTPClientError)):
        return Unavailable(f"{where}: connection failed: {err}")
    if isinstance(err, BotoCoreError):
        return ProviderError(f"{where}: {err}")
    return ProviderError(f"{where}: {err}")
