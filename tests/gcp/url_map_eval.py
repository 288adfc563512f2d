"""A URL map evaluator with GCP's semantics, independent of the code that builds URL maps.

Host rules: an exact host wins; else the wildcard (`*` first, matching any non-empty run of
`[a-z0-9-.]`, so `*.foo.com` also matches `a.b.foo.com`) with the longest pattern; else `*`;
else the map's default. In the path matcher: route rules by priority, first match wins (a
rule matches when any of its match rules does: `fullPathMatch` equal, `prefixMatch` a string
prefix, `regexMatch` the whole path); path rules (when used) by longest match, `/x/*`
matching every path under `/x/` and a path without `*` only itself; else the matcher's
default. Hosts compare case-insensitively, paths case-sensitively.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

UrlMap = Mapping[str, Any]


def host_matches(pattern: str, host: str) -> bool:
    if pattern == "*":
        return True
    if pattern.startswith("*"):
        suffix = pattern[1:]
        return host.endswith(suffix) and len(host) > len(suffix)
    return pattern == host


def _matcher(url_map: UrlMap, host: str) -> Mapping[str, Any] | None:
    host = host.lower()
    candidates = [
        (pattern, rule["pathMatcher"])
        for rule in url_map.get("hostRules") or []
        for pattern in rule.get("hosts") or []
        if host_matches(pattern, host)
    ]
    if not candidates:
        return None
    exact = [c for c in candidates if "*" not in c[0]]
    chosen = exact[0] if exact else max(candidates, key=lambda c: len(c[0]))
    return next(m for m in url_map.get("pathMatchers") or [] if m["name"] == chosen[1])


def _match_rule(rule: Mapping[str, Any], path: str) -> bool:
    if "fullPathMatch" in rule:
        return path == rule["fullPathMatch"]
    if "prefixMatch" in rule:
        return path.startswith(rule["prefixMatch"])
    if "regexMatch" in rule:
        return re.fullmatch(rule["regexMatch"], path) is not None
    raise AssertionError(f"match rule not understood: {rule}")


def _path_rule(pattern: str, path: str) -> int:
    """The length matched, or -1."""
    if pattern.endswith("/*"):
        return len(pattern) - 1 if path.startswith(pattern[:-1]) else -1
    return len(pattern) if path == pattern else -1


def _default(scope: Mapping[str, Any]) -> Any:
    for name in ("defaultService", "defaultRouteAction", "defaultUrlRedirect"):
        if scope.get(name):
            return {name: scope[name]}
    raise AssertionError("no default")


def evaluate(url_map: UrlMap, host: str, path: str) -> Any:
    """The action that answers: a dict with one of service / routeAction / urlRedirect
    (or their default* forms)."""
    matcher = _matcher(url_map, host)
    if matcher is None:
        return _default(url_map)
    for rule in sorted(matcher.get("routeRules") or [], key=lambda r: int(r["priority"])):
        if any(_match_rule(m, path) for m in rule.get("matchRules") or []):
            return {k: rule[k] for k in ("service", "routeAction", "urlRedirect") if k in rule}
    best: tuple[int, Any] | None = None
    for rule in matcher.get("pathRules") or []:
        for pattern in rule.get("paths") or []:
            length = _path_rule(pattern, path)
            if length >= 0 and (best is None or length > best[0]):
                best = (length, {k: rule[k] for k in ("service", "routeAction") if k in rule})
    if best is not None:
        return best[1]
    return _default(matcher)


def answer(url_map: UrlMap, host: str, path: str, services: Mapping[str, str]) -> str:
    """In the oracle's vocabulary: the backend id of `services` (name -> id), a status
    ("404" for an abort), or "redirect"."""
    action = evaluate(url_map, host, path)
    ((kind, value),) = action.items()
    if kind in ("service", "defaultService"):
        return services[str(value).rsplit("/", 1)[-1]]
    if kind in ("urlRedirect", "defaultUrlRedirect"):
        return "redirect"
    abort = (value.get("faultInjectionPolicy") or {}).get("abort")
    if abort and float(abort.get("percentage", 0)) >= 100:
        return str(abort["httpStatus"])
    weighted = value["weightedBackendServices"]
    return services[str(weighted[0]["backendService"]).rsplit("/", 1)[-1]]
