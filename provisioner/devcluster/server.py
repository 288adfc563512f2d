"""The HTTP face of the dev cluster: Kubernetes REST paths over aiohttp.

Routing is done by hand rather than with a route table because the set of
resources changes at run time (CRDs) and because the same path shape means
different things depending on what is registered, e.g.
``/api/v1/namespaces/x/status`` versus ``/api/v1/namespaces/x/pods``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass
from typing import Any

import yaml
from aiohttp import web

from provisioner.devcluster import openapi, protobuf, tables
from provisioner.devcluster.errors import ApiError, bad_request, not_found
from provisioner.devcluster.registry import Registry
from provisioner.devcluster.resources import ResourceType
from provisioner.devcluster.selectors import object_filter
from provisioner.devcluster.store import CLOSED, Change

Obj = dict[str, Any]
log = logging.getLogger(__name__)

VERSION_INFO = {
    "major": "1",
    "minor": "32",
    "gitVersion": "v1.32.0-devcluster",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2025-01-01T00:00:00Z",
    "goVersion": "go1.23.0",
    "compiler": "gc",
    "platform": "linux/amd64",
}

REGISTRY_KEY = web.AppKey("registry", Registry)
BOOKMARK_KEY = web.AppKey("bookmark_interval", float)


@dataclass
class Target:
    """What a resource URL names."""

    rtype: ResourceType
    namespace: str | None
    name: str | None
    subresource: str


def _json(body: Obj, status: int = 200) -> web.Response:
    return web.Response(status=status, text=json.dumps(body), content_type="application/json")


@web.middleware
async def status_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    """Every failure leaves as a Kubernetes Status object."""
    try:
        response: web.StreamResponse = await handler(request)
        return response
    except ApiError as error:
        return _json(error.status(), error.code)
    except web.HTTPException:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        log.exception("malformed request %s %s", request.method, request.path)
        return _json(bad_request(f"invalid request: {error!r}").status(), 400)


def _resolve(registry: Registry, parts: list[str]) -> tuple[Target, bool]:
    """Map path segments after /api/v1 or /apis/g/v to a target; flag legacy /watch/."""
    if parts[0] == "api":
        group, version, rest = "", parts[1], parts[2:]
    else:
        group, version, rest = parts[1], parts[2], parts[3:]
    watch = False
    if rest and rest[0] == "watch":
        watch, rest = True, rest[1:]
    catalog = registry.catalog
    namespace: str | None = None
    if len(rest) >= 3 and rest[0] == "namespaces" and catalog.lookup(group, version, rest[2]):
        namespace, rest = rest[1], rest[2:]
    if not rest or len(rest) > 3:
        raise not_found(group, "", "/".join(parts))
    rtype = catalog.lookup(group, version, rest[0])
    if rtype is None:
        raise ApiError(404, "the server could not find the requested resource")
    if namespace is not None and not rtype.namespaced:
        raise ApiError(404, "the server could not find the requested resource")
    name = rest[1] if len(rest) > 1 else None
    subresource = rest[2] if len(rest) > 2 else ""
    allowed = {""} | ({"status"} if rtype.status else set()) | ({"scale"} if rtype.scale else set())
    if rtype.plural == "namespaces":
        allowed.add("finalize")
    if subresource not in allowed:
        raise ApiError(404, "the server could not find the requested resource")
    return Target(rtype, namespace, name, subresource), watch


async def _body(request: web.Request) -> Any:
    raw = await request.read()
    if not raw:
        return None
    if "protobuf" in request.content_type:
        return protobuf.decode(raw)
    if "cbor" in request.content_type:
        raise ApiError(
            415,
            "the body of the request was in an unknown format - accepted media types include: "
            "application/json, application/yaml",
            reason="UnsupportedMediaType",
        )
    try:
        if "yaml" in request.content_type:
            return yaml.safe_load(raw)
        return json.loads(raw)
    except (ValueError, yaml.YAMLError) as error:
        raise bad_request(f"the request body is not valid JSON or YAML: {error}") from error


async def resource(request: web.Request) -> web.StreamResponse:
    registry = request.app[REGISTRY_KEY]
    parts = [p for p in request.path.split("/") if p]
    target, watch = _resolve(registry, parts)
    query = request.query
    watch = watch or query.get("watch") in ("true", "1")
    rtype = target.rtype
    method = request.method
    namespace = target.namespace or ""
    strict = query.get("fieldValidation") == "Strict"
    if target.name is None:
        if method == "GET" and watch:
            return await _watch(request, target)
        if method == "GET":
            items, version = registry.list(
                rtype,
                target.namespace,
                label_selector=query.get("labelSelector", ""),
                field_selector=query.get("fieldSelector", ""),
            )
            if tables.wants_table(request.headers.get("Accept", "")):
                include = query.get("includeObject", "Metadata")
                return _json(tables.table(rtype, items, version=version, include=include))
            return _json(
                {
                    "kind": rtype.list_kind,
                    "apiVersion": rtype.api_version,
                    "metadata": {"resourceVersion": version},
                    "items": items,
                }
            )
        if rtype.namespaced and target.namespace is None:
            raise ApiError(405, "the server does not allow this method on the requested resource")
        if method == "POST":
            return _json(
                registry.create(rtype, namespace, await _body(request), strict=strict), 201
            )
        if method == "DELETE":
            items = registry.delete_collection(
                rtype,
                target.namespace,
                label_selector=query.get("labelSelector", ""),
                field_selector=query.get("fieldSelector", ""),
                options=_delete_options(request, await _body(request)),
            )
            return _json(
                {
                    "kind": rtype.list_kind,
                    "apiVersion": rtype.api_version,
                    "metadata": {"resourceVersion": str(registry.store.resource_version)},
                    "items": items,
                }
            )
        raise ApiError(405, "the server does not allow this method on the requested resource")
    if rtype.namespaced and target.namespace is None:
        raise ApiError(404, "the server could not find the requested resource")
    name = target.name
    if target.subresource == "scale":
        if method == "GET":
            return _json(registry.get_scale(rtype, namespace, name))
        if method in ("PUT", "PATCH"):
            content_type = request.content_type if method == "PATCH" else ""
            return _json(
                registry.update_scale(
                    rtype, namespace, name, await _body(request), content_type=content_type
                )
            )
        raise ApiError(405, "the server does not allow this method on the requested resource")
    subresource = "status" if target.subresource == "status" else ""
    if method == "GET":
        obj = registry.get(rtype, namespace, name)
        if not subresource and tables.wants_table(request.headers.get("Accept", "")):
            version = obj["metadata"].get("resourceVersion", "")
            include = query.get("includeObject", "Metadata")
            return _json(tables.table(rtype, [obj], version=version, include=include))
        return _json(obj)
    if method == "PUT":
        body = await _body(request)
        return _json(
            registry.update(rtype, namespace, name, body, subresource=subresource, strict=strict)
        )
    if method == "PATCH":
        body = await _body(request)
        return _json(
            registry.patch(
                rtype,
                namespace,
                name,
                request.content_type,
                body,
                subresource=subresource,
                strict=strict,
            )
        )
    if method == "DELETE" and not subresource:
        options = _delete_options(request, await _body(request))
        obj = registry.delete(rtype, namespace, name, options)
        pending = bool(obj.get("metadata", {}).get("deletionTimestamp"))
        with registry.store.lock:
            still_there = registry.store.get(rtype.storage, namespace, name) is not None
        return _json(obj, 202 if pending and still_there else 200)
    raise ApiError(405, "the server does not allow this method on the requested resource")


def _delete_options(request: web.Request, body: Any) -> Obj:
    options: Obj = dict(body) if isinstance(body, dict) else {}
    if "gracePeriodSeconds" in request.query:
        try:
            options["gracePeriodSeconds"] = int(request.query["gracePeriodSeconds"])
        except ValueError as error:
            raise bad_request("gracePeriodSeconds must be an integer") from error
    if "propagationPolicy" in request.query:
        options["propagationPolicy"] = request.query["propagationPolicy"]
    return options


def _event_line(kind: str, obj: Obj) -> bytes:
    return (json.dumps({"type": kind, "object": obj}) + "\n").encode()


async def _watch(request: web.Request, target: Target) -> web.StreamResponse:
    registry = request.app[REGISTRY_KEY]
    bookmark_interval = request.app[BOOKMARK_KEY]
    query = request.query
    rtype = target.rtype
    matches = object_filter(query.get("labelSelector", ""), query.get("fieldSelector", ""))
    raw_version = query.get("resourceVersion", "")
    try:
        since = int(raw_version) if raw_version not in ("", "0") else None
    except ValueError as error:
        raise bad_request(f"invalid resource version {raw_version!r}") from error
    timeout: float | None = None
    if query.get("timeoutSeconds"):
        try:
            timeout = float(query["timeoutSeconds"])
        except ValueError as error:
            raise bad_request("timeoutSeconds must be a number") from error
    bookmarks = query.get("allowWatchBookmarks") in ("true", "1")
    as_table = tables.wants_table(request.headers.get("Accept", ""))
    include = query.get("includeObject", "Metadata")

    def render(change: Change) -> bytes | None:
        return _change_line(registry, rtype, change, matches, table=as_table, include=include)

    response = web.StreamResponse(status=200)
    response.content_type = "application/json"
    response.enable_chunked_encoding()
    loop = asyncio.get_running_loop()
    try:
        watcher, replay = registry.store.watch(
            rtype.storage, target.namespace, since=since, loop=loop
        )
    except ApiError as error:
        await response.prepare(request)
        await response.write(_event_line("ERROR", error.status()))
        return response
    await response.prepare(request)
    deadline = loop.time() + timeout if timeout is not None else None
    try:
        for change in replay:
            line = render(change)
            if line:
                await response.write(line)
        while True:
            wait = bookmark_interval if bookmarks else None
            if deadline is not None:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                wait = remaining if wait is None else min(wait, remaining)
            try:
                item = await asyncio.wait_for(watcher.queue.get(), timeout=wait)
            except TimeoutError:
                if bookmarks and (deadline is None or deadline > loop.time()):
                    await response.write(_bookmark(registry, rtype))
                continue
            if item is CLOSED:
                break
            line = render(item)
            if line:
                await response.write(line)
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        registry.store.unwatch(watcher)
    with contextlib.suppress(ConnectionResetError, RuntimeError):
        await response.write_eof()
    return response


def _bookmark(registry: Registry, rtype: ResourceType) -> bytes:
    obj = {
        "kind": rtype.kind,
        "apiVersion": rtype.api_version,
        "metadata": {"resourceVersion": str(registry.store.resource_version)},
    }
    return _event_line("BOOKMARK", obj)


def _change_line(
    registry: Registry,
    rtype: ResourceType,
    change: Change,
    matches: Any,
    *,
    table: bool,
    include: str,
) -> bytes | None:
    """Render one change for a filtered watch; objects leaving the filter read as DELETED."""
    obj = registry.view(rtype, change.obj)
    now_matches = matches(obj)
    kind = change.type
    if change.type == "MODIFIED" and change.old is not None:
        was_matching = matches(registry.view(rtype, change.old))
        if was_matching and not now_matches:
            kind = "DELETED"
        elif now_matches and not was_matching:
            kind = "ADDED"
        elif not now_matches:
            return None
    elif not now_matches:
        return None
    if table:
        version = obj["metadata"].get("resourceVersion", "")
        return _event_line(kind, tables.table(rtype, [obj], version=version, include=include))
    return _event_line(kind, obj)


async def discovery(request: web.Request) -> web.StreamResponse:
    catalog = request.app[REGISTRY_KEY].catalog
    parts = [p for p in request.path.split("/") if p]
    document: Obj | None = None
    if parts == ["api"]:
        document = catalog.core_versions()
    elif parts == ["apis"]:
        document = catalog.group_list()
    elif parts == ["api", "v1"]:
        document = catalog.resource_list("", "v1")
    elif len(parts) == 2:
        document = catalog.group_doc(parts[1])
    elif len(parts) == 3:
        document = catalog.resource_list(parts[1], parts[2])
    if document is None:
        raise ApiError(404, "the server could not find the requested resource")
    return _json(document)


async def openapi_v3(request: web.Request) -> web.StreamResponse:
    catalog = request.app[REGISTRY_KEY].catalog
    parts = [p for p in request.path.split("/") if p][2:]
    if not parts:
        return _json(openapi.root_document(catalog))
    if parts[0] == "api" and len(parts) == 2:
        document = openapi.group_version_document(catalog, "", parts[1])
    elif parts[0] == "apis" and len(parts) == 3:
        document = openapi.group_version_document(catalog, parts[1], parts[2])
    else:
        document = None
    if document is None:
        raise ApiError(404, "the server could not find the requested resource")
    return _json(document)


async def version(request: web.Request) -> web.StreamResponse:
    return _json(VERSION_INFO)


async def health(request: web.Request) -> web.StreamResponse:
    return web.Response(text="ok")


async def fallback(request: web.Request) -> web.StreamResponse:
    raise ApiError(404, "the server could not find the requested resource")


async def route(request: web.Request) -> web.StreamResponse:
    """Dispatch on the leading path segments, since resources change at run time."""
    parts = [p for p in request.path.split("/") if p]
    if parts in (["version"], ["version", ""]):
        return await version(request)
    if parts and parts[0] in ("healthz", "readyz", "livez"):
        return await health(request)
    if parts[:2] == ["openapi", "v3"]:
        return await openapi_v3(request)
    is_core = parts[:1] == ["api"]
    is_group = parts[:1] == ["apis"]
    if (is_core and len(parts) <= 2) or (is_group and len(parts) <= 3):
        if request.method != "GET":
            raise ApiError(405, "the server does not allow this method on the requested resource")
        return await discovery(request)
    if is_core or is_group:
        return await resource(request)
    return await fallback(request)


def make_app(registry: Registry, *, bookmark_interval: float = 5.0) -> web.Application:
    app = web.Application(middlewares=[status_errors], client_max_size=16 * 1024 * 1024)
    app[REGISTRY_KEY] = registry
    app[BOOKMARK_KEY] = bookmark_interval
    app.router.add_route("*", "/{tail:.*}", route)
    return app
