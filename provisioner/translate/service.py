"""Service of type LoadBalancer -> a network `LoadBalancer` in the model.

One listener per Service port number, one backend per listener. Every value that comes from
the user is checked here, so that an invalid Service fails before any cloud call and the
error names the field, the value given and what would have been accepted.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from provisioner.annotations import PREFIX, AnnotationSet, Resolved, SpecError, resolve
from provisioner.model import (
    Backend,
    Forward,
    HealthCheck,
    IpFamily,
    Kind,
    Listener,
    LoadBalancer,
    Protocol,
    Scheme,
    Target,
    TargetType,
    Tls,
    WeightedBackend,
    frozen_map,
    service_key,
)
from provisioner.translate.endpoints import from_pods, from_slices, ip_backend_port, slices_for
from provisioner.translate.nodes import build_nodes
from provisioner.translate.objects import Obj, annotations_of, name_of, namespace_of, spec_of

DEFAULT_TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
LOCAL_HEALTH_PATH = "/healthz"

# Fields of the resolved annotations that become model fields; the rest go to options.
_MODEL_FIELDS = frozenset(
    {
        "scheme",
        "target_type",
        "load_balancer_name",
        "subnets",
        "ip_address_type",
        "tls_certificates",
        "tls_ports",
        "tls_policy",
        "backend_protocol",
        "healthcheck_protocol",
        "healthcheck_port",
        "healthcheck_path",
        "healthcheck_healthy_threshold",
        "healthcheck_unhealthy_threshold",
        "healthcheck_timeout",
        "healthcheck_interval",
        "healthcheck_success_codes",
        "proxy_protocol",
        "backend_attributes",
        "deletion_protection",
        "cross_zone",
        "tags",
        "security_groups",
        "source_ranges",
        "target_node_labels",
    }
)


@dataclass(frozen=True)
class ServiceContext:
    """What translation needs beyond the Service itself; all plain data, no clients."""

    provider: str
    annotations: AnnotationSet
    nodes: Sequence[Obj] = ()
    endpoint_slices: Sequence[Obj] = ()
    pods: Sequence[Obj] = ()
    options: Mapping[str, Any] = field(default_factory=dict)


def build_service(service: Obj, *, context: ServiceContext) -> LoadBalancer:
    """The desired load balancer for a Service that is ours; raises SpecError when invalid."""
    values = resolve(annotations_of(service), extra=context.annotations)
    spec = spec_of(service)
    key = service_key(namespace_of(service), name_of(service))
    target_type = TargetType(values.get("target_type", "instance"))
    ip_family = IpFamily(values.get("ip_address_type", "ipv4"))
    ports = _ports(spec)
    groups = _group_ports(ports, target_type=target_type)
    tls_ports = _tls_ports(values, ports)

    all_nodes = build_nodes(context.nodes)
    target_nodes = build_nodes(context.nodes, labels=values.get("target_node_labels"))
    slices = slices_for(service, context.endpoint_slices)

    listeners: list[Listener] = []
    backends: list[Backend] = []
    for number, group in sorted(groups.items()):
        protocols = {p.get("protocol") or "TCP" for p in group}
        protocol = Protocol.TCP_UDP if len(protocols) == 2 else Protocol(protocols.pop())
        first = group[0]
        tls: Tls | None = None
        listener_protocol = protocol
        backend_protocol = protocol
        if number in tls_ports:
            listener_protocol = Protocol.TLS
            backend_protocol = (
                Protocol.TLS if values.get("backend_protocol") == "tls" else Protocol.TCP
            )
            tls = Tls(
                certificates=tuple(values["tls_certificates"]),
                policy=values.get("tls_policy", DEFAULT_TLS_POLICY),
            )
        backend_id = f"{namespace_of(service)}/{name_of(service)}:{number}"
        if target_type is TargetType.INSTANCE:
            node_port = int(first["nodePort"])
            targets = frozenset(
                Target(address=n.instance_id, port=node_port, zone=n.zone) for n in target_nodes
            )
            backend_port = node_port
        else:
            targets = (
                from_slices(first, slices) if slices else from_pods(service, first, context.pods)
            )
            backend_port = ip_backend_port(first, targets)
        backends.append(
            Backend(
                id=backend_id,
                protocol=backend_protocol,
                port=backend_port,
                target_type=target_type,
                health_check=_health_check(values, spec, target_type=target_type),
                targets=targets,
                proxy_protocol=bool(values.get("proxy_protocol", False)),
                attributes=frozen_map(values.get("backend_attributes")),
            )
        )
        listeners.append(
            Listener(
                port=number,
                protocol=listener_protocol,
                default=Forward(backends=(WeightedBackend(backend_id=backend_id),)),
                tls=tls,
            )
        )

    options = {k: v for k, v in values.items() if k not in _MODEL_FIELDS}
    options.update(context.options)
    return LoadBalancer(
        key=key,
        kind=Kind.NETWORK,
        scheme=Scheme(values.get("scheme", "internal")),
        ip_family=ip_family,
        listeners=tuple(listeners),
        backends=tuple(backends),
        source_ranges=_source_ranges(values, spec, ip_family=ip_family),
        tags=frozen_map(_tags(values)),
        name=values.get("load_balancer_name"),
        subnets=values.get("subnets"),
        security_groups=values.get("security_groups"),
        deletion_protection=bool(values.get("deletion_protection", False)),
        cross_zone=bool(values.get("cross_zone", False)),
        nodes=all_nodes,
        options={context.provider: frozen_map(options)} if options else {},
    )


def _ports(spec: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    ports = spec.get("ports") or []
    if not ports:
        raise SpecError(
            "spec.ports: empty; a LoadBalancer Service needs at least one port", field="spec.ports"
        )
    for index, port in enumerate(ports):
        where = f"spec.ports[{index}]"
        number = port.get("port")
        if not isinstance(number, int) or not 1 <= number <= 65535:
            raise SpecError(
                f"{where}.port: invalid value {number!r}; accepted: 1-65535",
                field=f"{where}.port",
                value=str(number),
            )
        protocol = port.get("protocol") or "TCP"
        if protocol not in ("TCP", "UDP"):
            raise SpecError(
                f"{where}.protocol: {protocol!r} is not supported by a network load balancer; "
                "accepted: TCP, UDP",
                field=f"{where}.protocol",
                value=str(protocol),
            )
    return list(ports)


def _group_ports(
    ports: list[Mapping[str, Any]], *, target_type: TargetType
) -> dict[int, list[Mapping[str, Any]]]:
    """Group by port number; TCP and UDP on one number become one TCP_UDP listener."""
    groups: dict[int, list[Mapping[str, Any]]] = {}
    for index, port in enumerate(ports):
        protocol = port.get("protocol") or "TCP"
        group = groups.setdefault(int(port["port"]), [])
        if any((other.get("protocol") or "TCP") == protocol for other in group):
            raise SpecError(
                f"spec.ports[{index}]: port {port['port']}/{protocol} is listed twice; "
                "each port number may appear once per protocol",
                field=f"spec.ports[{index}].port",
                value=str(port["port"]),
            )
        if target_type is TargetType.INSTANCE and not isinstance(port.get("nodePort"), int):
            raise SpecError(
                f"spec.ports[{index}].nodePort: not set; instance targets need the node port "
                "the API server allocates: set it, or use provisioner.io/target-type: ip",
                field=f"spec.ports[{index}].nodePort",
            )
        group.append(port)
    for number, group in groups.items():
        if len(group) == 2:
            if target_type is TargetType.INSTANCE and group[0]["nodePort"] != group[1]["nodePort"]:
                raise SpecError(
                    f"spec.ports: TCP and UDP on port {number} become one TCP_UDP listener, "
                    f"which needs the same nodePort for both (got {group[0]['nodePort']} and "
                    f"{group[1]['nodePort']})",
                    field="spec.ports.nodePort",
                    value=f"{group[0]['nodePort']},{group[1]['nodePort']}",
                )
            first = group[0].get("targetPort", number)
            second = group[1].get("targetPort", number)
            if target_type is TargetType.IP and first != second:
                raise SpecError(
                    f"spec.ports: TCP and UDP on port {number} become one TCP_UDP listener, "
                    f"which needs the same targetPort for both (got {first} and {second})",
                    field="spec.ports.targetPort",
                    value=f"{first},{second}",
                )
    return groups


def _tls_ports(values: Resolved, ports: list[Mapping[str, Any]]) -> set[int]:
    if not values.get("tls_certificates"):
        return set()
    wanted = values.get("tls_ports", ("*",))
    by_name = {str(p["name"]): int(p["port"]) for p in ports if p.get("name")}
    numbers = {int(p["port"]) for p in ports}
    chosen: set[int] = set()
    for item in wanted:
        if item == "*":
            chosen |= numbers
        elif item in by_name:
            chosen.add(by_name[item])
        elif item.isdigit() and int(item) in numbers:
            chosen.add(int(item))
        else:
            accepted = ", ".join(["*", *sorted(by_name), *(str(n) for n in sorted(numbers))])
            raise SpecError(
                f"annotation {values.key_of('tls_ports')}: {item!r} is not a port of this "
                f"Service; accepted: {accepted}",
                field=values.key_of("tls_ports"),
                value=item,
            )
    for port in ports:
        if int(port["port"]) in chosen and (port.get("protocol") or "TCP") == "UDP":
            raise SpecError(
                f"annotation {values.key_of('tls_ports')}: port {port['port']} is UDP and "
                "cannot terminate TLS; list only TCP ports",
                field=values.key_of("tls_ports"),
                value=str(port["port"]),
            )
    return chosen


def _health_check(
    values: Mapping[str, Any], spec: Mapping[str, Any], *, target_type: TargetType
) -> HealthCheck:
    local = spec.get("externalTrafficPolicy") == "Local" and target_type is TargetType.INSTANCE
    protocol = Protocol.TCP
    port: int | None = None
    path: str | None = None
    if local:
        node_port = spec.get("healthCheckNodePort")
        if not isinstance(node_port, int):
            raise SpecError(
                "spec.healthCheckNodePort: not set; externalTrafficPolicy Local with instance "
                "targets is health-checked on it: set it (the API server allocates it), or use "
                "provisioner.io/target-type: ip",
                field="spec.healthCheckNodePort",
            )
        protocol, port, path = Protocol.HTTP, node_port, LOCAL_HEALTH_PATH
    if "healthcheck_protocol" in values:
        protocol = Protocol(str(values["healthcheck_protocol"]).upper())
    if "healthcheck_port" in values:
        port = values["healthcheck_port"]
    http = protocol in (Protocol.HTTP, Protocol.HTTPS)
    if http:
        path = values.get("healthcheck_path", path or "/")
    return HealthCheck(
        protocol=protocol,
        port=port,
        path=path if http else None,
        healthy_threshold=values.get("healthcheck_healthy_threshold", 3),
        unhealthy_threshold=values.get("healthcheck_unhealthy_threshold", 3),
        timeout_seconds=values.get("healthcheck_timeout", 10),
        interval_seconds=values.get("healthcheck_interval", 10),
        success_codes=values.get("healthcheck_success_codes", "200-399") if http else None,
    )


def _source_ranges(
    values: Resolved, spec: Mapping[str, Any], *, ip_family: IpFamily
) -> tuple[str, ...]:
    from_spec: tuple[str, ...] | None = None
    raw = spec.get("loadBalancerSourceRanges")
    if raw:
        parsed = []
        for index, item in enumerate(raw):
            try:
                parsed.append(str(ipaddress.ip_network(str(item).strip(), strict=False)))
            except ValueError:
                raise SpecError(
                    f"spec.loadBalancerSourceRanges[{index}]: invalid value {item!r}; "
                    "accepted: CIDRs such as 10.0.0.0/8",
                    field=f"spec.loadBalancerSourceRanges[{index}]",
                    value=str(item),
                ) from None
        from_spec = tuple(parsed)
    from_annotation: tuple[str, ...] | None = values.get("source_ranges")
    if from_spec and from_annotation and sorted(from_spec) != sorted(from_annotation):
        raise SpecError(
            f"spec.loadBalancerSourceRanges and annotation {values.key_of('source_ranges')} "
            "disagree: "
            f"{','.join(from_spec)} versus {','.join(from_annotation)}; remove one",
            field="spec.loadBalancerSourceRanges",
            value=",".join(from_spec),
        )
    chosen = from_spec or from_annotation
    if chosen:
        return tuple(sorted(set(chosen)))
    if ip_family is IpFamily.DUALSTACK:
        return ("0.0.0.0/0", "::/0")
    return ("0.0.0.0/0",)


def _tags(values: Resolved) -> dict[str, str]:
    tags: dict[str, str] = dict(values.get("tags") or {})
    for key in tags:
        if key.startswith(PREFIX):
            raise SpecError(
                f"annotation {values.key_of('tags')}: tag key {key!r} uses the reserved prefix "
                f"{PREFIX}; accepted: any other key",
                field=values.key_of("tags"),
                value=key,
            )
    return tags
