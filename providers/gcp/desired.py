"""The GCP shape of one desired Service: a passthrough load balancer, without I/O.

A Service becomes: one reserved regional address (so the IP survives a change of ports,
which replaces forwarding rules), one regional health check, one regional backend service
per IP protocol (TCP, UDP) over the per-zone instance groups of the nodes, forwarding rules
of at most five ports each on that address, and two firewall rules: the Service's source
ranges to the Service ports, and Google's probe ranges to the health-check port. Both
firewall rules are limited to the load balancer's address as destination: a passthrough load
balancer keeps the destination IP and port, so packets reach the nodes addressed to it.

What a passthrough load balancer cannot express (TLS, pod IP targets, security groups, ...)
is refused here, before any call, naming the annotation that asked for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from providers.base import InvalidSpec
from providers.gcp import marks as m
from providers.gcp import naming
from providers.gcp.annotations import ALLOW_GLOBAL_ACCESS, ILB_SUBNET
from providers.gcp.network import (
    PROBE_RANGES,
    Network,
    NodeVm,
    node_vm,
    regional_path,
    subnetwork_path,
    zonal_path,
)
from provisioner.model import (
    Backend,
    Forward,
    HealthCheck,
    IpFamily,
    Kind,
    LoadBalancer,
    Protocol,
    Scheme,
    TargetType,
)

MAX_PORTS_PER_RULE = 5
KUBE_PROXY_HEALTH_PORT = 10256
KUBE_PROXY_HEALTH_PATH = "/healthz"
HTTP_SUCCESS_CODES = (None, "200", "200-399")
"""GCP's HTTP health checks count only 200 as healthy; codes that include it are accepted."""

EXTERNAL = "EXTERNAL"
INTERNAL = "INTERNAL"


@dataclass(frozen=True)
class Location:
    """The project and region the provider serves, and the network found for the nodes."""

    project: str
    region: str
    network: Network


@dataclass(frozen=True)
class GroupSpec:
    """The shared instance group of one zone and the node VMs it must hold."""

    zone: str
    name: str
    instances: frozenset[str]

    @property
    def key(self) -> str:
        return m.group_key(self.zone)


@dataclass(frozen=True)
class BackendServiceSpec:
    protocol: str
    name: str
    path: str
    body: Mapping[str, Any]
    """Fields we set; `description` (the marks) is added at creation."""


@dataclass(frozen=True)
class FirewallSpec:
    role: str
    name: str
    body: Mapping[str, Any]
    """Without `destinationRanges`, which is the address once it is known."""


@dataclass(frozen=True)
class GcpService:
    key: str
    scheme: str
    address_name: str
    address_body: Mapping[str, Any]
    health_check_name: str
    health_check_body: Mapping[str, Any]
    backend_services: tuple[BackendServiceSpec, ...]
    ports: Mapping[str, tuple[int, ...]]
    """IP protocol -> Service ports; one forwarding rule per five ports."""
    firewalls: tuple[FirewallSpec, ...]
    groups: tuple[GroupSpec, ...]
    labels: Mapping[str, str]
    network: str
    subnetwork: str | None
    allow_global_access: bool


def _refuse(desired: LoadBalancer, annotation: str, value: str, why: str) -> InvalidSpec:
    return InvalidSpec(
        f"{desired.key}: annotation {annotation}: {value} is not supported for Services on "
        f"gcp; {why}",
        field=annotation,
        value=value,
    )


