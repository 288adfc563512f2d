"""How `plan` and `apply` results are shown: JSON for programs, text for people.

The JSON shapes are a public interface (scripts and tests outside the project read them);
change them only by adding fields.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from provisioner.manifests import DocumentError
from provisioner.model import Forward, Route, split_key
from provisioner.reconcile import Outcome

_SYMBOL = {"create": "+", "update": "~", "delete": "-"}


def _entry(key: str) -> dict[str, Any]:
    kind, namespace, name = split_key(key)
    return {"kind": kind, "namespace": namespace, "name": name}


def _sort(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(
        entries,
        key=lambda e: (
            e.get("kind", ""),
            e.get("namespace", ""),
            e.get("name", ""),
            e.get("source", ""),
        ),
    )


def _is_ingress(outcome: Outcome) -> bool:
    return split_key(outcome.key)[0] in ("Ingress", "IngressGroup") and bool(outcome.members)


def _errors(outcome: Outcome) -> list[tuple[str, str]]:
    """(object key, error): an Ingress key's errors are reported on its Ingresses."""
    if _is_ingress(outcome):
        found = [(m, outcome.member_errors.get(m) or outcome.error) for m in outcome.members]
        return [(key, error) for key, error in found if error]
    return [(outcome.key, outcome.error)] if outcome.error else []


def plan_json(outcomes: Sequence[Outcome], documents: Sequence[DocumentError]) -> dict[str, Any]:
    changes = [c.as_json() for o in outcomes if o.plan for c in o.plan.changes]
    errors = [dict(_entry(key), error=error) for o in outcomes for key, error in _errors(o)]
    errors += [{"source": d.source, "error": d.error} for d in documents]
    return {"changes": changes, "errors": _sort(errors)}


def _status(outcome: Outcome) -> dict[str, Any]:
    ingress: list[dict[str, str]] = []
    if outcome.ours and outcome.status is not None:
        ingress = [{"hostname": h} for h in outcome.status.hostnames]
        ingress += [{"ip": ip} for ip in outcome.status.ips]
    return {"loadBalancer": {"ingress": ingress} if ingress else {}}


def apply_json(
    outcomes: Sequence[Outcome],
    documents: Sequence[DocumentError],
    *,
    pruned: set[str],
) -> dict[str, Any]:
    objects: list[dict[str, Any]] = []
    for outcome in outcomes:
        if _is_ingress(outcome):
            # One entry per Ingress, each with the group's addresses or its own error.
            for member in outcome.members:
                entry = _entry(member)
                error = outcome.member_errors.get(member) or outcome.error
                if error:
                    entry["error"] = error
                else:
                    entry["status"] = _status(outcome)
                objects.append(entry)
            continue
        entry = _entry(outcome.key)
        if outcome.error:
            entry["error"] = outcome.error
        elif outcome.key in pruned:
            if not outcome.plan or not outcome.plan.changes:
                continue
            entry["pruned"] = True
        elif outcome.ours or (outcome.plan and outcome.plan.changes):
            entry["status"] = _status(outcome)  # not ours but changed: its resources deleted
        else:
            continue
        objects.append(entry)
    objects += [{"source": d.source, "error": d.error} for d in documents]
    return {"objects": _sort(objects)}


def plan_text(outcomes: Sequence[Outcome], documents: Sequence[DocumentError]) -> str:
    lines: list[str] = []
    counts = {"create": 0, "update": 0, "delete": 0}
    replacements = 0
    for outcome in outcomes:
        if outcome.plan and outcome.plan.changes:
            lines.append(f"{outcome.key}:")
            for change in outcome.plan.changes:
                counts[change.action.value] += 1
                replacements += change.replace
                flag = "  (replace)" if change.replace else ""
                lines.append(
                    f"  {_SYMBOL[change.action.value]} {change.action.value} "
                    f"{change.type} {change.name}{flag}"
                )
                if change.reason:
                    lines.append(f"      why: {change.reason}")
                for field, value in change.diff.items():
                    lines.append(f"      {field}: {_show(value)}")
        for key, error in _errors(outcome):
            lines.append(f"{key}: error: {error}")
    for document in documents:
        lines.append(f"{document.source}: error: {document.error}")
    total = sum(counts.values())
    if total == 0:
        lines.append("No changes: the cloud already matches.")
    else:
        lines.append(
            f"Plan: {counts['create']} to create, {counts['update']} to update, "
            f"{counts['delete']} to delete ({replacements} replacement(s))."
        )
    return "\n".join(lines)


def _route(route: Route) -> str:
    where = f"{route.host or '*'}{route.path or ''}"
    kind = f" ({route.path_type.value})" if route.path else ""
    action = route.action
    if isinstance(action, Forward):
        target = ", ".join(b.backend_id for b in action.backends)
    else:
        target = type(action).__name__
    return f"route {where}{kind} -> {target}"


def _change(value: Any) -> str:
    """`[old, new]` pairs read as `old -> new`; an empty old value means unset."""
    if isinstance(value, list | tuple) and len(value) == 2:
        old, new = value
        return f"{old if old not in (None, '') else '(unset)'} -> {new}"
    return _show(value)


def _show(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) if value else "(none)"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_change(v)}" for k, v in value.items())
    return str(value)


def apply_text(
    outcomes: Sequence[Outcome], documents: Sequence[DocumentError], *, pruned: set[str]
) -> str:
    """A tree: load balancer -> listeners -> backends -> targets."""
    lines: list[str] = []
    for outcome in outcomes:
        for key, error in _errors(outcome):
            lines.append(f"{key}: error: {error}")
        if outcome.error:
            continue
        changed = bool(outcome.plan and outcome.plan.changes)
        if outcome.key in pruned:
            if changed:
                lines.append(f"{outcome.key}: pruned")
            continue
        if not outcome.ours:
            if changed:
                lines.append(f"{outcome.key}: deleted")
            continue
        status = outcome.status
        detail = status.detail if status else {}
        hostnames = ", ".join(status.hostnames) if status else ""
        note = f"{len(outcome.plan.changes)} change(s)" if outcome.plan and changed else "unchanged"
        lines.append(f"{outcome.key}  [{note}]")
        lines.append(f"  load balancer {detail.get('name', '?')}  {hostnames}")
        desired = outcome.desired
        if desired is None:
            continue
        target_groups = detail.get("target_groups", {})
        for listener in desired.listeners:
            backend_ids = [b.backend_id for b in getattr(listener.default, "backends", ())]
            for backend_id in backend_ids:
                backend = desired.backend(backend_id)
                lines.append(
                    f"    listener {listener.protocol.value}:{listener.port} -> target group "
                    f"{target_groups.get(backend_id, backend_id)} "
                    f"({backend.target_type.value}, {backend.protocol.value}:{backend.port})"
                )
                for target in sorted(backend.targets, key=lambda t: (t.address, t.port)):
                    lines.append(f"        {target.address}:{target.port}")
                if not backend.targets:
                    lines.append("        (no targets)")
            for route in listener.routes:
                lines.append(
                    f"    listener {listener.protocol.value}:{listener.port} {_route(route)}"
                )
    for document in documents:
        lines.append(f"{document.source}: error: {document.error}")
    return "\n".join(lines)
