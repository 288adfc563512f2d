"""The collections the fake models and the context their hooks run in.

Each collection is described once, by a `Collection`: its REST name, where it lives, its
``kind``, which generic methods it has, and hooks for what is particular to it (`prepare`
validates and fills defaults on insert, update and patch; `refs` lists the resources it
points at, which both makes deletes of those resources fail while it exists and lets
`prepare` check them; `render` adds fields computed on read). The generic methods in
`methods` then do the rest, the same way for every collection.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from providers.gcp.fake.errors import not_found
from providers.gcp.fake.links import GLOBAL, Key, Location, Scope, location_link, parse_link
from providers.gcp.fake.store import Project, Resource, Store


@dataclass
class Context:
    """One request's view of one project, for the collection hooks."""

    store: Store
    project: Project
    key: Key
    """The resource the request is about (its name may be empty for collection calls)."""

    @property
    def location(self) -> Location:
        return self.key.location

    def link(self, key: Key) -> str:
        return self.store.link(key)

    def location_link(self, location: Location) -> str:
        return location_link(self.project.name, location, self.store.link_base)

    def parse(
        self,
        value: object,
        *,
        field: str,
        collections: Sequence[tuple[Scope, str]],
        default: Location | None = None,
    ) -> Key:
        return parse_link(
            value,
            field=field,
            project=self.project.name,
            collections=collections,
            default=self.location if default is None else default,
        )

    def require(
        self,
        value: object,
        *,
        field: str,
        collections: Sequence[tuple[Scope, str]],
        default: Location | None = None,
    ) -> str:
        """The canonical link of an existing resource that `value` refers to, else 404."""
        key = self.parse(value, field=field, collections=collections, default=default)
        if key.project != self.project.name or key not in self.project.resources:
            raise not_found(key.path)
        return self.link(key)

    def get(self, key: Key) -> Resource | None:
        return self.project.resources.get(key)

    def key_of(self, link: str) -> Key:
        """The Key of a canonical link this store wrote."""
        rest = link.removeprefix(self.store.link_base + "/").split("/")
        if rest[2] == "global":
            return Key(rest[1], GLOBAL, rest[3], rest[4])
        return Key(rest[1], Location(Scope(rest[2]), rest[3]), rest[4], rest[5])

    def lookup(self, link: str) -> Resource | None:
        return self.project.resources.get(self.key_of(link))

    def items(self, *segments: str) -> Iterator[tuple[Key, Resource]]:
        """Every stored resource whose URL collection is one of `segments`."""
        for key, value in self.project.resources.items():
            if key.collection in segments:
                yield key, value


Prepare = Callable[[Context, Resource, Resource | None], None]
Refs = Callable[[Resource], Iterable[str]]
Render = Callable[[Context, Resource], Resource]
Hook = Callable[[Context, Resource], None]


def no_refs(resource: Resource) -> Iterable[str]:
    return ()


def accept(ctx: Context, body: Resource, old: Resource | None) -> None:
    """A `prepare` that takes the body as sent."""


@dataclass(frozen=True)
class Collection:
    api: str
    """The REST collection name in the discovery document, e.g. ``regionBackendServices``."""
    segment: str
    """The URL path segment, e.g. ``backendServices``."""
    scope: Scope
    kind: str
    noun: str
    """How in-use messages name it, e.g. ``health_check``."""
    methods: frozenset[str] = frozenset({"get", "list", "insert", "delete"})
    prepare: Prepare = accept
    refs: Refs = no_refs
    render: Render | None = None
    fingerprint: Callable[[Resource], Any] | None = None
    """The content hashed into the resource's ``fingerprint``; None if it has none."""
    labels: bool = False
    """Whether it carries ``labels`` with a ``labelFingerprint``."""
    on_delete: Hook | None = None


COLLECTIONS: dict[tuple[Scope, str], Collection] = {}
BY_API: dict[str, Collection] = {}


def register(*collections: Collection) -> None:
    for collection in collections:
        COLLECTIONS[(collection.scope, collection.segment)] = collection
        BY_API[collection.api] = collection


def strip_hidden(value: Any) -> Any:
    """A copy without the fake's private bookkeeping fields (names starting with ``_``)."""
    if isinstance(value, dict):
        return {k: strip_hidden(v) for k, v in value.items() if not k.startswith("_")}
    if isinstance(value, list):
        return [strip_hidden(v) for v in value]
    return value
