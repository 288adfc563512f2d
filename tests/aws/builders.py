"""Desired `LoadBalancer` values for the AWS tests, built directly (no Kubernetes objects)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from providers.aws.seed import SeededCluster
from provisioner.model import (
    Backend,
    Forward,
    HealthCheck,
    IpFamily,
    Kind,
    Listener,
    LoadBalancer,
    Node,
    Protocol,
    Scheme,
    Target,
    TargetType,
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
