"""An Ingress backend (Service and port) -> a `Backend` of an application load balancer.

Settings that describe a backend (target type, protocol, health check, attributes) may sit on
the Ingress or on the Service; the Service's value wins, as users of the AWS Load Balancer
Controller expect, since one Service can be shared by several Ingresses. The id returned
here is provisional (`<ns>/<svc>:<port>@<target type>`): the group decides whether the target
type must stay in the final id.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from provisioner.annotations import INGRESS_PORTABLE, AnnotationSet, SpecError, resolve
from provisioner.model import Backend, HealthCheck, Protocol, Target, TargetType, frozen_map
from provisioner.translate.endpoints import from_pods, from_slices, ip_backend_port, slices_for
from provisioner.translate.nodes import build_nodes
from provisioner.translate.objects import Obj, annotations_of, name_of, namespace_of, spec_of

BACKEND_FIELDS = frozenset(
    {
        "target_type",
        "backend_protocol",
        "backend_protocol_version",
        "healthcheck_protocol",
        "healthcheck_port",
        "healthcheck_path",
        "healthcheck_healthy_threshold",
        "healthcheck_unhealthy_threshold",
        "healthcheck_timeout",
        "healthcheck_interval",
        "healthcheck_success_codes",
        "backend_attributes",
        "target_node_labels",
        "backend_timeout",
        "connection_draining_timeout",
        "session_affinity",
    }
)
"""Fields that may come from the Service; every other Ingress setting is the load balancer's."""

GRPC_HEALTH_PATH = "/AWS.ALB/healthcheck"


@dataclass(frozen=True)
class BackendContext:
    """The cluster objects backends are built from; plain data, no clients."""

    annotations: AnnotationSet
    services: Mapping[tuple[str, str], Obj] = field(default_factory=dict)
    nodes: Sequence[Obj] = ()
    endpoint_slices: Sequence[Obj] = ()
    pods: Sequence[Obj] = ()


def _backend_keys(annotations: AnnotationSet) -> frozenset[str]:
    keys = {s.key for s in INGRESS_PORTABLE if s.field in BACKEND_FIELDS}
    keys |= {a.key for a in annotations.aliases if set(a.fields) <= BACKEND_FIELDS}
    return frozenset(keys)


def service_values(service: Obj, annotations: AnnotationSet) -> dict[str, Any]:
    """The backend settings a Service carries, read with the Ingress vocabulary."""
    wanted = _backend_keys(annotations)
    raw = {k: v for k, v in annotations_of(service).items() if k in wanted}
    try:
        return dict(resolve(raw, extra=annotations, portable=INGRESS_PORTABLE))
    except SpecError as err:
        raise SpecError(
            f"Service {namespace_of(service)}/{name_of(service)}: {err}",
            field=err.field,
            value=err.value,
        ) from None


def _service_port(service: Obj, wanted: Mapping[str, Any], *, where: str) -> Mapping[str, Any]:
    ports = [p for p in spec_of(service).get("ports") or [] if isinstance(p, Mapping)]
    number, port_name = wanted.get("number"), wanted.get("name")
    for port in ports:
        by_number = number is not None and port.get("port") == number
        by_name = port_name is not None and port.get("name") == port_name
        if (by_number or by_name) and (port.get("protocol") or "TCP") == "TCP":
            return port
    accepted = ", ".join(
        f"{p.get('port')}" + (f" ({p['name']})" if p.get("name") else "")
        for p in ports
        if (p.get("protocol") or "TCP") == "TCP"
    )
    given = number if number is not None else port_name
    raise SpecError(
        f"{where}.port: Service {namespace_of(service)}/{name_of(service)} has no TCP port "
        f"{given!r}; accepted: {accepted or 'none (the Service has no TCP port)'}",
        field=f"{where}.port",
        value=str(given),
    )


def _health_check(values: Mapping[str, Any], protocol: Protocol, version: str) -> HealthCheck:
    grpc = version == "GRPC"
    check_protocol = Protocol(str(values.get("healthcheck_protocol", protocol.value)).upper())
    return HealthCheck(
        protocol=check_protocol,
        port=values.get("healthcheck_port"),
        path=values.get("healthcheck_path", GRPC_HEALTH_PATH if grpc else "/"),
        healthy_threshold=values.get("healthcheck_healthy_threshold", 2),
        unhealthy_threshold=values.get("healthcheck_unhealthy_threshold", 2),
        timeout_seconds=values.get("healthcheck_timeout", 5),
        interval_seconds=values.get("healthcheck_interval", 15),
        success_codes=values.get("healthcheck_success_codes", "12" if grpc else "200"),
    )


def build_backend(
    namespace: str,
    backend: Any,
    *,
    where: str,
    values: Mapping[str, Any],
    context: BackendContext,
) -> Backend:
    """The backend an Ingress path (or default backend) at `where` forwards to."""
    if not isinstance(backend, Mapping) or not isinstance(backend.get("service"), Mapping):
        raise SpecError(
            f"{where}: only Service backends are supported (a resource backend cannot be "
            "served by a load balancer); accepted: service.name and service.port",
            field=where,
        )
    ref = backend["service"]
    name = str(ref.get("name") or "")
    wanted = ref.get("port")
    if not isinstance(wanted, Mapping) or ("number" in wanted) == ("name" in wanted):
        raise SpecError(
            f"{where}.service.port: {wanted!r}; accepted: exactly one of number or name",
            field=f"{where}.service.port",
            value=str(wanted),
        )
    service = context.services.get((namespace, name))
    if service is None:
        raise SpecError(
            f"{where}.service.name: Service {namespace}/{name} not found; accepted: a Service "
            f"in namespace {namespace}",
            field=f"{where}.service.name",
            value=name,
        )
    port = _service_port(service, wanted, where=f"{where}.service")
    merged = {**values, **service_values(service, context.annotations)}
    target_type = TargetType(merged.get("target_type", "instance"))
    protocol = Protocol(str(merged.get("backend_protocol", "http")).upper())
    version = str(merged.get("backend_protocol_version", "HTTP1"))
    given = wanted.get("number", wanted.get("name"))
    if target_type is TargetType.INSTANCE:
        node_port = port.get("nodePort")
        if not isinstance(node_port, int):
            raise SpecError(
                f"{where}.service: Service {namespace}/{name} port {given} has no nodePort; "
                "instance targets need a NodePort or LoadBalancer Service; accepted: such a "
                "Service, or target-type ip",
                field=f"{where}.service.name",
                value=name,
            )
        nodes = build_nodes(context.nodes, labels=merged.get("target_node_labels"))
        targets = frozenset(
            Target(address=n.instance_id, port=node_port, zone=n.zone) for n in nodes
        )
        backend_port = node_port
    else:
        slices = slices_for(service, context.endpoint_slices)
        targets = from_slices(port, slices) if slices else from_pods(service, port, context.pods)
        backend_port = ip_backend_port(port, targets)
    return Backend(
        # One backend per Service port whichever way a path names it (number or name).
        id=f"{namespace}/{name}:{port.get('port')}@{target_type.value}",
        protocol=protocol,
        port=backend_port,
        target_type=target_type,
        health_check=_health_check(merged, protocol, version),
        targets=targets,
        timeout_seconds=merged.get("backend_timeout"),
        draining_seconds=merged.get("connection_draining_timeout"),
        affinity=merged.get("session_affinity"),
        attributes=frozen_map(merged.get("backend_attributes")),
        protocol_version=version,
    )
