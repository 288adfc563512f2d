"""Field checks shared by the collections: enums, numbers, labels, CIDRs, ports.

Each raises the API's 400 with the field's full path (``resource.backends[0].group``), so a
test or a user reading a provider error knows exactly which value was refused.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from typing import Any

from providers.gcp.fake.errors import Invalid, invalid_value, required

LABEL_KEY = re.compile(r"[a-z][a-z0-9_-]{0,62}")
LABEL_VALUE = re.compile(r"[a-z0-9_-]{0,63}")


def one_of(
    body: dict[str, Any],
    name: str,
    allowed: Iterable[str],
    *,
    default: str | None,
    prefix: str = "resource",
) -> str | None:
    """Check an enum field, fill its default, and return the value."""
    value = body.get(name)
    if value is None:
        if default is not None:
            body[name] = default
        return default
    choices = tuple(allowed)
    if value not in choices:
        raise invalid_value(f"{prefix}.{name}", value, f"Must be one of {', '.join(choices)}.")
    return str(value)


def integer(
    body: dict[str, Any],
    name: str,
    *,
    default: int | None,
    low: int,
    high: int,
    prefix: str = "resource",
) -> int | None:
    value = body.get(name)
    if value is None:
        if default is not None:
            body[name] = default
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise invalid_value(f"{prefix}.{name}", value, f"Must be between {low} and {high}.")
    return value


def present(body: dict[str, Any], name: str, prefix: str = "resource") -> Any:
    value = body.get(name)
    if value in (None, "", [], {}):
        raise required(f"{prefix}.{name}")
    return value


def labels(body: dict[str, Any], field: str = "resource.labels") -> dict[str, str]:
    """Label keys and values as the API restricts them (at most 64 pairs)."""
    given = body.get("labels") or {}
    if not isinstance(given, dict):
        raise invalid_value(field, given, "Labels must be a map.")
    if len(given) > 64:
        raise Invalid(f"Invalid value for field '{field}': at most 64 labels are allowed.")
    for key, value in given.items():
        if not LABEL_KEY.fullmatch(key):
            raise invalid_value(
                f"{field}.key",
                key,
                "Label keys must be 1-63 characters of [a-z0-9_-], "
                "starting with a lowercase letter.",
            )
        if not isinstance(value, str) or not LABEL_VALUE.fullmatch(value):
            raise invalid_value(
                f"{field}.{key}", value, "Label values must be 0-63 characters of [a-z0-9_-]."
            )
    return dict(given)


def cidr(value: object, field: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(str(value), strict=True)
    except ValueError:
        raise invalid_value(field, value, "Must be a valid CIDR range.") from None


def ip(value: object, field: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    try:
        return ipaddress.ip_address(str(value))
    except ValueError:
        raise invalid_value(field, value, "Must be a valid IP address.") from None


def port_range(value: object, field: str) -> tuple[int, int]:
    """``"80"`` or ``"8000-8080"`` as a pair of bounds."""
    text = str(value)
    low, _, high = text.partition("-")
    try:
        first, last = int(low), int(high or low)
    except ValueError:
        raise invalid_value(field, value, "Must be a port or a port range.") from None
    if not 1 <= first <= last <= 65535:
        raise invalid_value(field, value, "Ports must be between 1 and 65535.")
    return first, last
