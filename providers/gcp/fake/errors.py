"""Compute Engine's error shape, raised by the fake and written out by the server.

Every refusal the real API makes reaches the client as an HTTP status plus
``{"error": {"code", "message", "errors": [{"reason", "message", "domain"}]}}``;
google-api-core turns the status into its exception class (404 ``NotFound``,
409 ``Conflict``, 412 ``PreconditionFailed``, 400 ``BadRequest``) and keeps the
message. Tests and the provider match on both, so each refusal here names the
reason the real API uses and a message that names the field or the resource.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """One refusal: HTTP status, Google reason code and a human message."""

    status = 400
    reason = "invalid"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "code": self.status,
                "message": self.message,
                "errors": [{"message": self.message, "domain": "global", "reason": self.reason}],
            }
        }


class Invalid(ApiError):
    """400 invalid: a field has a value the API does not accept."""


class BadFilter(ApiError):
    """400 invalid: a list filter the fake cannot evaluate (never silently ignored)."""


class NotFound(ApiError):
    status = 404
    reason = "notFound"


class AlreadyExists(ApiError):
    status = 409
    reason = "alreadyExists"


class ConditionNotMet(ApiError):
    """412: the fingerprint in the request is not the resource's current one."""

    status = 412
    reason = "conditionNotMet"


class InUse(ApiError):
    """400 resourceInUseByAnotherResource: deleting something still referenced."""

    reason = "resourceInUseByAnotherResource"


class MemberAlreadyExists(ApiError):
    reason = "memberAlreadyExists"


class MemberNotFound(ApiError):
    reason = "memberNotFound"


class NotImplementedByFake(ApiError):
    """501: a Compute method or path that exists in the real API but is not modelled."""

    status = 501
    reason = "notImplemented"


def invalid_value(field: str, value: object, why: str) -> Invalid:
    """The real API's wording for a bad field value."""
    return Invalid(f"Invalid value for field '{field}': '{value}'. {why}")


def required(field: str) -> Invalid:
    return Invalid(f"Required field '{field}' not specified")


def not_found(path: str) -> NotFound:
    return NotFound(f"The resource '{path}' was not found")


def already_exists(path: str) -> AlreadyExists:
    return AlreadyExists(f"The resource '{path}' already exists")


def in_use(kind: str, path: str, user: str) -> InUse:
    return InUse(f"The {kind} resource '{path}' is already being used by '{user}'")
