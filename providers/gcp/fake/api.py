"""From an HTTP request to a Compute method: path parsing, dispatch, the fixed geography.

Paths are those the google-cloud-compute REST transport sends, all under
``/compute/v1/projects/{project}/``: ``global/<collection>[/<name>[/<verb>]]``,
``regions/<r>/...``, ``zones/<z>/...``, ``aggregated/<collection>``, ``zones[/<z>]``,
``regions[/<r>]``, and three odd ones without ``global/``:
``targetHttpProxies/<n>/setUrlMap``, ``targetHttpsProxies/<n>/setUrlMap`` and
``targetHttpsProxies/<n>/setSslCertificates``. A path the real API has but the fake does not
model answers 501, so a gap shows up as itself rather than as a confusing 404.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from providers.gcp.fake import backends, frontends, methods, network, policies, proxies
from providers.gcp.fake.errors import NotImplementedByFake, not_found
from providers.gcp.fake.filters import compile_filter, page
from providers.gcp.fake.links import GLOBAL, REGIONS, ZONES, Key, Location, Scope, check_location
from providers.gcp.fake.registry import COLLECTIONS, Collection, Context, register
from providers.gcp.fake.store import Resource, Store

PREFIX = "/compute/v1/projects/"
ODD_GLOBAL = ("targetHttpProxies", "targetHttpsProxies")
"""Collections whose setUrlMap / setSslCertificates paths leave out ``global/``."""
GEOGRAPHY_CREATED = "2015-01-01T00:00:00.000-00:00"

Verb = Callable[[Context, Collection, Resource, dict[str, str]], Resource]

register(
    Collection(
        "globalOperations",
        "operations",
        Scope.GLOBAL,
        "compute#operation",
        "operation",
        methods=frozenset({"get", "list", "wait"}),
    ),
    Collection(
        "regionOperations",
        "operations",
        Scope.REGION,
        "compute#operation",
        "operation",
        methods=frozenset({"get", "list", "wait"}),
    ),
    Collection(
        "zoneOperations",
        "operations",
        Scope.ZONE,
        "compute#operation",
        "operation",
        methods=frozenset({"get", "list", "wait"}),
    ),
)
_ = (network, policies)  # register their collections on import

VERBS: dict[tuple[str, str], Verb] = {**backends.VERBS, **frontends.VERBS, **proxies.VERBS}


@dataclass(frozen=True)
class Route:
    project: str
    operation: str
    """``<api collection>.<method>``, as the call log shows it."""


def _geography(
    store: Store, project: str, parts: list[str], method: str, query: dict[str, str]
) -> tuple[str, Resource]:
    base = f"{store.link_base}/projects/{project}"
    kind, name = parts[0], parts[1] if len(parts) > 1 else ""
    api = "zones" if kind == "zones" else "regions"
    if method != "GET" or len(parts) > 2:
        raise NotImplementedByFake(f"{method} /{'/'.join(parts)} is not modelled by the fake")

    def region(r: str) -> Resource:
        return {
            "kind": "compute#region",
            "id": str(1000 + sorted(REGIONS).index(r)),
            "creationTimestamp": GEOGRAPHY_CREATED,
            "name": r,
            "description": r,
            "status": "UP",
            "selfLink": f"{base}/regions/{r}",
            "zones": [f"{base}/zones/{r}-{z}" for z in REGIONS[r]],
        }

    def zone(z: str) -> Resource:
        return {
            "kind": "compute#zone",
            "id": str(2000 + sorted(ZONES).index(z)),
            "creationTimestamp": GEOGRAPHY_CREATED,
            "name": z,
            "description": z,
            "status": "UP",
            "region": f"{base}/regions/{ZONES[z]}",
            "selfLink": f"{base}/zones/{z}",
        }

    make, names = (zone, ZONES) if kind == "zones" else (region, REGIONS)
    if name:
        if name not in names:
            raise not_found(f"projects/{project}/{kind}/{name}")
        return f"{api}.get", make(name)
    keep = compile_filter(query.get("filter"))
    items, token = page([((n, ""), make(n)) for n in names if keep(make(n))], query)
    out: Resource = {
        "kind": f"compute#{kind[:-1]}List",
        "id": f"projects/{project}/{kind}",
        "items": items,
        "selfLink": f"{base}/{kind}",
    }
    if token:
        out["nextPageToken"] = token
    return f"{api}.list", out


def _method_name(http: str, name: str, verb: str) -> str:
    if verb:
        return verb
    if not name:
        return {"GET": "list", "POST": "insert"}.get(http, "")
    return {"GET": "get", "DELETE": "delete", "PATCH": "patch", "PUT": "update"}.get(http, "")


def handle(
    store: Store, http: str, path: str, query: dict[str, str], body: Resource
) -> tuple[Route, Resource]:
    """Answer one Compute request; raises an ApiError (carrying the Route) on refusal."""
    if not path.startswith(PREFIX):
        raise NotFoundRoute(Route("", ""), path)
    parts = [p for p in path[len(PREFIX) :].split("/") if p]
    if not parts:
        raise NotFoundRoute(Route("", ""), path)
    project, parts = parts[0], parts[1:]
    with store.lock:
        state = store.project(project)
        if len(parts) in (1, 2) and parts[0] in ("zones", "regions"):
            operation, result = _geography(store, project, parts, http, query)
            return Route(project, operation), result
        if len(parts) == 2 and parts[0] == "aggregated" and http == "GET":
            found = [
                c
                for (scope, segment), c in COLLECTIONS.items()
                if segment == parts[1]
                and scope is not Scope.GLOBAL
                and "aggregatedList" in c.methods
            ]
            if not found:
                raise NotImplementedByFake(f"aggregated/{parts[1]} is not modelled by the fake")
            ctx = Context(store, state, Key(project, GLOBAL, parts[1], ""))
            return (
                Route(project, f"{found[0].api}.aggregatedList"),
                methods.aggregated_list(ctx, parts[1], query),
            )
        if len(parts) == 3 and parts[0] in ODD_GLOBAL:
            location, rest = GLOBAL, parts
        elif parts[0] == "global":
            location, rest = GLOBAL, parts[1:]
        elif parts[0] in ("regions", "zones") and len(parts) >= 3:
            location, rest = Location(Scope(parts[0]), parts[1]), parts[2:]
        else:
            raise NotImplementedByFake(f"{http} {path} is not modelled by the fake")
        collection = COLLECTIONS.get((location.scope, rest[0]))
        if collection is None or len(rest) > 3:
            raise NotImplementedByFake(f"{http} {path} is not modelled by the fake")
        name = rest[1] if len(rest) > 1 else ""
        verb = rest[2] if len(rest) > 2 else ""
        method = _method_name(http, name, verb)
        route = Route(project, f"{collection.api}.{method}")
        if method not in collection.methods and (collection.api, method) not in VERBS:
            raise RouteError(
                route,
                NotImplementedByFake(
                    f"{collection.api}.{method or http} is not modelled by the fake"
                ),
            )
        try:
            check_location(location)
            ctx = Context(store, state, Key(project, location, collection.segment, name))
            return route, _dispatch(ctx, collection, method, body, query)
        except Exception as err:
            raise RouteError(route, err) from err


def _dispatch(
    ctx: Context, collection: Collection, method: str, body: Resource, query: dict[str, str]
) -> Resource:
    if collection.segment == "operations":
        if method == "list":
            return methods.list_items(ctx, collection, query)
        return methods.poll(ctx)
    if method == "get":
        return methods.get(ctx, collection)
    if method == "list":
        return methods.list_items(ctx, collection, query)
    generic: dict[str, Callable[[Context, Collection, Resource], Resource]] = {
        "insert": methods.insert,
        "update": methods.update,
        "patch": methods.patch,
        "setLabels": methods.set_labels,
    }
    if method in generic:
        apply = generic[method]
        return methods.idempotent(ctx, query, lambda: apply(ctx, collection, body))
    if method == "delete":
        return methods.idempotent(ctx, query, lambda: methods.delete(ctx, collection))
    verb = VERBS[(collection.api, method)]
    if method in ("listInstances", "getHealth"):
        return verb(ctx, collection, body, query)
    return methods.idempotent(ctx, query, lambda: verb(ctx, collection, body, query))


class RouteError(Exception):
    """A refusal together with the route it happened on, for the call log."""

    def __init__(self, route: Route, error: BaseException) -> None:
        super().__init__(str(error))
        self.route = route
        self.error = error


class NotFoundRoute(RouteError):
    def __init__(self, route: Route, path: str) -> None:
        super().__init__(route, not_found(path))
