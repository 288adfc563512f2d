"""From a listener's neutral route list to ALB listener rules, without calling AWS.

The model's routes are an ordered first-match list with the Kubernetes meaning; ALB rules are
a first-match list too, but their conditions are globs with AWS's meaning. Three differences
are made up for here:

- ALB's `*` in a host matches several labels, the Kubernetes `*.foo.com` exactly one. Before
  the first rule for `*.S`, a block of rules for `*.*.S` (two labels or more) sends deeper
  names to what the rest of the route list gives them (usually the listener default). The
  block is the remainder of the list restricted to deeper names of `S`, converted the same
  way, so wildcards nested in it get their own blocks.
- A prefix path matches whole path elements: `/a` becomes the patterns `/a` and `/a/*`; an
  exact path is the pattern itself; a glob is passed through. A literal `*` or `?` in an
  exact or prefix path cannot be expressed and is refused, naming the Ingress.
- A rule takes at most a few condition values and wildcards (account limits, 5 and 5 by
  default): a route whose host and path values do not fit one rule is split over several
  consecutive rules with the same host and action.

Each route gets its own rules, never shared with another route: merging the paths of routes
with the same action would save rules, but a path added in front of a merged run would change
the run's identity and turn one CreateRule into a delete and a create. Every rule has a role,
`rule:<route id>`, or `rule:<route id>:<n>` for the n-th further part of a split, which is how
it is matched with what exists in AWS.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from providers.base import InvalidSpec
from provisioner.model import Action, PathType, Route

MAX_PATTERN = 128
MAX_ROLE_ID = 240
"""Tag values hold 256 characters; the role adds `rule:` and a part number."""
_PATH_CHARS = re.compile(r"^[A-Za-z0-9_\-.$/~\"'@:+&*?]+$")
_HOST_CHARS = re.compile(r"^[a-z0-9\-.*?]+$")


@dataclass(frozen=True)
class AlbLimits:
    """Per-account ALB quotas (DescribeAccountLimits); AWS's defaults when it says nothing."""

    rules: int = 100
    condition_values: int = 5
    condition_wildcards: int = 5


@dataclass(frozen=True)
class Host:
    """`exact` a name; `one` exactly one label before `name`; `deep` two labels or more."""

    kind: str
    name: str

    def value(self) -> str:
        if self.kind == "exact":
            return self.name
        return ("*." if self.kind == "one" else "*.*.") + self.name


@dataclass(frozen=True)
class RuleSpec:
    """One desired ALB rule: host-header value (or none), path-pattern values (or none)."""

    role: str
    owner: str | None
    host: str | None
    paths: tuple[str, ...]
    action: Action

    def conditions(self) -> list[dict[str, object]]:
        out: list[dict[str, object]] = []
        if self.host is not None:
            out.append({"Field": "host-header", "HostHeaderConfig": {"Values": [self.host]}})
        if self.paths:
            out.append({"Field": "path-pattern", "PathPatternConfig": {"Values": list(self.paths)}})
        return out


@dataclass(frozen=True)
class _Item:
    id: str
    owner: str | None
    host: Host | None
    paths: tuple[str, ...] | None
    action: Action


def rule_role(route_id: str, part: int = 0) -> str:
    """The rule's `provisioner.io/resource` tag; ids too long for a tag value are hashed."""
    if len(route_id) > MAX_ROLE_ID:
        route_id = "sha256-" + hashlib.sha256(route_id.encode()).hexdigest()[:40]
    return f"rule:{route_id}" if part == 0 else f"rule:{route_id}:{part}"


def parse_host(text: str, *, owner: str | None) -> Host:
    host = text.strip().lower()
    name = host[2:] if host.startswith("*.") else host
    problem = None
    if len(host) > MAX_PATTERN:
        problem = f"is longer than {MAX_PATTERN} characters"
    elif not _HOST_CHARS.match(host) or "*" in name or "?" in name:
        problem = "may contain only letters, digits, hyphens and dots, and `*.` at the start"
    elif "." not in name or name.startswith(".") or name.endswith(".") or ".." in name:
        problem = "needs at least two dot-separated labels"
    if problem is not None:
        raise InvalidSpec(
            f"hosts: Ingress {owner or '(default)'} has host {text!r}, which {problem}; "
            "accepted: a DNS name or *.<DNS name> an ALB host-header condition can match",
            field="hosts",
            value=text,
        )
    return Host("one", name) if host.startswith("*.") else Host("exact", host)


