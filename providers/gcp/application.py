"""The GCP shape of one desired Ingress key: a global external Application Load Balancer.

An application `LoadBalancer` becomes, without I/O:
- per backend, a global HTTP(S) health check on the node port (or the asked port) and a
  global backend service (`EXTERNAL_MANAGED`) over the cluster's shared per-zone instance
  groups, reaching the node port through a named port (`port-<nodePort>`) on those groups;
- one URL map per distinct routing of the listeners (HTTP and HTTPS with the same routes
  share one; an HTTP listener that redirects to HTTPS has its own);
- per listener a target HTTP or HTTPS proxy (the HTTPS one with the listed SSL
  certificates, or a Google-managed one for the `spec.tls` hosts, and an SSL policy of its
  own: see `tls`) and a global forwarding rule on its port, all rules on one reserved global
  address (ours, or the user's `global-static-ip-name`);
- one firewall rule letting Google's front ends and health checkers (130.211.0.0/22,
  35.191.0.0/16) reach the node ports, on the nodes only: it targets the network tags all
  node instances share, else their one service account (`network.NodeTarget`); with
  neither it applies to every VM of the network, and the plan says why.

What this load balancer cannot express is refused here, before any call, naming the
annotation or the Ingress that asked for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from providers.base import InvalidSpec
from providers.gcp import marks as m
from providers.gcp import naming
from providers.gcp.desired import HTTP_SUCCESS_CODES, GroupSpec, groups, health_check_body
from providers.gcp.ingress_annotations import ALLOW_HTTP_FIELD, STATIC_IP_FIELD
from providers.gcp.network import NodeTarget, NodeVm, global_path, node_vm
from providers.gcp.tls import (
    ManagedCertificateSpec,
    SslPolicySpec,
    managed_domains,
    ssl_policy,
)
from provisioner.model import (
    Action,
    Forward,
    IpFamily,
    Listener,
    LoadBalancer,
    Protocol,
    Route,
    Scheme,
    TargetType,
)

SCHEME = "EXTERNAL_MANAGED"
FRONTEND_RANGES = ("130.211.0.0/22", "35.191.0.0/16")
"""Where Google's front ends and health checkers reach the backends from."""
HTTP_PORTS = (80, 8080)
HTTPS_PORTS = (443,)
AFFINITY = {"none": "NONE", "client-ip": "CLIENT_IP", "cookie": "GENERATED_COOKIE"}
PROTOCOLS = {("HTTP", "HTTP1"): "HTTP", ("HTTPS", "HTTP1"): "HTTPS", ("HTTPS", "HTTP2"): "HTTP2"}
"""(backend protocol, version) -> backend service protocol (HTTP/2 to backends needs TLS)."""

ADDRESS = "address"
FIREWALL = "firewall:application"
SSL_POLICY = "ssl-policy"
MANAGED_CERTIFICATE = "ssl-certificate"


def url_map_role(ports: tuple[int, ...]) -> str:
    return "url-map:" + ",".join(str(p) for p in ports)


def proxy_role(port: int) -> str:
    return f"target-proxy:{port}"


def rule_role(port: int) -> str:
    return f"forwarding-rule:{port}"


def health_check_role(backend_id: str) -> str:
    return f"health-check:{backend_id}"


def backend_service_role(backend_id: str) -> str:
    return f"backend-service:{backend_id}"


def named_port(port: int) -> str:
    return f"port-{port}"


@dataclass(frozen=True)
class BackendSpec:
    id: str
    health_check_name: str
    health_check_body: Mapping[str, Any]
    name: str
    body: Mapping[str, Any]
    """Without `healthChecks` and `backends`, which the planner fills with links."""
    node_port: int


@dataclass(frozen=True)
class UrlMapSpec:
    role: str
    name: str
    ports: tuple[int, ...]
    routes: tuple[Route, ...]
    default: Action


@dataclass(frozen=True)
class ProxySpec:
    port: int
    role: str
    name: str
    collection: str
    """`targetHttpProxies` or `targetHttpsProxies`."""
    url_map_role: str
    certificates: tuple[str, ...]
    rule_role: str
    managed_certificate: bool = False
    """An HTTPS proxy without named certificates carries the key's managed certificate."""


@dataclass(frozen=True)
class GcpApplication:
    key: str
    backends: tuple[BackendSpec, ...]
    url_maps: tuple[UrlMapSpec, ...]
    proxies: tuple[ProxySpec, ...]
    firewall_name: str
    firewall_body: Mapping[str, Any]
    firewall_untargeted: str
    """Why the firewall rule applies to every VM of the network; empty when it is scoped."""
    address_name: str
    static_ip: str | None
    labels: Mapping[str, str]
    groups: tuple[GroupSpec, ...]
    network: str
    frozen: frozenset[str]
    ssl_policy: SslPolicySpec | None = None
    """The HTTPS proxies' policy; None without an HTTPS listener."""
    managed_certificate: ManagedCertificateSpec | None = None


def _refuse(desired: LoadBalancer, annotation: str, value: str, why: str) -> InvalidSpec:
    return InvalidSpec(
        f"{desired.key}: annotation {annotation}: {value} is not supported for Ingresses on "
        f"gcp; {why}",
        field=annotation,
        value=value,
    )


