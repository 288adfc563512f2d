"""The methods every collection shares: get, list, insert, update, patch, delete,
setLabels, aggregatedList, and the operations they return.

Mutations are applied at once. The Operation they return is DONE at once unless the store's
``pending_polls`` is N > 0: then it is RUNNING in the mutating call's answer and in the next
N polls (``operations.get`` or ``operations.wait``), and DONE from the poll after. That
makes a caller prove it polls with its own operations client; the state itself never lags.
A mutation carrying a ``requestId`` seen before returns the earlier operation unchanged.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from providers.gcp.fake import checks
from providers.gcp.fake.errors import (
    ConditionNotMet,
    already_exists,
    in_use,
    invalid_value,
    not_found,
)
from providers.gcp.fake.filters import compile_filter, page
from providers.gcp.fake.links import Key, Scope, check_name
from providers.gcp.fake.registry import (
    COLLECTIONS,
    Collection,
    Context,
    strip_hidden,
)
from providers.gcp.fake.store import Resource, fingerprint, timestamp

OUTPUT_ONLY = frozenset(
    {
        "kind",
        "id",
        "creationTimestamp",
        "selfLink",
        "selfLinkWithId",
        "region",
        "zone",
        "fingerprint",
        "labelFingerprint",
        "users",
        "size",
        "status",
    }
)
"""Fields a request body may carry but the server always computes itself."""
KEPT_ON_UPDATE = ("labels",)
"""Changed only through setLabels, as on forwarding rules and addresses."""


def whole(resource: Resource) -> Any:
    """Fingerprint content: everything but the computed fields and the labels."""
    return {
        k: v
        for k, v in resource.items()
        if k not in OUTPUT_ONLY and k != "labels" and not k.startswith("_")
    }


def collection_of(key: Key) -> Collection:
    return COLLECTIONS[(key.location.scope, key.collection)]


def operation(ctx: Context, op_type: str, target: Key, *, target_id: str = "") -> Resource:
    """Record and return the Operation for a mutation of `target`."""
    store = ctx.store
    name = store.new_operation_name()
    key = Key(ctx.project.name, target.location, "operations", name)
    now = timestamp()
    op: Resource = {
        "kind": "compute#operation",
        "id": store.new_id(),
        "name": name,
        "operationType": op_type,
        "targetLink": ctx.link(target),
        "status": "DONE",
        "user": "fake-user@example.com",
        "progress": 100,
        "insertTime": now,
        "startTime": now,
        "endTime": now,
        "selfLink": ctx.link(key),
    }
    if target_id:
        op["targetId"] = target_id
    if target.location.scope is Scope.REGION:
        op["region"] = ctx.location_link(target.location)
    elif target.location.scope is Scope.ZONE:
        op["zone"] = ctx.location_link(target.location)
    if store.pending_polls > 0:
        op.update(status="RUNNING", progress=0)
        del op["endTime"]
        ctx.project.polls_left[key] = store.pending_polls
    ctx.project.resources[key] = op
    return copy.deepcopy(op)


def poll(ctx: Context) -> Resource:
    """operations.get and operations.wait: one poll of a (possibly pending) operation."""
    op = ctx.get(ctx.key)
    if op is None:
        raise not_found(ctx.key.path)
    left = ctx.project.polls_left.get(ctx.key)
    if left is not None:
        if left == 0:
            del ctx.project.polls_left[ctx.key]
            op.update(status="DONE", progress=100, endTime=timestamp())
        else:
            ctx.project.polls_left[ctx.key] = left - 1
    return copy.deepcopy(op)


def idempotent(ctx: Context, query: dict[str, str], apply: Callable[[], Resource]) -> Resource:
    """Run a mutation once per requestId."""
    request_id = query.get("requestId")
    if request_id and request_id in ctx.project.request_ids:
        return copy.deepcopy(ctx.project.request_ids[request_id])
    op = apply()
    if request_id:
        ctx.project.request_ids[request_id] = op
    return op


def render(ctx: Context, collection: Collection, resource: Resource) -> Resource:
    shown = collection.render(ctx, resource) if collection.render else resource
    return strip_hidden(copy.deepcopy(shown))  # type: ignore[no-any-return]


def existing(ctx: Context) -> Resource:
    found = ctx.get(ctx.key)
    if found is None:
        raise not_found(ctx.key.path)
    return found


def get(ctx: Context, collection: Collection) -> Resource:
    return render(ctx, collection, existing(ctx))


def _clean(body: Resource) -> Resource:
    return {
        k: v
        for k, v in copy.deepcopy(body).items()
        if k not in OUTPUT_ONLY and not k.startswith("_")
    }


def _store(ctx: Context, collection: Collection, body: Resource, old: Resource | None) -> str:
    """Fill the computed fields and save; returns the resource id."""
    key = ctx.key
    resource_id = old["id"] if old else ctx.store.new_id()
    stored: Resource = {
        "kind": collection.kind,
        "id": resource_id,
        "creationTimestamp": old["creationTimestamp"] if old else timestamp(),
        "name": key.name,
    }
    stored.update({k: v for k, v in body.items() if k not in stored})
    if key.location.scope is Scope.REGION:
        stored["region"] = ctx.location_link(key.location)
    elif key.location.scope is Scope.ZONE:
        stored["zone"] = ctx.location_link(key.location)
    if collection.labels:
        stored["labels"] = stored.get("labels") or {}
        stored["labelFingerprint"] = fingerprint(stored["labels"])
    if collection.fingerprint is not None:
        stored["fingerprint"] = fingerprint(collection.fingerprint(stored))
    stored["selfLink"] = ctx.link(key)
    ctx.project.resources[key] = stored
    return str(resource_id)


def insert(ctx: Context, collection: Collection, body: Resource) -> Resource:
    ctx.key = replace(ctx.key, name=check_name(body.get("name")))
    if ctx.key in ctx.project.resources:
        raise already_exists(ctx.key.path)
    fresh = _clean(body)
    if collection.labels:
        checks.labels(fresh)
    collection.prepare(ctx, fresh, None)
    return operation(ctx, "insert", ctx.key, target_id=_store(ctx, collection, fresh, None))


def check_fingerprint(old: Resource, body: Resource, field: str = "fingerprint") -> None:
    """A stale fingerprint is 412; a missing one is accepted, as the real API does."""
    given = body.get(field)
    if given and given != old.get(field):
        raise ConditionNotMet(
            f"Invalid {field} '{given}': the resource has changed since it was read "
            f"(current {field} is '{old.get(field)}')."
        )


def _replace(
    ctx: Context, collection: Collection, old: Resource, new: Resource, op_type: str
) -> Resource:
    for name in KEPT_ON_UPDATE:
        if name in old:
            new[name] = old[name]
    new.update({k: v for k, v in old.items() if k.startswith("_")})
    collection.prepare(ctx, new, old)
    return operation(ctx, op_type, ctx.key, target_id=_store(ctx, collection, new, old))


def update(ctx: Context, collection: Collection, body: Resource) -> Resource:
    old = existing(ctx)
    check_fingerprint(old, body)
    if body.get("name", ctx.key.name) != ctx.key.name:
        raise invalid_value("resource.name", body.get("name"), "The name cannot be changed.")
    new = _clean(body)
    new["name"] = ctx.key.name
    return _replace(ctx, collection, old, new, "update")


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge key by key, null deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    merged = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged


def patch(ctx: Context, collection: Collection, body: Resource) -> Resource:
    old = existing(ctx)
    check_fingerprint(old, body)
    if body.get("name", ctx.key.name) != ctx.key.name:
        raise invalid_value("resource.name", body.get("name"), "The name cannot be changed.")
    new = merge_patch(_clean(old), _clean(body))
    return _replace(ctx, collection, old, new, "patch")


def delete(ctx: Context, collection: Collection) -> Resource:
    old = existing(ctx)
    link = ctx.link(ctx.key)
    for key, resource in ctx.project.resources.items():
        if key == ctx.key or key.collection == "operations":
            continue
        if link in collection_of(key).refs(resource):
            raise in_use(collection.noun, ctx.key.path, key.path)
    if collection.on_delete is not None:
        collection.on_delete(ctx, old)
    del ctx.project.resources[ctx.key]
    return operation(ctx, "delete", ctx.key, target_id=str(old["id"]))


def set_labels(ctx: Context, collection: Collection, body: Resource) -> Resource:
    old = existing(ctx)
    given = body.get("labelFingerprint")
    if given and given != old.get("labelFingerprint"):
        raise ConditionNotMet(
            "Labels fingerprint either invalid or resource labels have changed "
            f"(given '{given}', current '{old.get('labelFingerprint')}')."
        )
    old["labels"] = checks.labels(body, "labels")
    old["labelFingerprint"] = fingerprint(old["labels"])
    return operation(ctx, "setLabels", ctx.key, target_id=str(old["id"]))


def _list_body(
    ctx: Context, kind: str, self_link: str, items: Any, token: str | None, list_id: str
) -> Resource:
    out: Resource = {"kind": kind, "id": list_id, "selfLink": self_link}
    if items:
        out["items"] = items
    if token:
        out["nextPageToken"] = token
    return out


def list_items(ctx: Context, collection: Collection, query: dict[str, str]) -> Resource:
    keep = compile_filter(query.get("filter"))
    pairs = []
    for key, resource in ctx.project.resources.items():
        if key.collection == collection.segment and key.location == ctx.location:
            shown = render(ctx, collection, resource)
            if keep(shown):
                pairs.append(((key.location.path, key.name), shown))
    items, token = page(pairs, query)
    where = f"projects/{ctx.project.name}/{ctx.location.path}/{collection.segment}"
    return _list_body(
        ctx, f"{collection.kind}List", f"{ctx.store.link_base}/{where}", items, token, where
    )


def aggregated_list(ctx: Context, segment: str, query: dict[str, str]) -> Resource:
    """Every regional or zonal resource of one collection, grouped by location."""
    keep = compile_filter(query.get("filter"))
    pairs = []
    kind = ""
    for key, resource in ctx.project.resources.items():
        if key.collection != segment or key.location.scope is Scope.GLOBAL:
            continue
        collection = collection_of(key)
        kind = collection.kind
        shown = render(ctx, collection, resource)
        if keep(shown):
            pairs.append(((key.location.path, key.name), shown))
    items, token = page(pairs, query)
    grouped: dict[str, Resource] = {}
    for item in items:
        where = _location_path(item)
        grouped.setdefault(where, {segment: []})[segment].append(item)
    where = f"projects/{ctx.project.name}/aggregated/{segment}"
    kind = kind or _kind_for(segment)
    return _list_body(
        ctx, f"{kind}AggregatedList", f"{ctx.store.link_base}/{where}", grouped, token, where
    )


def _location_path(item: Resource) -> str:
    for field in ("zone", "region"):
        if field in item:
            scope = "zones" if field == "zone" else "regions"
            return f"{scope}/{str(item[field]).rsplit('/', 1)[-1]}"
    return "global"


def _kind_for(segment: str) -> str:
    for (scope, name), collection in COLLECTIONS.items():
        if name == segment and scope is not Scope.GLOBAL:
            return collection.kind
    return "compute#unknown"


def refresh(ctx: Context, collection: Collection, resource: Resource) -> None:
    """Recompute the fingerprints of a resource changed in place by a custom method."""
    if collection.labels:
        resource["labelFingerprint"] = fingerprint(resource.get("labels") or {})
    if collection.fingerprint is not None:
        resource["fingerprint"] = fingerprint(collection.fingerprint(resource))
