"""Model actions as elbv2 actions, and a canonical form to compare them with what AWS returns.

AWS fills in what a request left out (a redirect's `#{host}`, a forward's stickiness) and
returns a single-group forward both as `TargetGroupArn` and as `ForwardConfig`; moto echoes
what it was given. Requests therefore spell every field out, and comparisons go through
`canonical`, which reads either shape, so a listener or rule that matches is never rewritten.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from providers.base import InvalidSpec
from provisioner.model import Action, FixedResponse, Forward, Redirect

REDIRECT_DEFAULTS = {
    "Protocol": "#{protocol}",
    "Port": "#{port}",
    "Host": "#{host}",
    "Path": "/#{path}",
    "Query": "#{query}",
}
CONTENT_TYPES = (
    "text/plain",
    "text/css",
    "text/html",
    "application/javascript",
    "application/json",
)
MAX_FORWARD_GROUPS = 5
MAX_BODY = 1024


def check_action(action: Action, *, backends: set[str], where: str) -> None:
    """Refuse what an ALB action cannot carry, naming where the action is used."""
    if isinstance(action, Forward):
        if not 1 <= len(action.backends) <= MAX_FORWARD_GROUPS:
            raise InvalidSpec(
                f"actions: {where} forwards to {len(action.backends)} backends; accepted: "
                f"1 to {MAX_FORWARD_GROUPS}",
                field="actions",
                value=where,
            )
        for weighted in action.backends:
            if weighted.backend_id not in backends:
                raise InvalidSpec(
                    f"actions: {where} forwards to unknown backend {weighted.backend_id!r}",
                    field="actions",
                    value=weighted.backend_id,
                )
            if not 0 <= weighted.weight <= 999:
                raise InvalidSpec(
                    f"actions: {where} gives backend {weighted.backend_id} weight "
                    f"{weighted.weight}; accepted: 0-999",
                    field="actions",
                    value=str(weighted.weight),
                )
    elif isinstance(action, Redirect):
        if action.status_code not in (301, 302):
            raise InvalidSpec(
                f"actions: {where} redirects with status {action.status_code}; accepted: 301, 302",
                field="actions",
                value=str(action.status_code),
            )
        if action.protocol is not None and action.protocol.upper() not in ("HTTP", "HTTPS"):
            raise InvalidSpec(
                f"actions: {where} redirects to protocol {action.protocol!r}; accepted: HTTP, "
                "HTTPS",
                field="actions",
                value=action.protocol,
            )
    else:
        code = action.status_code
        if not (200 <= code <= 299 or 400 <= code <= 599):
            raise InvalidSpec(
                f"actions: {where} answers with status {code}; accepted: 2XX, 4XX, 5XX",
                field="actions",
                value=str(code),
            )
        if action.content_type not in CONTENT_TYPES or len(action.body) > MAX_BODY:
            raise InvalidSpec(
                f"actions: {where} has a fixed response of type {action.content_type!r} and "
                f"{len(action.body)} characters; accepted: {', '.join(CONTENT_TYPES)}, at most "
                f"{MAX_BODY} characters",
                field="actions",
                value=action.content_type,
            )


def wire(action: Action, target_groups: Mapping[str, Any]) -> dict[str, Any]:
    """The elbv2 action; target groups are ARNs or refs to groups created in the same plan."""
    if isinstance(action, Forward):
        groups = [
            {"TargetGroupArn": target_groups[w.backend_id], "Weight": w.weight}
            for w in action.backends
        ]
        return {"Type": "forward", "ForwardConfig": {"TargetGroups": groups}}
    if isinstance(action, Redirect):
        config = dict(REDIRECT_DEFAULTS)
        if action.protocol:
            config["Protocol"] = action.protocol.upper()
        if action.port:
            config["Port"] = str(action.port)
        if action.host:
            config["Host"] = action.host
        if action.path:
            config["Path"] = action.path
        config["StatusCode"] = f"HTTP_{action.status_code}"
        return {"Type": "redirect", "RedirectConfig": config}
    assert isinstance(action, FixedResponse)
    fixed: dict[str, Any] = {"StatusCode": str(action.status_code)}
    fixed["ContentType"] = action.content_type
    if action.body:
        fixed["MessageBody"] = action.body
    return {"Type": "fixed-response", "FixedResponseConfig": fixed}


def _arn_text(value: Any) -> str:
    if isinstance(value, Mapping):
        return f"(new {value.get('ref', '')})"
    return str(value)


def canonical(sdk: Mapping[str, Any]) -> tuple[Any, ...]:
    """A comparable form of one action, from a request or from a describe."""
    kind = sdk.get("Type", "")
    if kind == "forward":
        config = sdk.get("ForwardConfig") or {}
        groups = config.get("TargetGroups") or (
            [{"TargetGroupArn": sdk["TargetGroupArn"]}] if sdk.get("TargetGroupArn") else []
        )
        return (
            "forward",
            tuple(
                sorted((_arn_text(g["TargetGroupArn"]), int(g.get("Weight", 1))) for g in groups)
            ),
        )
    if kind == "redirect":
        config = sdk.get("RedirectConfig") or {}
        fields = tuple(str(config.get(k) or v) for k, v in REDIRECT_DEFAULTS.items())
        return ("redirect", *fields, str(config.get("StatusCode", "")))
    if kind == "fixed-response":
        config = sdk.get("FixedResponseConfig") or {}
        return (
            "fixed-response",
            str(config.get("StatusCode", "")),
            str(config.get("ContentType") or ""),
            str(config.get("MessageBody") or ""),
        )
    return (str(kind), repr(sorted(sdk.items())))


def canonical_list(actions: Sequence[Mapping[str, Any]]) -> tuple[tuple[Any, ...], ...]:
    ordered = sorted(actions, key=lambda a: int(a.get("Order", 0) or 0))
    return tuple(canonical(a) for a in ordered)


def target_groups_of(actions: Sequence[Mapping[str, Any]]) -> set[str]:
    """ARNs of the target groups observed actions forward to."""
    out: set[str] = set()
    for action in actions:
        if action.get("TargetGroupArn"):
            out.add(str(action["TargetGroupArn"]))
        for group in (action.get("ForwardConfig") or {}).get("TargetGroups") or []:
            out.add(str(group["TargetGroupArn"]))
    return out