def check_spec(desired: LoadBalancer) -> None:
    """Refuse what a GCP passthrough load balancer cannot express."""
    if desired.kind is not Kind.NETWORK:
        raise InvalidSpec(
            f"{desired.key}: kind {desired.kind.value} is not supported by the gcp provider "
            "yet; accepted: network",
            field="kind",
            value=desired.kind.value,
        )
    if any(b.target_type is TargetType.IP for b in desired.backends):
        raise _refuse(
            desired,
            "provisioner.io/target-type",
            "ip",
            "passthrough load balancers send traffic to the nodes through instance groups; "
            "accepted: instance",
        )
    for listener in desired.listeners:
        if listener.protocol not in (Protocol.TCP, Protocol.UDP, Protocol.TCP_UDP):
            raise _refuse(
                desired,
                "provisioner.io/tls-certificates",
                f"port {listener.port} as {listener.protocol.value}",
                "a passthrough load balancer does not terminate TLS: the pods do; "
                "accepted: TCP and UDP ports",
            )
        if not isinstance(listener.default, Forward) or len(listener.default.backends) != 1:
            raise InvalidSpec(
                f"{desired.key}: port {listener.port} must forward to exactly one backend",
                field="listeners",
                value=str(listener.port),
            )
    if desired.security_groups is not None:
        raise _refuse(
            desired,
            "provisioner.io/security-groups",
            ",".join(desired.security_groups),
            "GCP has firewall rules, which the provider manages from the source ranges",
        )
    if desired.name is not None:
        raise _refuse(
            desired,
            "provisioner.io/load-balancer-name",
            desired.name,
            "names are derived from the Service; remove it",
        )
    if desired.ip_family is IpFamily.DUALSTACK:
        raise _refuse(
            desired, "provisioner.io/ip-address-type", "dualstack", "accepted: ipv4 (for now)"
        )
    if desired.deletion_protection:
        raise _refuse(
            desired,
            "provisioner.io/deletion-protection",
            "true",
            "forwarding rules have no deletion protection",
        )
    for backend in desired.backends:
        if backend.proxy_protocol:
            raise _refuse(
                desired,
                "provisioner.io/proxy-protocol",
                "true",
                "a passthrough load balancer forwards packets unchanged",
            )
        if backend.attributes:
            raise _refuse(
                desired,
                "provisioner.io/backend-attributes",
                ",".join(sorted(backend.attributes)),
                "these are AWS target group attributes",
            )
    options = desired.options.get("gcp", {})
    if "manage_backend_security_group_rules" in options:
        raise _refuse(
            desired,
            "provisioner.io/manage-backend-security-group-rules",
            str(options["manage_backend_security_group_rules"]).lower(),
            "firewall rules are always managed",
        )
    checks = {b.health_check for b in desired.backends}
    if len(checks) > 1:
        raise InvalidSpec(
            f"{desired.key}: backends ask for different health checks; a GCP backend service "
            "has one",
            field="healthcheck",
        )
    for check in checks:
        if check.success_codes not in HTTP_SUCCESS_CODES:
            raise _refuse(
                desired,
                "provisioner.io/healthcheck-success-codes",
                str(check.success_codes),
                "GCP HTTP health checks count only 200 as healthy; accepted: 200, 200-399",
            )
        if check.timeout_seconds > check.interval_seconds:
            raise InvalidSpec(
                f"{desired.key}: annotation provisioner.io/healthcheck-timeout: "
                f"{check.timeout_seconds}s is longer than the interval "
                f"({check.interval_seconds}s); GCP requires timeout <= interval",
                field="provisioner.io/healthcheck-timeout",
                value=str(check.timeout_seconds),
            )


def node_vms(desired: LoadBalancer, *, project: str, region: str) -> tuple[NodeVm, ...]:
    """The VMs behind the load balancer; every backend must target all eligible nodes.

    An instance group is shared by every Service of the cluster (a VM can be in only one
    load-balanced group), so a Service cannot pick a subset of nodes on GCP.
    """
    vms = tuple(node_vm(n, project=project, region=region) for n in desired.nodes)
    names = {n.instance_id for n in desired.nodes}
    for backend in desired.backends:
        if {t.address for t in backend.targets} != names:
            raise _refuse(
                desired,
                "provisioner.io/target-node-labels",
                "a subset of nodes",
                "every Service shares the cluster's per-zone instance groups, so every "
                "eligible node receives traffic; remove it",
            )
    return vms