def _users(desired: LoadBalancer, backend_id: str) -> list[str]:
    """The Ingresses whose routes forward to a backend (for error messages)."""
    owners = {
        route.owner
        for listener in desired.listeners
        for route in listener.routes
        if route.owner
        and isinstance(route.action, Forward)
        and any(b.backend_id == backend_id for b in route.action.backends)
    }
    return sorted(owners)


def check_application(desired: LoadBalancer) -> None:
    """Refuse what a GCP global external Application Load Balancer cannot express (yet)."""
    if desired.scheme is Scheme.INTERNAL:
        raise InvalidSpec(
            f"{desired.key}: scheme internal: internal Application Load Balancers are not "
            "served on gcp yet (an Ingress without a scheme is internal by default); ask for "
            "an external one with annotation provisioner.io/scheme: internet-facing",
            field="provisioner.io/scheme",
            value="internal",
        )
    for backend in desired.backends:
        if backend.target_type is TargetType.IP:
            users = _users(desired, backend.id) or [desired.key]
            raise InvalidSpec(
                f"Ingress {', '.join(users)}: backend {backend.id}: target type ip needs network "
                "endpoint groups (NEGs), which the gcp provider does not support yet; accepted: "
                "provisioner.io/target-type: instance",
                field="provisioner.io/target-type",
                value="ip",
            )
    simple = [
        (desired.ip_family is IpFamily.DUALSTACK, "provisioner.io/ip-address-type", "dualstack"),
        (desired.security_groups is not None, "provisioner.io/security-groups", "set"),
        (desired.subnets is not None, "provisioner.io/subnets", "set"),
        (desired.name is not None, "provisioner.io/load-balancer-name", str(desired.name)),
        (desired.deletion_protection, "provisioner.io/deletion-protection", "true"),
        (
            set(desired.source_ranges) - {"0.0.0.0/0"} != set(),
            "provisioner.io/source-ranges",
            ",".join(desired.source_ranges),
        ),
    ]
    for wrong, annotation, value in simple:
        if wrong:
            raise _refuse(
                desired, annotation, value, "a global external load balancer takes none; remove it"
            )
    options = desired.options.get("gcp", {})
    if "manage_backend_security_group_rules" in options:
        raise _refuse(
            desired,
            "provisioner.io/manage-backend-security-group-rules",
            str(options["manage_backend_security_group_rules"]).lower(),
            "firewall rules are always managed",
        )
    _check_listeners(desired)
    _check_backends(desired)


def _check_listeners(desired: LoadBalancer) -> None:
    for listener in desired.listeners:
        allowed = HTTPS_PORTS if listener.protocol is Protocol.HTTPS else HTTP_PORTS
        if listener.port not in allowed:
            raise _refuse(
                desired,
                "provisioner.io/listen-ports",
                f"{listener.protocol.value}:{listener.port}",
                "accepted: HTTP on 80 or 8080, HTTPS on 443",
            )
    ssl_policy(desired, list(desired.listeners))


def _check_backends(desired: LoadBalancer) -> None:
    names = {n.instance_id for n in desired.nodes}
    for backend in desired.backends:
        if backend.attributes:
            raise _refuse(
                desired,
                "provisioner.io/backend-attributes",
                ",".join(sorted(backend.attributes)),
                "these are AWS target group attributes; use backend-timeout, "
                "connection-draining-timeout and session-affinity",
            )
        if {t.address for t in backend.targets} != names:
            raise _refuse(
                desired,
                "provisioner.io/target-node-labels",
                "a subset of nodes",
                "every load balancer shares the cluster's per-zone instance groups; remove it",
            )
        version = backend.protocol_version or "HTTP1"
        if (backend.protocol.value, version) not in PROTOCOLS:
            raise _refuse(
                desired,
                "provisioner.io/backend-protocol-version",
                f"{version} over {backend.protocol.value}",
                "accepted: HTTP1 over http or https, HTTP2 over https",
            )
        check = backend.health_check
        if check.success_codes not in HTTP_SUCCESS_CODES:
            raise _refuse(
                desired,
                "provisioner.io/healthcheck-success-codes",
                str(check.success_codes),
                "GCP health checks count only 200 as healthy; accepted: 200, 200-399",
            )
        if check.timeout_seconds > check.interval_seconds:
            raise _refuse(
                desired,
                "provisioner.io/healthcheck-timeout",
                f"{check.timeout_seconds}s",
                f"GCP requires timeout <= interval ({check.interval_seconds}s)",
            )


def node_vms(desired: LoadBalancer, *, project: str, region: str) -> tuple[NodeVm, ...]:
    return tuple(node_vm(n, project=project, region=region) for n in desired.nodes)


def _served(desired: LoadBalancer) -> list[Listener]:
    """The listeners served; `allow-http: false` drops the HTTP ones."""
    allow_http = desired.options.get("gcp", {}).get(ALLOW_HTTP_FIELD, True)
    served = [
        listener
        for listener in desired.listeners
        if allow_http or listener.protocol is not Protocol.HTTP
    ]
    if not served:
        raise InvalidSpec(
            f"{desired.key}: kubernetes.io/ingress.allow-http is false and there is no HTTPS "
            "listener, so nothing would be served; accepted: an HTTPS listen port with "
            "certificates, or allow-http true",
            field="kubernetes.io/ingress.allow-http",
            value="false",
        )
    return served


