"""The cloud-neutral desired state: what a load balancer should look like, never how to build it.

Translation produces these values from Kubernetes objects and providers consume them, so this
module is the contract between the two halves of the project. Everything is frozen and
hashable so that a desired value can be compared with what a provider read back, and nothing
here refers to a cloud id: resources refer to each other by stable ids chosen here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

Key = str
"""`Service/<ns>/<name>`, `Ingress/<ns>/<name>`, `IngressGroup/<name>` or `Shared/<p>/<what>`."""


def service_key(namespace: str, name: str) -> Key:
    return f"Service/{namespace}/{name}"


def split_key(key: Key) -> tuple[str, str, str]:
    """Return (kind, namespace, name); kinds without a namespace give an empty one."""
    parts = key.split("/")
    if len(parts) == 3:
        return parts[0], parts[1], parts[2]
    if len(parts) == 2:
        return parts[0], "", parts[1]
    raise ValueError(f"not a key: {key!r}")


class Kind(StrEnum):
    NETWORK = "network"
    APPLICATION = "application"


class Scheme(StrEnum):
    INTERNET_FACING = "internet-facing"
    INTERNAL = "internal"


class IpFamily(StrEnum):
    IPV4 = "ipv4"
    DUALSTACK = "dualstack"


class Protocol(StrEnum):
    TCP = "TCP"
    UDP = "UDP"
    TCP_UDP = "TCP_UDP"
    TLS = "TLS"
    HTTP = "HTTP"
    HTTPS = "HTTPS"


class TargetType(StrEnum):
    INSTANCE = "instance"
    IP = "ip"


class PathType(StrEnum):
    EXACT = "exact"
    PREFIX = "prefix"
    GLOB = "glob"


def frozen_map(values: Mapping[str, str] | None = None) -> Mapping[str, str]:
    """A read-only, sorted copy: equal contents compare equal whatever the insertion order."""
    return MappingProxyType(dict(sorted((values or {}).items())))


@dataclass(frozen=True)
class Node:
    """A node the cluster offers to load balancers, already filtered by the node rules."""

    name: str
    provider_id: str
    zone: str | None = None
    address: str | None = None

    @property
    def instance_id(self) -> str:
        """The id the cloud knows the node by: the last segment of its providerID
        (`aws:///zone/i-0abc`, `gce://project/zone/name`); providers check the shape."""
        return self.provider_id.rstrip("/").rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Target:
    address: str
    port: int
    zone: str | None = None


@dataclass(frozen=True)
class HealthCheck:
    """`port` None means the traffic port; `path` and `success_codes` only apply to HTTP(S)."""

    protocol: Protocol = Protocol.TCP
    port: int | None = None
    path: str | None = None
    healthy_threshold: int = 3
    unhealthy_threshold: int = 3
    timeout_seconds: int = 10
    interval_seconds: int = 10
    success_codes: str | None = None


@dataclass(frozen=True)
class Backend:
    """Targets behind one port; `id` is stable across reconciles (`<ns>/<svc>:<port>`)."""

    id: str
    protocol: Protocol
    port: int
    target_type: TargetType
    health_check: HealthCheck
    targets: frozenset[Target] = frozenset()
    proxy_protocol: bool = False
    attributes: Mapping[str, str] = field(default_factory=frozen_map)
    protocol_version: str | None = None
    """HTTP1 | HTTP2 | GRPC for application load balancers; None for network ones."""
    timeout_seconds: int | None = None
    """How long the load balancer waits for an answer; None: the cloud's default."""
    draining_seconds: int | None = None
    """How long a target being removed keeps its open requests; None: the cloud's default."""
    affinity: str | None = None
    """none | client-ip | cookie; None: the cloud's default (no affinity)."""

    def __hash__(self) -> int:
        return hash((self.id, self.protocol, self.port, self.target_type, self.targets))


@dataclass(frozen=True)
class Tls:
    """`certificates` are what the user named; `hosts` are the group's `spec.tls` hosts, in
    seniority order, for providers that can obtain a certificate for them when none is
    named (GCP's managed certificates); a provider that cannot refuses a listener without
    certificates."""

    certificates: tuple[str, ...]
    policy: str
    hosts: tuple[str, ...] = ()


@dataclass(frozen=True)
class WeightedBackend:
    backend_id: str
    weight: int = 1


@dataclass(frozen=True)
class Forward:
    backends: tuple[WeightedBackend, ...]


@dataclass(frozen=True)
class Redirect:
    status_code: int = 301
    protocol: str | None = None
    port: int | None = None
    host: str | None = None
    path: str | None = None


@dataclass(frozen=True)
class FixedResponse:
    status_code: int = 404
    content_type: str = "text/plain"
    body: str = ""


Action = Forward | Redirect | FixedResponse


@dataclass(frozen=True)
class Route:
    """One entry of a listener's ordered, first-match route list.

    `host` is an exact name or `*.suffix`, which matches exactly one DNS label (the
    Kubernetes meaning; a provider whose cloud matches more labels must make up the
    difference). `path` None matches every path. `owner` is the Ingress (`<ns>/<name>`) the
    route comes from, or None for routes the translation adds (per-host catch-alls); `id` is
    stable across reconciles so that a provider can match a route with what it created.
    """

    id: str
    action: Action
    host: str | None = None
    path: str | None = None
    path_type: PathType = PathType.PREFIX
    owner: str | None = None


@dataclass(frozen=True)
class Listener:
    port: int
    protocol: Protocol
    default: Action
    tls: Tls | None = None
    routes: tuple[Route, ...] = ()


@dataclass(frozen=True)
class LoadBalancer:
    """Desired state for one key. Only the provider turns it into cloud resources.

    `name`, `subnets` and `security_groups` are what the user asked for (None: let the
    provider choose); `nodes` lists the nodes that may receive traffic whatever the target
    type, because providers need them to find the network and to open node firewalls.
    """

    key: Key
    kind: Kind
    scheme: Scheme
    ip_family: IpFamily
    listeners: tuple[Listener, ...]
    backends: tuple[Backend, ...]
    source_ranges: tuple[str, ...]
    tags: Mapping[str, str] = field(default_factory=frozen_map)
    name: str | None = None
    subnets: tuple[str, ...] | None = None
    security_groups: tuple[str, ...] | None = None
    deletion_protection: bool = False
    cross_zone: bool = False
    nodes: tuple[Node, ...] = ()
    options: Mapping[str, Mapping[str, Any]] = field(default_factory=lambda: MappingProxyType({}))
    subnet_tags: Mapping[str, tuple[str, ...]] | None = None
    """Choose subnets carrying every one of these tag keys with one of the listed values
    (IngressClassParams `subnets.tags`); None: `subnets`, or the provider's discovery."""
    frozen: frozenset[str] = frozenset()
    """Ingresses (`<ns>/<name>`) of a group that are in error: the provider keeps the routes
    they own, and the backends those routes use, exactly as they are in the cloud."""

    def __hash__(self) -> int:
        return hash((self.key, self.kind, self.scheme, self.listeners, self.backends))

    def backend(self, backend_id: str) -> Backend:
        for backend in self.backends:
            if backend.id == backend_id:
                return backend
        raise KeyError(backend_id)
