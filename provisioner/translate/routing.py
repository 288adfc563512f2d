"""Ingress rules -> one ordered, first-match route list with the Kubernetes answer.

Kubernetes matches the host first and only then the path, while load balancers evaluate an
ordered rule list. The order built here makes first-match evaluation give the Kubernetes
answer: hosts in precedence order (exact, then wildcards with the longer suffix first, then
rules without a host), and after each host's own paths a catch-all for that host, so a
request for a known host never falls through to another host's rules. Within a host: Exact
paths, then Prefix paths longest first, then globs; ties break by group order, then
namespace/name, then rule and path index.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from provisioner.model import Action, PathType, Route

_RANK = {PathType.EXACT: 0, PathType.PREFIX: 1, PathType.GLOB: 2}


@dataclass(frozen=True)
class PathRule:
    """One path of one Ingress rule, before ordering; `owner` is `<ns>/<name>`."""

    host: str | None
    path: str | None
    path_type: PathType
    action: Action
    owner: str
    order: int
    rule: int
    index: int

    @property
    def route_id(self) -> str:
        return f"{self.owner}/r{self.rule}/p{self.index}"


def normalize_prefix(path: str) -> str:
    """A trailing slash in a Prefix path is ignored (`/aaa/` is `/aaa`); `/` stays `/`."""
    stripped = path.rstrip("/")
    return stripped or "/"


def host_precedence(host: str | None) -> tuple[int, int, str]:
    """Exact hosts first, then wildcards (longer suffix first), then no host."""
    if host is None:
        return (2, 0, "")
    if host.startswith("*."):
        return (1, -len(host), host)
    return (0, 0, host)


def _path_precedence(rule: PathRule) -> tuple[int, int, int, str, int, int]:
    length = -len(rule.path) if rule.path_type is PathType.PREFIX and rule.path else 0
    return (_RANK[rule.path_type], length, rule.order, rule.owner, rule.rule, rule.index)


def _covers_everything(rule: PathRule) -> bool:
    return rule.path is None or (rule.path_type is PathType.PREFIX and rule.path == "/")


def order_routes(
    rules: Sequence[PathRule], *, hosts: Iterable[str], default: Action
) -> tuple[Route, ...]:
    """The listener's routes; `hosts` adds hosts that have rules but no paths.

    A host's catch-all is left out when one of its own paths already matches everything,
    because a rule that can never match only costs a slot of the cloud's rule quota.
    """
    by_host: dict[str | None, list[PathRule]] = {host: [] for host in hosts}
    for rule in rules:
        by_host.setdefault(rule.host, []).append(rule)
    routes: list[Route] = []
    for host in sorted(by_host, key=host_precedence):
        ordered = sorted(by_host[host], key=_path_precedence)
        routes.extend(
            Route(
                id=rule.route_id,
                action=rule.action,
                host=host,
                path=rule.path,
                path_type=rule.path_type,
                owner=rule.owner,
            )
            for rule in ordered
        )
        if host is not None and not any(_covers_everything(rule) for rule in ordered):
            routes.append(Route(id=f"host:{host}", action=default, host=host))
    return tuple(routes)