def _backend_spec(backend: Any, *, key: str, cluster: str, project: str) -> BackendSpec:
    hc_name = naming.application_name("hc", key, cluster=cluster, parts=(backend.id,))
    bs_name = naming.application_name("bs", key, cluster=cluster, parts=(backend.id, SCHEME))
    body: dict[str, Any] = {
        "loadBalancingScheme": SCHEME,
        "protocol": PROTOCOLS[(backend.protocol.value, backend.protocol_version or "HTTP1")],
        "portName": named_port(backend.port),
        "timeoutSec": backend.timeout_seconds if backend.timeout_seconds is not None else 30,
        "connectionDraining": {"drainingTimeoutSec": backend.draining_seconds or 0},
        "sessionAffinity": AFFINITY[backend.affinity or "none"],
        "enableCDN": False,
    }
    return BackendSpec(
        id=backend.id,
        health_check_name=hc_name,
        health_check_body=health_check_body(backend.health_check, (backend,)),
        name=bs_name,
        body=body,
        node_port=backend.port,
    )


def build_application(
    desired: LoadBalancer,
    *,
    project: str,
    network: str,
    vms: tuple[NodeVm, ...],
    marks: m.Marks,
    target: NodeTarget,
) -> GcpApplication:
    """Everything the plan needs to know about the desired side, computed once."""
    key, cluster = desired.key, marks.cluster
    options = desired.options.get("gcp", {})
    backends = tuple(
        _backend_spec(b, key=key, cluster=cluster, project=project) for b in desired.backends
    )
    served = _served(desired)
    by_routing: dict[tuple[Any, ...], list[Listener]] = {}
    for listener in served:
        by_routing.setdefault((listener.routes, listener.default), []).append(listener)
    url_maps: list[UrlMapSpec] = []
    proxies: list[ProxySpec] = []
    managed: ManagedCertificateSpec | None = None
    for listeners in by_routing.values():
        ports = tuple(sorted(listener.port for listener in listeners))
        role = url_map_role(ports)
        url_maps.append(
            UrlMapSpec(
                role=role,
                name=naming.application_name("um", key, cluster=cluster, parts=(role,)),
                ports=ports,
                routes=listeners[0].routes,
                default=listeners[0].default,
            )
        )
        for listener in listeners:
            https = listener.protocol is Protocol.HTTPS
            named = listener.tls.certificates if https and listener.tls else ()
            if https and not named:
                domains = managed_domains(desired, listener)
                managed = ManagedCertificateSpec(
                    name=naming.application_name("sc", key, cluster=cluster, parts=domains),
                    domains=domains,
                )
            proxies.append(
                ProxySpec(
                    port=listener.port,
                    role=proxy_role(listener.port),
                    name=naming.application_name(
                        "tp", key, cluster=cluster, parts=(listener.protocol.value, role)
                    ),
                    collection="targetHttpsProxies" if https else "targetHttpProxies",
                    url_map_role=role,
                    certificates=named,
                    rule_role=rule_role(listener.port),
                    managed_certificate=https and not named,
                )
            )
    opened = sorted(
        {b.node_port for b in backends} | {_check_port(b.health_check_body) for b in backends}
    )
    firewall_body = {
        "network": network,
        "direction": "INGRESS",
        "priority": 1000,
        "sourceRanges": sorted(FRONTEND_RANGES),
        "allowed": [{"IPProtocol": "tcp", "ports": [str(p) for p in opened if p]}],
        **target.fields(),
    }
    policy = ssl_policy(desired, served)
    return GcpApplication(
        key=key,
        backends=backends,
        url_maps=tuple(url_maps),
        proxies=tuple(sorted(proxies, key=lambda p: p.port)),
        firewall_name=naming.application_name("fw", key, cluster=cluster, parts=(network,)),
        firewall_body=firewall_body,
        firewall_untargeted=target.untargeted,
        address_name=naming.application_name("ip", key, cluster=cluster, parts=("global",)),
        static_ip=options.get(STATIC_IP_FIELD),
        labels=m.check_user_labels(desired.tags),
        groups=groups(vms, project=project, cluster=cluster, lb_class=marks.lb_class),
        network=network,
        frozen=desired.frozen,
        ssl_policy=SslPolicySpec(
            name=naming.application_name("sp", key, cluster=cluster, parts=()),
            profile=policy[0],
            min_tls_version=policy[1],
        )
        if policy is not None
        else None,
        managed_certificate=managed,
    )


def _check_port(body: Mapping[str, Any]) -> int:
    for field in ("httpHealthCheck", "httpsHealthCheck", "http2HealthCheck"):
        if field in body:
            return int(body[field]["port"])
    return 0


def certificate_path(project: str, name: str) -> str:
    return global_path(project, "sslCertificates", name.rsplit("/", 1)[-1])
