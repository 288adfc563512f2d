"""A neutral first-match evaluator of a listener's routes, as the model defines them.

Providers turn routes into cloud rules; this is what those rules must do. A Prefix path
matches whole path elements (`/a` matches `/a`, `/a/`, `/a/b`, not `/ab`); a glob matches the
whole path with `*` (any run of characters) and `?` (one character); `*.suffix` matches
exactly one DNS label.
"""

from __future__ import annotations

import re

from provisioner.model import Action, FixedResponse, Forward, Listener, PathType, Redirect, Route


def _host(route: Route, host: str) -> bool:
    if route.host is None:
        return True
    if route.host.startswith("*."):
        label, dot, rest = host.partition(".")
        return bool(label) and bool(dot) and rest == route.host[2:]
    return route.host == host


def _path(route: Route, path: str) -> bool:
    wanted = route.path
    if wanted is None:
        return True
    if route.path_type is PathType.EXACT:
        return path == wanted
    if route.path_type is PathType.PREFIX:
        return wanted == "/" or path == wanted or path.startswith(wanted + "/")
    pattern = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in wanted)
    return re.fullmatch(pattern, path, flags=re.DOTALL) is not None


def evaluate(listener: Listener, host: str, path: str) -> Action:
    host = host.lower()
    for route in listener.routes:
        if _host(route, host) and _path(route, path):
            return route.action
    return listener.default


def answer(listener: Listener, host: str, path: str) -> str:
    """The oracle's vocabulary: a backend id, "404", or "redirect"."""
    action = evaluate(listener, host, path)
    if isinstance(action, Forward):
        return action.backends[0].backend_id
    if isinstance(action, FixedResponse):
        return str(action.status_code)
    assert isinstance(action, Redirect)
    return "redirect"
