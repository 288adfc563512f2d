"""Where resources live and how they refer to each other.

Compute resources are global, regional or zonal, and refer to each other by URL. The
real API accepts a reference as a full URL (``https://www.googleapis.com/compute/v1/
projects/p/global/healthChecks/h``), as a partial path starting at ``projects/`` or at
``global/``, ``regions/r/`` or ``zones/z/``, and for some fields as a bare name; it
stores and returns the full URL. `parse_link` accepts all of these, with any scheme and
host in front of ``/compute/v1/`` (so the fake's own base URL works too), and `Key.link`
writes the canonical full form.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from providers.gcp.fake.errors import Invalid, invalid_value

GOOGLE_BASE = "https://www.googleapis.com/compute/v1"
"""The real API's base; selfLinks use it by default so they match production links."""

REGIONS: dict[str, tuple[str, ...]] = {
    "us-central1": ("a", "b", "c", "f"),
    "us-east1": ("b", "c", "d"),
    "europe-west1": ("b", "c", "d"),
}
"""The fixed geography every fake project sees."""

ZONES: dict[str, str] = {f"{r}-{z}": r for r, zs in REGIONS.items() for z in zs}
"""Zone name -> its region."""

NAME_PATTERN = re.compile(r"[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?")
NAME_RULE = "Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'"


class Scope(StrEnum):
    GLOBAL = "global"
    REGION = "regions"
    ZONE = "zones"


@dataclass(frozen=True, order=True)
class Location:
    scope: Scope
    name: str = ""
    """The region or zone; empty for global."""

    @property
    def path(self) -> str:
        return "global" if self.scope is Scope.GLOBAL else f"{self.scope.value}/{self.name}"

    @property
    def region(self) -> str:
        """The region a regional or zonal location is in ("" for global)."""
        if self.scope is Scope.ZONE:
            return ZONES[self.name]
        return self.name


GLOBAL = Location(Scope.GLOBAL)


@dataclass(frozen=True, order=True)
class Key:
    """One resource: project, location, URL collection segment and name."""

    project: str
    location: Location
    collection: str
    name: str

    @property
    def path(self) -> str:
        """``projects/p/<location>/<collection>/<name>``, the form used in messages."""
        return f"projects/{self.project}/{self.location.path}/{self.collection}/{self.name}"

    def link(self, base: str = GOOGLE_BASE) -> str:
        return f"{base}/{self.path}"


def location_link(project: str, location: Location, base: str = GOOGLE_BASE) -> str:
    return f"{base}/projects/{project}/{location.path}"


def check_location(location: Location) -> None:
    """Refuse a region or zone outside the fixed geography, as the API does."""
    if location.scope is Scope.REGION and location.name not in REGIONS:
        raise invalid_value("region", location.name, "Unknown region.")
    if location.scope is Scope.ZONE and location.name not in ZONES:
        raise invalid_value("zone", location.name, "Unknown zone.")


def check_name(name: object, field: str = "resource.name") -> str:
    if not isinstance(name, str) or not name:
        raise Invalid(f"Required field '{field}' not specified")
    if len(name) > 63 or not NAME_PATTERN.fullmatch(name):
        raise invalid_value(field, name, NAME_RULE)
    return name


_LINK = re.compile(
    r"^(?:[a-z]+://[^/]+)?/?(?:compute/(?:v1|beta|alpha)/)?"
    r"(?:projects/(?P<project>[^/]+)/)?(?P<rest>.*)$"
)


def parse_link(
    text: object,
    *,
    field: str,
    project: str,
    collections: Sequence[tuple[Scope, str]],
    default: Location,
) -> Key:
    """Resolve a reference in any accepted form to a Key in one of `collections`.

    A bare name resolves in the first expected collection at `default` (or globally, when
    that collection is global). A reference to a collection not in `collections` is 400
    naming `field`.
    """
    if not isinstance(text, str) or not text:
        raise Invalid(f"Required field '{field}' not specified")
    match = _LINK.match(text)
    rest = match.group("rest") if match else ""
    owner = (match.group("project") if match else None) or project
    parts = rest.split("/")
    expected = ", ".join(c for _, c in collections)
    if len(parts) == 1 and NAME_PATTERN.fullmatch(parts[0]):
        scope, collection = collections[0]
        where = GLOBAL if scope is Scope.GLOBAL else default
        if scope is not Scope.GLOBAL and where.scope is not scope:
            raise invalid_value(field, text, f"Expected a full or partial URL to a {expected}.")
        return Key(owner, where, collection, parts[0])
    if len(parts) == 3 and parts[0] == "global":
        location, collection, name = GLOBAL, parts[1], parts[2]
    elif len(parts) == 4 and parts[0] in ("regions", "zones"):
        location = Location(Scope(parts[0]), parts[1])
        collection, name = parts[2], parts[3]
    else:
        raise invalid_value(field, text, f"Expected a full or partial URL to a {expected}.")
    if (location.scope, collection) not in collections:
        raise invalid_value(field, text, f"Expected a reference to a {expected}.")
    check_location(location)
    return Key(owner, location, collection, name)
