"""Desired `LoadBalancer` values for the AWS tests, built directly (no Kubernetes objects):
NLB Services and ALB Ingress groups."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from providers.aws.seed import SeededCluster
from provisioner.model import (
    Action,
    Backend,
    FixedResponse,
    Forward,
    HealthCheck,
    IpFamily,
    Kind,
    Listener,
    LoadBalancer,
    Node,
    PathType,
    Protocol,
    Redirect,
    Route,
    Scheme,
    Target,
    TargetType,
    Tls,
    WeightedBackend,
    frozen_map,
)

KEY = "Service/default/web"


def nodes(cluster: SeededCluster) -> tuple[Node, ...]:
    return tuple(
        Node(name=f"node-{i}", provider_id=pid, zone=pid.split("/")[3])
        for i, pid in enumerate(cluster.provider_ids)
    )


def service(
    cluster: SeededCluster,
    *,
    key: str = KEY,
    ports: Sequence[tuple[int, int]] = ((80, 30080), (443, 30443)),
    scheme: Scheme = Scheme.INTERNAL,
    instances: Sequence[str] | None = None,
    protocol: Protocol = Protocol.TCP,
    health: HealthCheck | None = None,
    attributes: Mapping[str, str] | None = None,
    tags: Mapping[str, str] | None = None,
    **fields: Any,
) -> LoadBalancer:
    """An instance-mode NLB Service: one listener and one backend per (port, nodePort)."""
    _, namespace, name = key.split("/")
    targets_on = list(instances if instances is not None else cluster.instance_ids)
    backends = []
    listeners = []
    for port, node_port in ports:
        backend_id = f"{namespace}/{name}:{port}"
        backends.append(
            Backend(
                id=backend_id,
                protocol=protocol,
                port=node_port,
                target_type=TargetType.INSTANCE,
                health_check=health or HealthCheck(),
                targets=frozenset(Target(address=i, port=node_port) for i in targets_on),
                attributes=frozen_map(attributes),
            )
        )
        listeners.append(
            Listener(
                port=port,
                protocol=protocol,
                default=Forward(backends=(WeightedBackend(backend_id),)),
            )
        )
    value = LoadBalancer(
        key=key,
        kind=Kind.NETWORK,
        scheme=scheme,
        ip_family=IpFamily.IPV4,
        listeners=tuple(listeners),
        backends=tuple(backends),
        source_ranges=("0.0.0.0/0",),
        tags=frozen_map(tags),
        nodes=nodes(cluster),
    )
    return replace(value, **fields) if fields else value


def ip_service(
    cluster: SeededCluster,
    pod_ips: Sequence[str],
    *,
    port: int = 80,
    target_port: int = 8080,
    key: str = KEY,
) -> LoadBalancer:
    _, namespace, name = key.split("/")
    backend_id = f"{namespace}/{name}:{port}"
    backend = Backend(
        id=backend_id,
        protocol=Protocol.TCP,
        port=target_port,
        target_type=TargetType.IP,
        health_check=HealthCheck(),
        targets=frozenset(Target(address=ip, port=target_port) for ip in pod_ips),
    )
    return LoadBalancer(
        key=key,
        kind=Kind.NETWORK,
        scheme=Scheme.INTERNAL,
        ip_family=IpFamily.IPV4,
        listeners=(
            Listener(
                port=port,
                protocol=Protocol.TCP,
                default=Forward(backends=(WeightedBackend(backend_id),)),
            ),
        ),
        backends=(backend,),
        source_ranges=("10.0.0.0/8",),
        nodes=nodes(cluster),
    )


def with_backend(desired: LoadBalancer, backend_id: str, **changes: Any) -> LoadBalancer:
    backends = tuple(replace(b, **changes) if b.id == backend_id else b for b in desired.backends)
    return replace(desired, backends=backends)


ALB_KEY = "IngressGroup/shop"
HTTP_CHECK = HealthCheck(
    protocol=Protocol.HTTP, path="/healthz", interval_seconds=15, timeout_seconds=5
)
NOT_FOUND = FixedResponse(status_code=404)


def http_backend(
    cluster: SeededCluster,
    backend_id: str,
    node_port: int,
    *,
    instances: Sequence[str] | None = None,
    **changes: Any,
) -> Backend:
    """An instance-mode HTTP backend on every node (or on `instances`)."""
    targets_on = list(instances if instances is not None else cluster.instance_ids)
    backend = Backend(
        id=backend_id,
        protocol=Protocol.HTTP,
        port=node_port,
        target_type=TargetType.INSTANCE,
        health_check=HTTP_CHECK,
        targets=frozenset(Target(address=i, port=node_port) for i in targets_on),
    )
    return replace(backend, **changes) if changes else backend


def forward(*backend_ids: str) -> Forward:
    return Forward(backends=tuple(WeightedBackend(b) for b in backend_ids))


def route(
    route_id: str,
    action: Action | str,
    *,
    host: str | None = None,
    path: str | None = None,
    path_type: PathType = PathType.PREFIX,
    owner: str | None = None,
) -> Route:
    """A route; a string action forwards to that backend id."""
    return Route(
        id=route_id,
        action=forward(action) if isinstance(action, str) else action,
        host=host,
        path=path,
        path_type=path_type,
        owner=owner,
    )


def shop_routes() -> tuple[Route, ...]:
    """Two Ingresses' routes on one host (api and web), then the host's catch-all."""
    return (
        route("shop/api:0", "shop/api:80", host="shop.example.com", path="/api", owner="shop/api"),
        route("shop/web:0", "shop/web:80", host="shop.example.com", path="/", owner="shop/web"),
        route("catch-all:shop.example.com", NOT_FOUND, host="shop.example.com"),
    )


def application(
    cluster: SeededCluster,
    *,
    key: str = ALB_KEY,
    routes: Sequence[Route] | None = None,
    backends: Sequence[Backend] | None = None,
    listeners: Sequence[Listener] | None = None,
    scheme: Scheme = Scheme.INTERNAL,
    **fields: Any,
) -> LoadBalancer:
    """An ALB for a two-Ingress group: one HTTP listener on 80 answering 404 by default."""
    value = LoadBalancer(
        key=key,
        kind=Kind.APPLICATION,
        scheme=scheme,
        ip_family=IpFamily.IPV4,
        listeners=tuple(
            listeners
            if listeners is not None
            else (
                Listener(
                    port=80,
                    protocol=Protocol.HTTP,
                    default=NOT_FOUND,
                    routes=tuple(routes if routes is not None else shop_routes()),
                ),
            )
        ),
        backends=tuple(
            backends
            if backends is not None
            else (
                http_backend(cluster, "shop/api:80", 30081),
                http_backend(cluster, "shop/web:80", 30080),
            )
        ),
        source_ranges=("0.0.0.0/0",),
        nodes=nodes(cluster),
    )
    return replace(value, **fields) if fields else value


def https_listener(
    certificates: Sequence[str],
    routes: Sequence[Route] = (),
    *,
    port: int = 443,
    default: Action = NOT_FOUND,
    policy: str = "ELBSecurityPolicy-TLS13-1-2-2021-06",
) -> Listener:
    return Listener(
        port=port,
        protocol=Protocol.HTTPS,
        default=default,
        tls=Tls(certificates=tuple(certificates), policy=policy),
        routes=tuple(routes),
    )


def redirect_listener(port: int = 80) -> Listener:
    """Plain HTTP that only sends clients to HTTPS."""
    return Listener(
        port=port,
        protocol=Protocol.HTTP,
        default=Redirect(status_code=301, protocol="HTTPS", port=443),
    )


def with_routes(desired: LoadBalancer, routes: Sequence[Route], *, port: int = 80) -> LoadBalancer:
    listeners = tuple(
        replace(x, routes=tuple(routes)) if x.port == port else x for x in desired.listeners
    )
    return replace(desired, listeners=listeners)
