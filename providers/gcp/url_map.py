"""A listener's ordered routes -> a URL map body, and back again for frozen members.

The translation orders routes so that first-match gives the Kubernetes answer. A URL map
selects a host first (exact hosts, then `*.suffix` wildcards with the longest suffix first,
then `*`), which is already the design's host precedence, so each host gets one path
matcher and its routes become route rules whose priorities follow the route order: route
rules are evaluated by priority, first match wins, exactly like the model. Paths map without
approximation:

- Exact `/a`: `fullPathMatch: /a` (case-sensitive, no trailing-slash leniency);
- Prefix `/a`: `fullPathMatch: /a` or `prefixMatch: /a/` (whole path elements); `/` is
  `prefixMatch: /`;
- a glob: `regexMatch` over the whole path (`*` any characters, `?` one).

A request for a host whose paths do not match goes to the path matcher's default, the
load balancer's default; the translation's per-host catch-alls are those defaults already.
A fixed response (404 when there is no default backend) has no native form in a URL map: it
is a route action that aborts every request with that status (fault injection at 100%),
which needs some backend service to name; the load balancer's first one is used.

Each route rule's `description` is the route id (`<ns>/<name>/r<i>/p<j>`), so the rules of a
frozen Ingress can be found in the URL map and kept exactly as they are.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from provisioner.model import Action, FixedResponse, Forward, PathType, Redirect, Route

ANY_HOST = "*"
REDIRECT_CODES = {
    301: "MOVED_PERMANENTLY_DEFAULT",
    302: "FOUND",
    303: "SEE_OTHER",
    307: "TEMPORARY_REDIRECT",
    308: "PERMANENT_REDIRECT",
}

Services = Mapping[str, str]
"""Backend id -> backend service path."""


class Unexpressible(ValueError):
    """A route or action the URL map cannot express; the caller names the object."""


@dataclass(frozen=True)
class HostRules:
    """One host (or `*`) and its route rules, in priority order."""

    host: str
    rules: tuple[Mapping[str, Any], ...]


def matcher_name(host: str) -> str:
    """Stable per host, so that an unchanged host keeps its matcher across updates."""
    if host == ANY_HOST:
        return "any-host"
    return "host-" + hashlib.sha256(host.encode()).hexdigest()[:12]


def glob_regex(pattern: str) -> str:
    """A glob over the whole path as an RE2 expression (`regexMatch` is anchored)."""
    return "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)


def match_rules(route: Route) -> list[dict[str, str]]:
    path = route.path
    if path is None:
        return [{"prefixMatch": "/"}]
    if route.path_type is PathType.EXACT:
        return [{"fullPathMatch": path}]
    if route.path_type is PathType.GLOB:
        return [{"regexMatch": glob_regex(path)}]
    if path == "/":
        return [{"prefixMatch": "/"}]
    return [{"fullPathMatch": path}, {"prefixMatch": path + "/"}]


def _abort(status: int, services: Services) -> dict[str, Any]:
    if not services:
        raise Unexpressible(
            f"a fixed {status} response needs at least one backend on gcp (a URL map answers "
            "only through a backend service); add a defaultBackend or a path"
        )
    anchor = sorted(services.values())[0]
    return {
        "weightedBackendServices": [{"backendService": anchor, "weight": 100}],
        "faultInjectionPolicy": {"abort": {"httpStatus": status, "percentage": 100.0}},
    }


def _redirect(action: Redirect) -> dict[str, Any]:
    if action.port not in (None, 443) or action.status_code not in REDIRECT_CODES:
        raise Unexpressible(
            f"a redirect to port {action.port} with status {action.status_code}; a URL map "
            "redirects to HTTPS on 443 with 301, 302, 303, 307 or 308"
        )
    body: dict[str, Any] = {
        "redirectResponseCode": REDIRECT_CODES[action.status_code],
        "stripQuery": False,
    }
    if action.protocol == "HTTPS":
        body["httpsRedirect"] = True
    if action.host:
        body["hostRedirect"] = action.host
    if action.path:
        body["pathRedirect"] = action.path
    return body


def _forward(action: Forward, services: Services) -> tuple[str, Any]:
    missing = [b.backend_id for b in action.backends if b.backend_id not in services]
    if missing:
        raise Unexpressible(f"backend {missing[0]} has no backend service")
    if len(action.backends) == 1:
        return "service", services[action.backends[0].backend_id]
    return "routeAction", {
        "weightedBackendServices": [
            {"backendService": services[b.backend_id], "weight": b.weight} for b in action.backends
        ]
    }


def default_fields(action: Action, services: Services) -> dict[str, Any]:
    """The default of a URL map or of a path matcher."""
    if isinstance(action, Forward):
        field, value = _forward(action, services)
        return {"defaultService" if field == "service" else "defaultRouteAction": value}
    if isinstance(action, Redirect):
        return {"defaultUrlRedirect": _redirect(action)}
    return {"defaultRouteAction": _abort(action.status_code, services)}


def _rule(route: Route, services: Services) -> dict[str, Any]:
    rule: dict[str, Any] = {"description": route.id, "matchRules": match_rules(route)}
    action = route.action
    if isinstance(action, Forward):
        field, value = _forward(action, services)
        rule[field] = value
    elif isinstance(action, Redirect):
        rule["urlRedirect"] = _redirect(action)
    else:
        assert isinstance(action, FixedResponse)
        rule["routeAction"] = _abort(action.status_code, services)
    return rule


def host_rules(routes: Sequence[Route], default: Action, services: Services) -> list[HostRules]:
    """Hosts in route order; a host's catch-all equal to the default is the matcher default."""
    hosts: dict[str, list[Mapping[str, Any]]] = {}
    for route in routes:
        host = route.host or ANY_HOST
        rules = hosts.setdefault(host, [])
        if route.owner is None and route.path is None and route.action == default:
            continue  # the per-host catch-all: the path matcher's default does the same
        rules.append(_rule(route, services))
    return [HostRules(host=h, rules=tuple(r)) for h, r in hosts.items()]