def groups(
    vms: tuple[NodeVm, ...], *, project: str, cluster: str, lb_class: str
) -> tuple[GroupSpec, ...]:
    name = naming.instance_group_name(cluster, lb_class=lb_class)
    by_zone: dict[str, set[str]] = {}
    for vm in vms:
        by_zone.setdefault(vm.zone, set()).add(vm.path)
    return tuple(
        GroupSpec(zone=zone, name=name, instances=frozenset(paths))
        for zone, paths in sorted(by_zone.items())
    )


def group_path(project: str, group: GroupSpec) -> str:
    return zonal_path(project, group.zone, "instanceGroups", group.name)


def health_check_body(check: HealthCheck, backends: tuple[Backend, ...]) -> dict[str, Any]:
    """kube-proxy's `10256 /healthz` unless the Service asks for another port or protocol.

    A TCP check on the traffic port (the model's default) becomes kube-proxy's endpoint, as on
    GKE: it reports whether the node can forward, for every Service at once. With
    externalTrafficPolicy Local the translation already asks for HTTP on healthCheckNodePort.
    """
    protocol, port, path = check.protocol, check.port, check.path
    if protocol is Protocol.TCP and port is None:
        protocol, port, path = Protocol.HTTP, KUBE_PROXY_HEALTH_PORT, KUBE_PROXY_HEALTH_PATH
    if port is None:
        port = backends[0].port if backends else KUBE_PROXY_HEALTH_PORT
    body: dict[str, Any] = {
        "type": protocol.value,
        "checkIntervalSec": check.interval_seconds,
        "timeoutSec": check.timeout_seconds,
        "healthyThreshold": check.healthy_threshold,
        "unhealthyThreshold": check.unhealthy_threshold,
    }
    if protocol is Protocol.TCP:
        body["tcpHealthCheck"] = {"port": port}
    elif protocol is Protocol.HTTPS:
        body["httpsHealthCheck"] = {"port": port, "requestPath": path or "/"}
    else:
        body["httpHealthCheck"] = {"port": port, "requestPath": path or "/"}
    return body


def health_port(body: Mapping[str, Any]) -> int:
    for field in ("httpHealthCheck", "httpsHealthCheck", "tcpHealthCheck"):
        if field in body:
            return int(body[field]["port"])
    return KUBE_PROXY_HEALTH_PORT


def ports_by_protocol(desired: LoadBalancer) -> dict[str, tuple[int, ...]]:
    found: dict[str, set[int]] = {}
    for listener in desired.listeners:
        protocols = (
            ("TCP", "UDP") if listener.protocol is Protocol.TCP_UDP else (listener.protocol.value,)
        )
        for protocol in protocols:
            found.setdefault(protocol, set()).add(listener.port)
    return {p: tuple(sorted(ports)) for p, ports in sorted(found.items())}


def _subnetwork(desired: LoadBalancer, location: Location) -> str | None:
    if desired.subnets is None:
        if desired.scheme is Scheme.INTERNAL and location.network.subnetwork is None:
            raise InvalidSpec(
                f"{desired.key}: the nodes' subnetwork is not in network "
                f"{location.network.network}; name one with annotation {ILB_SUBNET}",
                field=ILB_SUBNET,
            )
        return location.network.subnetwork if desired.scheme is Scheme.INTERNAL else None
    if desired.scheme is not Scheme.INTERNAL:
        raise _refuse(
            desired,
            f"provisioner.io/subnets (or {ILB_SUBNET})",
            ",".join(desired.subnets),
            "only internal load balancers take a subnetwork",
        )
    if len(desired.subnets) != 1:
        raise InvalidSpec(
            f"{desired.key}: annotation provisioner.io/subnets: {','.join(desired.subnets)}; "
            "a GCP internal load balancer takes one subnetwork",
            field="provisioner.io/subnets",
            value=",".join(desired.subnets),
        )
    return subnetwork_path(location.project, location.region, desired.subnets[0])