def path_values(route: Route) -> tuple[str, ...] | None:
    """The ALB path patterns equivalent to the route's path (None: any path)."""
    path = route.path
    if path is None:
        return None
    owner = route.owner or "(default)"
    if route.path_type is not PathType.GLOB and ("*" in path or "?" in path):
        raise InvalidSpec(
            f"paths: Ingress {owner} has the {route.path_type.value} path {path!r}; an ALB "
            "path pattern reads * and ? as wildcards, so this path cannot be matched "
            "literally; accepted: paths without * or ? (or pathType ImplementationSpecific "
            "for a glob)",
            field="paths",
            value=path,
        )
    if not path.startswith("/") or not _PATH_CHARS.match(path):
        raise InvalidSpec(
            f"paths: Ingress {owner} has the path {path!r}; accepted: a path starting with / "
            "made of letters, digits and _ - . $ / ~ \" ' @ : + & (and * ? in globs)",
            field="paths",
            value=path,
        )
    if route.path_type is PathType.EXACT or route.path_type is PathType.GLOB:
        values: tuple[str, ...] = (path,)
    else:
        base = path.rstrip("/")
        values = ("/*",) if not base else (base, base + "/*")
    for value in values:
        if len(value) > MAX_PATTERN:
            raise InvalidSpec(
                f"paths: Ingress {owner} has the path {path!r}; ALB path patterns are at most "
                f"{MAX_PATTERN} characters",
                field="paths",
                value=path,
            )
    return values


def _restrict(host: Host | None, suffix: str) -> Host | None:
    """The part of `host` made of names two labels or more below `suffix` (None: nothing)."""
    below = "." + suffix
    if host is None:
        return Host("deep", suffix)
    if host.kind == "exact":
        prefix = host.name[: -len(below)] if host.name.endswith(below) else ""
        return host if "." in prefix else None
    if host.kind == "one":
        return host if host.name.endswith(below) else None
    if host.name == suffix or host.name.endswith(below):
        return host
    if suffix.endswith("." + host.name):
        return Host("deep", suffix)
    return None


def _expand(items: Sequence[_Item], default: Action) -> list[_Item]:
    """Insert, before the first `*.S` item, the block that answers for deeper names of S."""
    out: list[_Item] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        host = item.host
        if host is not None and host.kind == "one" and host.name not in seen:
            seen.add(host.name)
            deep = Host("deep", host.name)
            tag = f"@*.*.{host.name}"
            residual: list[_Item] = []
            for later in items[index:]:
                restricted = _restrict(later.host, host.name)
                if restricted is None:
                    continue
                residual.append(replace(later, id=later.id + tag, host=restricted))
                if restricted == deep and later.paths is None:
                    break
            else:
                residual.append(
                    _Item(id="default" + tag, owner=None, host=deep, paths=None, action=default)
                )
            out += _expand(residual, default)
        out.append(item)
    return out


def _wildcards(value: str) -> int:
    return value.count("*") + value.count("?")


def _split(first: _Item, limits: AlbLimits) -> list[RuleSpec]:
    """One route's rule, or several consecutive ones when its values exceed the limits."""
    host = first.host.value() if first.host is not None else None
    base_values = 1 if host is not None else 0
    base_wild = _wildcards(host) if host is not None else 0
    if first.paths is None:
        if base_wild > limits.condition_wildcards:
            raise InvalidSpec(
                f"hosts: host {host!r} has more wildcards than the account's "
                f"condition-wildcards-per-alb-rule ({limits.condition_wildcards})",
                field="hosts",
                value=host or "",
            )
        return [RuleSpec(rule_role(first.id), first.owner, host, (), first.action)]
    values = list(first.paths)
    parts: list[list[str]] = [[]]
    for value in values:
        if (
            base_values + 1 > limits.condition_values
            or base_wild + _wildcards(value) > limits.condition_wildcards
        ):
            raise InvalidSpec(
                f"paths: Ingress {first.owner or '(default)'} has the path pattern "
                f"{value!r} on host {host or '(any)'}, which does not fit one ALB rule "
                f"(at most {limits.condition_values} condition values and "
                f"{limits.condition_wildcards} wildcards per rule)",
                field="paths",
                value=value,
            )
        part = parts[-1]
        used = base_wild + sum(map(_wildcards, part))
        if (
            base_values + len(part) + 1 > limits.condition_values
            or used + _wildcards(value) > limits.condition_wildcards
        ):
            parts.append([])
            part = parts[-1]
        part.append(value)
    return [
        RuleSpec(rule_role(first.id, n), first.owner, host, tuple(part), first.action)
        for n, part in enumerate(parts)
    ]


def listener_rules(
    routes: Sequence[Route],
    default: Action,
    limits: AlbLimits,
    *,
    frozen: frozenset[str] = frozenset(),
) -> list[RuleSpec]:
    """The ALB rules, in priority order, that route like `routes` then `default`.

    Routes owned by a frozen Ingress are left out: their rules are kept as they are in AWS.
    """
    items = [
        _Item(
            id=route.id,
            owner=route.owner,
            host=parse_host(route.host, owner=route.owner) if route.host is not None else None,
            paths=path_values(route),
            action=route.action,
        )
        for route in routes
        if route.owner is None or route.owner not in frozen
    ]
    ids = [item.id for item in items]
    duplicate = next((i for i in ids if ids.count(i) > 1), None)
    if duplicate is not None:
        raise InvalidSpec(
            f"routes: route id {duplicate!r} appears twice on one listener; ids must be unique",
            field="routes",
            value=duplicate,
        )
    specs: list[RuleSpec] = []
    for item in _expand(items, default):
        specs += _split(item, limits)
    return specs
