"""Kubernetes-shaped failures.

Clients (kubectl, the official Python client, the controller) branch on the
``reason`` and ``code`` of a ``Status`` object, so every refusal the dev cluster
makes is raised as an :class:`ApiError` and rendered the way the real API server
renders it, never as a bare HTTP error or a traceback.
"""

from __future__ import annotations

from typing import Any

REASONS: dict[int, str] = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    409: "Conflict",
    410: "Expired",
    415: "UnsupportedMediaType",
    422: "Invalid",
    500: "InternalError",
}


class ApiError(Exception):
    """A refusal that travels up to the HTTP layer as a ``Status`` body."""

    def __init__(
        self,
        code: int,
        message: str,
        *,
        reason: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = reason or REASONS.get(code, "Unknown")
        self.details = details

    def status(self) -> dict[str, Any]:
        """The body the real server would send for this failure."""
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details is not None:
            body["details"] = self.details
        return body


def _details(name: str, group: str, plural: str) -> dict[str, Any]:
    details: dict[str, Any] = {"name": name, "kind": plural}
    if group:
        details["group"] = group
    return details


def _qualified(group: str, plural: str) -> str:
    return f"{plural}.{group}" if group else plural


def not_found(group: str, plural: str, name: str) -> ApiError:
    return ApiError(
        404,
        f'{_qualified(group, plural)} "{name}" not found',
        details=_details(name, group, plural),
    )


def already_exists(group: str, plural: str, name: str) -> ApiError:
    return ApiError(
        409,
        f'{_qualified(group, plural)} "{name}" already exists',
        reason="AlreadyExists",
        details=_details(name, group, plural),
    )


def conflict(group: str, plural: str, name: str) -> ApiError:
    return ApiError(
        409,
        f'Operation cannot be fulfilled on {_qualified(group, plural)} "{name}": '
        "the object has been modified; please apply your changes to the latest version "
        "and try again",
        details=_details(name, group, plural),
    )


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)


def gone(message: str) -> ApiError:
    return ApiError(410, message, reason="Expired")


def invalid(kind: str, name: str, causes: list[dict[str, str]], *, group: str = "") -> ApiError:
    """422 Invalid, listing each offending field the way kubectl prints it."""
    summary = "; ".join(cause["message"] for cause in causes)
    if len(causes) > 1:
        summary = "[" + ", ".join(cause["message"] for cause in causes) + "]"
    details: dict[str, Any] = {"name": name, "kind": kind, "causes": causes}
    if group:
        details["group"] = group
    qualified = f"{kind}.{group}" if group else kind
    return ApiError(422, f'{qualified} "{name}" is invalid: {summary}', details=details)


def field_cause(field: str, message: str, *, reason: str = "FieldValueInvalid") -> dict[str, str]:
    return {"reason": reason, "message": f"{field}: {message}", "field": field}
