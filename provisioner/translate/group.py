"""Ingresses sharing one load balancer (a group, or one Ingress alone) -> an application
`LoadBalancer`.

Members are ranked by seniority (creationTimestamp, then namespace/name): the most senior
member that sets an exclusive setting decides it for the group unless the class parameters
do, and a younger member that disagrees is in error. Merge settings (listen ports,
certificates, tags) are unions. A member in error is frozen: it contributes no routes or
backends here and the provider keeps what it already has in the cloud, so one bad Ingress
never takes its neighbours (or its own live rules) down. Frozen members still contribute the
settings they parsed, so that fixing a typo never flips a group-wide setting back and forth.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from provisioner.annotations import INGRESS_PORTABLE, PREFIX, AnnotationSet, SpecError, resolve
from provisioner.model import (
    Action,
    Backend,
    FixedResponse,
    Forward,
    IpFamily,
    Key,
    Kind,
    Listener,
    LoadBalancer,
    Protocol,
    Redirect,
    Route,
    Scheme,
    Tls,
    WeightedBackend,
    frozen_map,
    split_key,
)
from provisioner.translate.ingress import (
    MemberRoutes,
    build_default_backend,
    build_member_routes,
    build_tls_hosts,
    ref_of,
)
from provisioner.translate.ingress_backends import BACKEND_FIELDS, BackendContext
from provisioner.translate.ingress_params import ClassParams
from provisioner.translate.nodes import build_nodes
from provisioner.translate.objects import Obj, meta, spec_of
from provisioner.translate.routing import PathRule, order_routes

DEFAULT_TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
NOT_FOUND = FixedResponse(status_code=404)

_MERGED = frozenset({"tls_certificates", "tags", "listen_ports"})
_MEMBERSHIP = frozenset({"group_name", "group_order"})


@dataclass(frozen=True)
class IngressMember:
    """An Ingress that is ours, with the class it is ours under."""

    ingress: Obj
    class_name: str


@dataclass(frozen=True)
class GroupContext:
    key: Key
    provider: str
    annotations: AnnotationSet
    backends: BackendContext
    params: ClassParams | None = None


@dataclass(frozen=True)
class GroupResult:
    """`desired` is None when no member is valid: then nothing may be written at all."""

    desired: LoadBalancer | None
    members: tuple[str, ...]
    errors: Mapping[str, SpecError] = field(default_factory=dict)


def seniority(ingress: Obj) -> tuple[str, str]:
    """creationTimestamp, then namespace/name (manifest files carry no timestamp)."""
    return (str(meta(ingress).get("creationTimestamp") or ""), ref_of(ingress))


def _describe(name: str) -> str:
    return PREFIX + name.replace("_", "-")


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    if isinstance(value, Mapping):
        return ",".join(f"{k}={v}" for k, v in value.items())
    return str(value)


class _Group:
    """The state of one build: parsed members, errors, and the decided settings."""

    def __init__(self, members: Sequence[IngressMember], context: GroupContext) -> None:
        self.context = context
        self.params = context.params.values if context.params else {}
        self.ordered = sorted(members, key=lambda m: seniority(m.ingress))
        self.errors: dict[str, SpecError] = {}
        self.values: dict[str, dict[str, Any]] = {}
        self.sources: dict[str, dict[str, str]] = {}
        self.settings: dict[str, Any] = {}
        _, _, self.group = split_key(context.key)

    def fail(self, ref: str, error: SpecError) -> None:
        self.errors.setdefault(ref, error)

    def parse(self) -> None:
        group_class = self.ordered[0].class_name
        senior = ref_of(self.ordered[0].ingress)
        for member in self.ordered:
            ref = ref_of(member.ingress)
            if member.class_name != group_class:
                self.fail(
                    ref,
                    SpecError(
                        f"IngressClass {member.class_name}: this Ingress joins group "
                        f"{self.group} under a different class; the group's class is "
                        f"{group_class} (of {senior}); accepted: one class per group",
                        field="spec.ingressClassName",
                        value=member.class_name,
                    ),
                )
                continue
            try:
                resolved = resolve(
                    meta(member.ingress).get("annotations") or {},
                    extra=self.context.annotations,
                    portable=INGRESS_PORTABLE,
                )
            except SpecError as err:
                self.fail(ref, err)
                continue
            self.values[ref] = dict(resolved)
            self.sources[ref] = {name: resolved.key_of(name) for name in resolved}

    def decide_exclusive(self) -> None:
        """Class parameters first, else the most senior member that sets the field."""
        names = {name for values in self.values.values() for name in values}
        names -= BACKEND_FIELDS | _MERGED | _MEMBERSHIP
        for name in sorted(names | (set(self.params) - _MERGED)):
            if name in self.params:
                self.settings[name] = self.params[name]
                continue
            winner: str | None = None
            for ref, values in self.values.items():
                if name not in values:
                    continue
                if winner is None:
                    winner = ref
                    self.settings[name] = values[name]
                elif values[name] != self.settings[name]:
                    self._conflict(ref, name, values[name], winner, self.settings[name])

    def _conflict(self, ref: str, name: str, value: Any, winner: str, winning: Any) -> None:
        key = self.sources[ref][name]
        self.fail(
            ref,
            SpecError(
                f"annotation {key}: {_describe(name)} is {_show(value)!r} here but "
                f"{_show(winning)!r} on Ingress {winner} ({self.sources[winner][name]}), "
                f"which decides it for group {self.group}; an exclusive setting must be equal "
                "on every member: remove it or make it equal",
                field=key,
                value=_show(value),
            ),
        )

    def certificates(self) -> tuple[str, ...]:
        if "tls_certificates" in self.params:
            return tuple(self.params["tls_certificates"])
        found: list[str] = []
        for values in self.values.values():
            found += [c for c in values.get("tls_certificates", ()) if c not in found]
        return tuple(found)

    def tls_hosts(self) -> tuple[str, ...]:
        """The `spec.tls` hosts of every parsed member (frozen ones too, so that fixing one
        never changes a certificate obtained for them), in seniority order."""
        found: list[str] = []
        for member in self.ordered:
            if ref_of(member.ingress) in self.values:
                found += [h for h in build_tls_hosts(member.ingress) if h not in found]
        return tuple(found)

    def tags(self) -> dict[str, str]:
        tags: dict[str, str] = {}
        owner: dict[str, str] = {}
        for ref, values in self.values.items():
            for key, value in (values.get("tags") or {}).items():
                source = self.sources[ref]["tags"]
                if key.startswith(PREFIX):
                    self.fail(
                        ref,
                        SpecError(
                            f"annotation {source}: tag key {key!r} uses the reserved prefix "
                            f"{PREFIX}; accepted: any other key",
                            field=source,
                            value=key,
                        ),
                    )
                elif key in tags and tags[key] != value:
                    self._conflict(ref, "tags", f"{key}={value}", owner[key], f"{key}={tags[key]}")
                else:
                    tags.setdefault(key, value)
                    owner.setdefault(key, ref)
        tags.update(self.params.get("tags") or {})
        return tags

    def listen_ports(
        self, certificates: tuple[str, ...], tls_hosts: tuple[str, ...] = ()
    ) -> dict[str, dict[int, Protocol]]:
        """Each member's listeners; a port given two protocols is an error on the younger.
        An HTTPS port needs certificates, or `spec.tls` hosts for the provider to decide
        whether it can obtain a certificate for them."""
        chosen: dict[int, tuple[Protocol, str]] = {}
        ports: dict[str, dict[int, Protocol]] = {}
        for ref, values in self.values.items():
            own = values.get("tls_certificates") or self.params.get("tls_certificates")
            default = (("HTTPS", 443),) if own else (("HTTP", 80),)
            mine = {port: Protocol(proto) for proto, port in values.get("listen_ports", default)}
            for port, protocol in mine.items():
                if port in chosen and chosen[port][0] is not protocol:
                    self._conflict(
                        ref,
                        "listen_ports",
                        f"{protocol.value}:{port}",
                        chosen[port][1],
                        f"{chosen[port][0].value}:{port}",
                    )
                chosen.setdefault(port, (protocol, ref))
                if protocol is Protocol.HTTPS and not certificates and not tls_hosts:
                    where = self.sources[ref].get("listen_ports", _describe("tls_certificates"))
                    self.fail(
                        ref,
                        SpecError(
                            f"{where}: HTTPS port {port} needs a certificate and none is set; "
                            f"accepted: certificates in {_describe('tls_certificates')} (or the "
                            "class parameters)",
                            field=where,
                            value=str(port),
                        ),
                    )
            ports[ref] = mine
        return ports

    def ssl_redirect(self, ports: Mapping[str, Mapping[int, Protocol]]) -> int | None:
        port = self.settings.get("ssl_redirect")
        if port is None:
            return None
        https = {
            p for mine in ports.values() for p, proto in mine.items() if proto is Protocol.HTTPS
        }
        if port in https:
            return int(port)
        winner = next(ref for ref, values in self.values.items() if "ssl_redirect" in values)
        key = self.sources[winner]["ssl_redirect"]
        self.fail(
            winner,
            SpecError(
                f"annotation {key}: port {port} is not an HTTPS listen port of group "
                f"{self.group}; accepted: {', '.join(map(str, sorted(https))) or 'none (add one)'}",
                field=key,
                value=str(port),
            ),
        )
        return None


def build_ingress_group(members: Sequence[IngressMember], *, context: GroupContext) -> GroupResult:
    """The desired load balancer for a key with at least one member."""
    group = _Group(members, context)
    group.parse()
    group.decide_exclusive()
    certificates = group.certificates()
    tls_hosts = group.tls_hosts()
    tags = group.tags()
    ports = group.listen_ports(certificates, tls_hosts)
    redirect = group.ssl_redirect(ports)
    default, backends = _default_backend(group)
    routes: dict[str, MemberRoutes] = {}
    for member in group.ordered:
        ref = ref_of(member.ingress)
        if ref in group.errors or ref not in group.values:
            continue
        values = group.values[ref]
        try:
            built = build_member_routes(
                member.ingress,
                values=values,
                order=int(values.get("group_order", 0)),
                context=context.backends,
            )
        except SpecError as err:
            group.fail(ref, err)
            continue
        clash = _clash(built.backends, backends)
        if clash is not None:
            group.fail(ref, clash)
            continue
        backends.update(built.backends)
        routes[ref] = built
    refs = tuple(ref_of(m.ingress) for m in group.ordered)
    valid = [ref for ref in refs if ref not in group.errors]
    if not valid:
        return GroupResult(desired=None, members=refs, errors=group.errors)
    used = {ref: routes[ref] for ref in valid if ref in routes}
    listeners = _listeners(
        group,
        used,
        {ref: ports[ref] for ref in valid},
        all_ports=ports,
        default=default,
        certificates=certificates,
        tls_hosts=tls_hosts,
        redirect=redirect,
    )
    desired = _load_balancer(group, listeners, backends, tags)
    return GroupResult(desired=desired, members=refs, errors=group.errors)


def _clash(new: Mapping[str, Backend], known: Mapping[str, Backend]) -> SpecError | None:
    for backend_id, backend in new.items():
        if backend_id in known and known[backend_id] != backend:
            other = known[backend_id]
            fields = [
                name
                for name in ("protocol", "port", "health_check", "attributes", "protocol_version")
                if getattr(other, name) != getattr(backend, name)
            ] or ["targets"]
            shown = backend_id.rsplit("@", 1)[0]
            return SpecError(
                f"backend {shown}: configured differently by another member of the group "
                f"({', '.join(fields)}); one Service port has one set of backend settings per "
                "load balancer: make them equal, or set them on the Service",
                field="backend",
                value=shown,
            )
    return None


def _default_backend(group: _Group) -> tuple[Action, dict[str, Backend]]:
    """The group's default: the most senior member's defaultBackend, else a fixed 404."""
    winner: tuple[str, Any] | None = None
    for member in group.ordered:
        ref = ref_of(member.ingress)
        if ref not in group.values:
            continue
        raw = spec_of(member.ingress).get("defaultBackend")
        if raw is None:
            continue
        if winner is None:
            winner = (ref, raw)
        elif raw != winner[1]:
            group.fail(
                ref,
                SpecError(
                    f"spec.defaultBackend: {_show_backend(raw)} here but "
                    f"{_show_backend(winner[1])} on Ingress {winner[0]}, which decides it for "
                    f"group {group.group}; the default backend is exclusive: remove it or make "
                    "it equal",
                    field="spec.defaultBackend",
                    value=_show_backend(raw),
                ),
            )
    if winner is None:
        return NOT_FOUND, {}
    ref = winner[0]
    member = next(m for m in group.ordered if ref_of(m.ingress) == ref)
    try:
        backend = build_default_backend(
            member.ingress, values=group.values[ref], context=group.context.backends
        )
    except SpecError as err:
        group.fail(ref, err)
        return NOT_FOUND, {}
    assert backend is not None
    return Forward(backends=(WeightedBackend(backend_id=backend.id),)), {backend.id: backend}


def _show_backend(raw: Any) -> str:
    service = raw.get("service") if isinstance(raw, Mapping) else None
    if not isinstance(service, Mapping):
        return repr(raw)
    port = service.get("port") or {}
    return f"{service.get('name')}:{port.get('number', port.get('name'))}"


def _listeners(
    group: _Group,
    routes: Mapping[str, MemberRoutes],
    ports: Mapping[str, Mapping[int, Protocol]],
    *,
    all_ports: Mapping[str, Mapping[int, Protocol]],
    default: Action,
    certificates: tuple[str, ...],
    tls_hosts: tuple[str, ...] = (),
    redirect: int | None,
) -> list[Listener]:
    """Every port any parsed member listens on, so a frozen member keeps its listeners."""
    protocols: dict[int, Protocol] = {}
    for mine in all_ports.values():
        for port, protocol in mine.items():
            protocols.setdefault(port, protocol)
    policy = str(group.settings.get("tls_policy", DEFAULT_TLS_POLICY))
    listeners: list[Listener] = []
    for port, protocol in sorted(protocols.items()):
        tls = (
            Tls(certificates=certificates, policy=policy, hosts=tls_hosts)
            if protocol is Protocol.HTTPS
            else None
        )
        if protocol is Protocol.HTTP and redirect is not None:
            action: Action = Redirect(status_code=301, protocol="HTTPS", port=redirect)
            listeners.append(Listener(port=port, protocol=protocol, default=action))
            continue
        rules: list[PathRule] = []
        hosts: list[str] = []
        for ref, built in routes.items():
            if port in ports.get(ref, {}):
                rules += built.rules
                hosts += built.hosts
        listeners.append(
            Listener(
                port=port,
                protocol=protocol,
                default=default,
                tls=tls,
                routes=order_routes(rules, hosts=hosts, default=default),
            )
        )
    return listeners


def _final_ids(backends: Mapping[str, Backend]) -> dict[str, str]:
    """Drop the target type from an id unless one Service port is used with both types."""
    bases: dict[str, int] = {}
    for backend_id in backends:
        base = backend_id.rsplit("@", 1)[0]
        bases[base] = bases.get(base, 0) + 1
    return {
        backend_id: backend_id
        if bases[backend_id.rsplit("@", 1)[0]] > 1
        else backend_id.rsplit("@", 1)[0]
        for backend_id in backends
    }


def _rename(action: Action, ids: Mapping[str, str]) -> Action:
    if isinstance(action, Forward):
        return Forward(
            backends=tuple(
                WeightedBackend(backend_id=ids[b.backend_id], weight=b.weight)
                for b in action.backends
            )
        )
    return action


def _load_balancer(
    group: _Group,
    listeners: list[Listener],
    backends: Mapping[str, Backend],
    tags: Mapping[str, str],
) -> LoadBalancer:
    used = {
        b.backend_id
        for listener in listeners
        for action in (listener.default, *(r.action for r in listener.routes))
        if isinstance(action, Forward)
        for b in action.backends
    }
    kept = {k: v for k, v in backends.items() if k in used}
    ids = _final_ids(kept)
    renamed = tuple(
        Listener(
            port=listener.port,
            protocol=listener.protocol,
            default=_rename(listener.default, ids),
            tls=listener.tls,
            routes=tuple(
                Route(
                    id=r.id,
                    action=_rename(r.action, ids),
                    host=r.host,
                    path=r.path,
                    path_type=r.path_type,
                    owner=r.owner,
                )
                for r in listener.routes
            ),
        )
        for listener in listeners
    )
    settings = group.settings
    ip_family = IpFamily(settings.get("ip_address_type", "ipv4"))
    source_ranges = settings.get("source_ranges") or (
        ("0.0.0.0/0", "::/0") if ip_family is IpFamily.DUALSTACK else ("0.0.0.0/0",)
    )
    model_fields = {
        "scheme",
        "ip_address_type",
        "subnets",
        "subnet_tags",
        "load_balancer_name",
        "security_groups",
        "source_ranges",
        "tls_policy",
        "ssl_redirect",
        "deletion_protection",
    }
    options = {k: v for k, v in settings.items() if k not in model_fields}
    context = group.context
    subnet_tags = settings.get("subnet_tags")
    return LoadBalancer(
        key=context.key,
        kind=Kind.APPLICATION,
        scheme=Scheme(settings.get("scheme", "internal")),
        ip_family=ip_family,
        listeners=renamed,
        backends=tuple(
            _with_id(kept[old], new) for old, new in sorted(ids.items(), key=lambda i: i[1])
        ),
        source_ranges=tuple(sorted(set(source_ranges))),
        tags=frozen_map(tags),
        name=settings.get("load_balancer_name"),
        subnets=settings.get("subnets"),
        security_groups=settings.get("security_groups"),
        deletion_protection=bool(settings.get("deletion_protection", False)),
        cross_zone=True,
        nodes=build_nodes(context.backends.nodes),
        options={context.provider: frozen_map(options)} if options else {},
        subnet_tags=MappingProxyType(dict(sorted(subnet_tags.items()))) if subnet_tags else None,
        frozen=frozenset(group.errors),
    )


def _with_id(backend: Backend, backend_id: str) -> Backend:
    return replace(backend, id=backend_id)