def _global_access(desired: LoadBalancer) -> bool:
    raw = desired.options.get("gcp", {}).get(ALLOW_GLOBAL_ACCESS, False)
    if raw and desired.scheme is not Scheme.INTERNAL:
        raise _refuse(
            desired,
            "provisioner.io/gcp-allow-global-access",
            "true",
            "global access applies to internal load balancers only",
        )
    return bool(raw)


def build(
    desired: LoadBalancer, location: Location, *, vms: tuple[NodeVm, ...], marks: m.Marks
) -> GcpService:
    """Everything the plan needs to know about the desired side, computed once."""
    key, project, region = desired.key, location.project, location.region
    scheme = EXTERNAL if desired.scheme is Scheme.INTERNET_FACING else INTERNAL
    network = location.network.network
    subnetwork = _subnetwork(desired, location)
    global_access = _global_access(desired)
    labels = m.check_user_labels(desired.tags)
    group_specs = groups(vms, project=project, cluster=marks.cluster, lb_class=marks.lb_class)
    address_body: dict[str, Any] = {"addressType": scheme}
    if scheme == INTERNAL:
        address_body["subnetwork"] = subnetwork
        address_body["purpose"] = "SHARED_LOADBALANCER_VIP"
    else:
        address_body["networkTier"] = "PREMIUM"
    check = desired.backends[0].health_check if desired.backends else HealthCheck()
    hc_body = health_check_body(check, desired.backends)
    hc_name = naming.health_check_name(key, cluster=marks.cluster)
    hc_path = regional_path(project, region, "healthChecks", hc_name)
    ports = ports_by_protocol(desired)
    services = []
    for protocol in ports:
        name = naming.backend_service_name(
            key, cluster=marks.cluster, protocol=protocol, scheme=scheme, network=network
        )
        body: dict[str, Any] = {
            "loadBalancingScheme": scheme,
            "protocol": protocol,
            "healthChecks": [hc_path],
            "backends": [
                {"group": group_path(project, g), "balancingMode": "CONNECTION"}
                for g in group_specs
            ],
            "sessionAffinity": "NONE",
        }
        if scheme == INTERNAL:
            body["network"] = network
        services.append(
            BackendServiceSpec(
                protocol=protocol,
                name=name,
                path=regional_path(project, region, "backendServices", name),
                body=body,
            )
        )
    allowed = [{"IPProtocol": p.lower(), "ports": [str(n) for n in ns]} for p, ns in ports.items()]
    firewalls = (
        FirewallSpec(
            role=m.FIREWALL_TRAFFIC,
            name=naming.firewall_name(
                key, cluster=marks.cluster, role=m.FIREWALL_TRAFFIC, network=network
            ),
            body={
                "network": network,
                "direction": "INGRESS",
                "priority": 1000,
                "sourceRanges": sorted(desired.source_ranges),
                "allowed": allowed,
            },
        ),
        FirewallSpec(
            role=m.FIREWALL_HEALTH,
            name=naming.firewall_name(
                key, cluster=marks.cluster, role=m.FIREWALL_HEALTH, network=network
            ),
            body={
                "network": network,
                "direction": "INGRESS",
                "priority": 1000,
                "sourceRanges": sorted(PROBE_RANGES),
                "allowed": [{"IPProtocol": "tcp", "ports": [str(health_port(hc_body))]}],
            },
        ),
    )
    return GcpService(
        key=key,
        scheme=scheme,
        address_name=naming.address_name(
            key, cluster=marks.cluster, scheme=scheme, subnetwork=subnetwork
        ),
        address_body=address_body,
        health_check_name=hc_name,
        health_check_body=hc_body,
        backend_services=tuple(services),
        ports=ports,
        firewalls=firewalls,
        groups=group_specs,
        labels=labels,
        network=network,
        subnetwork=subnetwork,
        allow_global_access=global_access,
    )


def port_chunks(ports: tuple[int, ...]) -> list[tuple[int, ...]]:
    return [ports[i : i + MAX_PORTS_PER_RULE] for i in range(0, len(ports), MAX_PORTS_PER_RULE)]
