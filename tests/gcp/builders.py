"""Desired `LoadBalancer` values for the GCP tests, built directly (no Kubernetes objects)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

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

PROJECT = "test-project"
REGION = "us-central1"
ZONES = ("us-central1-a", "us-central1-b", "us-central1-c")
KEY = "Service/default/web"


def vm_names(count: int = 3) -> list[tuple[str, str]]:
    """(instance name, zone) of `count` nodes spread over the zones."""
    return [(f"node-{i}", ZONES[i % len(ZONES)]) for i in range(count)]


def nodes(count: int = 3, *, project: str = PROJECT) -> tuple[Node, ...]:
    return tuple(
        Node(name=name, provider_id=f"gce://{project}/{zone}/{name}", zone=zone)
        for name, zone in vm_names(count)
    )


def service(
    *,
    key: str = KEY,
    ports: Sequence[tuple[int, int]] = ((80, 30080), (443, 30443)),
    scheme: Scheme = Scheme.INTERNAL,
    node_count: int = 3,
    protocol: Protocol = Protocol.TCP,
    health: HealthCheck | None = None,
    source_ranges: Sequence[str] = ("0.0.0.0/0",),
    tags: Mapping[str, str] | None = None,
    options: Mapping[str, Any] | None = None,
    **fields: Any,
) -> LoadBalancer:
    """An instance-mode Service: one listener and one backend per (port, nodePort)."""
    _, namespace, name = key.split("/")
    chosen = nodes(node_count)
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
                targets=frozenset(
                    Target(address=n.instance_id, port=node_port, zone=n.zone) for n in chosen
                ),
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
        source_ranges=tuple(source_ranges),
        tags=frozen_map(tags),
        nodes=chosen,
        options={"gcp": frozen_map(options)} if options else {},
    )
    return replace(value, **fields) if fields else value
