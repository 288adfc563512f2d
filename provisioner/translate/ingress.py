"""One Ingress's rules -> path rules and backends, checked the way the API server and the
cloud would check them.

Each path is validated here (host shape, path shape, what the provider can match exactly) so
that an Ingress the load balancer cannot serve as written fails on its own, with the field
named, instead of being served approximately.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from provisioner.annotations import AnnotationSet, ParseError, SpecError
from provisioner.model import Backend, Forward, PathType, WeightedBackend
from provisioner.translate.ingress_backends import BackendContext, build_backend
from provisioner.translate.objects import Obj, name_of, namespace_of, spec_of
from provisioner.translate.routing import PathRule, normalize_prefix

PATH_TYPES = {
    "Exact": PathType.EXACT,
    "Prefix": PathType.PREFIX,
    "ImplementationSpecific": PathType.GLOB,
}
_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_HOST = re.compile(rf"^(\*\.)?{_LABEL}(\.{_LABEL})*$")


def ref_of(ingress: Obj) -> str:
    return f"{namespace_of(ingress)}/{name_of(ingress)}"


@dataclass(frozen=True)
class MemberRoutes:
    """What one valid Ingress contributes; backend ids are provisional (see ingress_backends)."""

    rules: tuple[PathRule, ...] = ()
    hosts: tuple[str, ...] = ()
    backends: Mapping[str, Backend] = field(default_factory=dict)


def _host(raw: Any, *, where: str, annotations: AnnotationSet) -> str | None:
    if raw is None or raw == "":
        return None
    host = str(raw)
    if len(host) > 253 or not _HOST.match(host):
        raise SpecError(
            f"{where}: invalid host {host!r}; accepted: a lowercase DNS name, optionally "
            "starting with *. (one label)",
            field=where,
            value=host,
        )
    if annotations.host_check is not None:
        try:
            annotations.host_check(host)
        except ParseError as err:
            raise SpecError(
                f"{where}: the load balancer cannot match host {host!r}; accepted: {err.accepted}",
                field=where,
                value=host,
            ) from None
    return host


def _path(
    item: Mapping[str, Any], *, where: str, annotations: AnnotationSet
) -> tuple[str | None, PathType]:
    raw_type = item.get("pathType")
    if raw_type not in PATH_TYPES:
        raise SpecError(
            f"{where}.pathType: invalid value {raw_type!r}; accepted: " + ", ".join(PATH_TYPES),
            field=f"{where}.pathType",
            value=str(raw_type),
        )
    path_type = PATH_TYPES[raw_type]
    raw = item.get("path")
    if raw in (None, "") and path_type is PathType.GLOB:
        return None, path_type
    if not isinstance(raw, str) or not raw.startswith("/"):
        raise SpecError(
            f"{where}.path: invalid value {raw!r}; accepted: an absolute path starting with /",
            field=f"{where}.path",
            value=str(raw),
        )
    path = normalize_prefix(raw) if path_type is PathType.PREFIX else raw
    if annotations.path_check is not None:
        try:
            annotations.path_check(path, path_type.value)
        except ParseError as err:
            raise SpecError(
                f"{where}.path: the load balancer cannot match {raw_type} path {raw!r}; "
                f"accepted: {err.accepted}",
                field=f"{where}.path",
                value=raw,
            ) from None
    return path, path_type


def build_member_routes(
    ingress: Obj, *, values: Mapping[str, Any], order: int, context: BackendContext
) -> MemberRoutes:
    """Every host and path of `spec.rules`; raises SpecError at the first invalid one."""
    namespace, owner = namespace_of(ingress), ref_of(ingress)
    rules: list[PathRule] = []
    hosts: list[str] = []
    backends: dict[str, Backend] = {}
    for i, rule in enumerate(spec_of(ingress).get("rules") or []):
        where = f"spec.rules[{i}]"
        if not isinstance(rule, Mapping):
            raise SpecError(f"{where}: expected an object", field=where)
        host = _host(rule.get("host"), where=f"{where}.host", annotations=context.annotations)
        if host is not None and host not in hosts:
            hosts.append(host)
        http = rule.get("http") or {}
        for j, item in enumerate(http.get("paths") or []):
            at = f"{where}.http.paths[{j}]"
            path, path_type = _path(item, where=at, annotations=context.annotations)
            backend = build_backend(
                namespace,
                item.get("backend"),
                where=f"{at}.backend",
                values=values,
                context=context,
            )
            backends.setdefault(backend.id, backend)
            if backends[backend.id] != backend:
                raise SpecError(
                    f"{at}.backend: {backend.id} is configured twice in this Ingress with "
                    "different settings",
                    field=f"{at}.backend",
                )
            rules.append(
                PathRule(
                    host=host,
                    path=path,
                    path_type=path_type,
                    action=Forward(backends=(WeightedBackend(backend_id=backend.id),)),
                    owner=owner,
                    order=order,
                    rule=i,
                    index=j,
                )
            )
    return MemberRoutes(rules=tuple(rules), hosts=tuple(hosts), backends=backends)


def build_default_backend(
    ingress: Obj, *, values: Mapping[str, Any], context: BackendContext
) -> Backend | None:
    raw = spec_of(ingress).get("defaultBackend")
    if raw is None:
        return None
    return build_backend(
        namespace_of(ingress), raw, where="spec.defaultBackend", values=values, context=context
    )


def build_tls_hosts(ingress: Obj) -> tuple[str, ...]:
    """The hosts of `spec.tls`, lowercased, each once. They are carried, not checked: only a
    provider that obtains certificates for them gives them a meaning, and checks them."""
    hosts: list[str] = []
    entries = spec_of(ingress).get("tls")
    for entry in entries if isinstance(entries, list) else ():
        listed = entry.get("hosts") if isinstance(entry, Mapping) else None
        for raw in listed if isinstance(listed, list) else ():
            host = str(raw).strip().lower()
            if host and host not in hosts:
                hosts.append(host)
    return tuple(hosts)