def owner_of(rule: Mapping[str, Any]) -> str:
    """`<ns>/<name>` from a route rule's description (a route id), or ""."""
    parts = str(rule.get("description", "")).split("/")
    return "/".join(parts[:2]) if len(parts) == 4 else ""


def observed_hosts(body: Mapping[str, Any]) -> list[HostRules]:
    """The host rules of an observed URL map, route rules in priority order."""
    matchers = {str(m.get("name")): m for m in body.get("pathMatchers") or []}
    out: list[HostRules] = []
    for host_rule in body.get("hostRules") or []:
        matcher = matchers.get(str(host_rule.get("pathMatcher")), {})
        rules = sorted(matcher.get("routeRules") or [], key=lambda r: int(r.get("priority", 0)))
        for host in host_rule.get("hosts") or []:
            out.append(HostRules(host=str(host), rules=tuple(rules)))
    return out


def keep_frozen(
    desired: list[HostRules], observed: Sequence[HostRules], frozen: frozenset[str]
) -> list[HostRules]:
    """Put the observed rules of frozen Ingresses back, each after the rule it followed.

    A frozen Ingress contributes no routes to the desired state, but its live rules must
    stay exactly as they are (priorities aside, which only order them).
    """
    if not frozen:
        return desired
    by_host = {h.host: list(h.rules) for h in desired}
    order = [h.host for h in desired]
    for seen in observed:
        kept = [r for r in seen.rules if owner_of(r) in frozen]
        if not kept:
            continue
        if seen.host not in by_host:
            by_host[seen.host] = []
            order.append(seen.host)
        rules = by_host[seen.host]
        previous: str | None = None
        for rule in seen.rules:
            if owner_of(rule) in frozen:
                clean = {k: v for k, v in rule.items() if k != "priority"}
                ids = [str(r.get("description")) for r in rules]
                at = ids.index(previous) + 1 if previous in ids else 0
                rules.insert(at, clean)
            previous = str(rule.get("description"))
    return [HostRules(host=h, rules=tuple(by_host[h])) for h in order]


def url_map_body(hosts: Sequence[HostRules], default: Action, services: Services) -> dict[str, Any]:
    """The URL map fields we set (name and description are added at creation)."""
    defaults = default_fields(default, services)
    body: dict[str, Any] = {**defaults, "hostRules": [], "pathMatchers": []}
    for entry in hosts:
        name = matcher_name(entry.host)
        body["hostRules"].append({"hosts": [entry.host], "pathMatcher": name})
        matcher: dict[str, Any] = {"name": name, **defaults}
        if entry.rules:
            matcher["routeRules"] = [
                {**rule, "priority": index + 1} for index, rule in enumerate(entry.rules)
            ]
        body["pathMatchers"].append(matcher)
    return body


def services_of(value: Any) -> set[str]:
    """Every backend service link anywhere in a URL map (or part of one)."""
    found: set[str] = set()
    if isinstance(value, Mapping):
        for key, inner in value.items():
            if key in ("defaultService", "service", "backendService") and isinstance(inner, str):
                found.add(inner)
            else:
                found |= services_of(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= services_of(inner)
    return found
