"""The AWS shape of one desired `LoadBalancer`: names, target groups, listeners and rules.

Everything the model leaves to the cloud is decided here, without I/O: how a backend's
health check becomes target group fields, which ports the node security group must open,
which options are valid. Validation that moto would let through (unknown attribute keys,
bogus instance ids, IPs outside the VPC) happens here too, before any write.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from providers.aws import application, naming
from providers.aws.annotations import LOAD_BALANCER_ATTRIBUTES, TARGET_GROUP_ATTRIBUTES
from providers.aws.marks import Marks, check_user_tags
from providers.aws.match import Rule, TargetKey
from providers.aws.network import Network
from providers.base import InvalidSpec
from provisioner.model import (
    Backend,
    Forward,
    IpFamily,
    Kind,
    LoadBalancer,
    Protocol,
    TargetType,
)

LISTENER_PROTOCOLS = (Protocol.TCP, Protocol.UDP, Protocol.TCP_UDP, Protocol.TLS)
DEFAULT_TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"


@dataclass(frozen=True)
class TargetGroupSpec:
    backend_id: str
    name: str
    protocol: str
    port: int
    target_type: str
    ip_address_type: str
    health: Mapping[str, Any]
    attributes: Mapping[str, str]
    targets: frozenset[TargetKey]
    protocol_version: str | None = None


@dataclass(frozen=True)
class ListenerSpec:
    port: int
    protocol: str
    backend_id: str
    certificates: tuple[str, ...]
    ssl_policy: str | None


@dataclass(frozen=True)
class AwsOptions:
    manage_backend_rules: bool
    lb_attributes: Mapping[str, str]


def check_spec(desired: LoadBalancer) -> None:
    """Refuse what the load balancer cannot express, naming the field and what is accepted."""
    check_user_tags(desired.tags)
    if desired.name is not None:
        naming.check_name(desired.name, field="load-balancer-name")
    if desired.kind is Kind.APPLICATION:
        application.check_application_spec(desired)
        return
    if not desired.listeners:
        raise InvalidSpec("listeners: at least one port is needed", field="listeners")
    ids = {b.id for b in desired.backends}
    seen: set[int] = set()
    for listener in desired.listeners:
        if listener.protocol not in LISTENER_PROTOCOLS:
            raise InvalidSpec(
                f"listeners: port {listener.port} has protocol {listener.protocol.value}; "
                "accepted on an NLB: TCP, UDP, TCP_UDP, TLS",
                field="listeners",
                value=listener.protocol.value,
            )
        if listener.port in seen:
            raise InvalidSpec(
                f"listeners: port {listener.port} appears twice; an NLB has one listener per "
                "port (use TCP_UDP for both protocols)",
                field="listeners",
                value=str(listener.port),
            )
        seen.add(listener.port)
        action = listener.default
        if not isinstance(action, Forward) or len(action.backends) != 1:
            raise InvalidSpec(
                f"listeners: port {listener.port} must forward to exactly one backend on an NLB",
                field="listeners",
                value=str(listener.port),
            )
        if action.backends[0].backend_id not in ids:
            raise InvalidSpec(
                f"listeners: port {listener.port} forwards to unknown backend "
                f"{action.backends[0].backend_id!r}",
                field="listeners",
                value=action.backends[0].backend_id,
            )
        if listener.protocol is Protocol.TLS and (
            listener.tls is None or not listener.tls.certificates
        ):
            raise InvalidSpec(
                f"tls-certificates: TLS port {listener.port} needs at least one certificate",
                field="tls-certificates",
                value=str(listener.port),
            )
    for backend in desired.backends:
        unknown = sorted(set(backend.attributes) - TARGET_GROUP_ATTRIBUTES)
        if unknown:
            raise InvalidSpec(
                f"backend-attributes: unknown target group attribute {unknown[0]!r} on backend "
                f"{backend.id}; accepted: {', '.join(sorted(TARGET_GROUP_ATTRIBUTES))}",
                field="backend-attributes",
                value=unknown[0],
            )


def aws_options(desired: LoadBalancer) -> AwsOptions:
    raw = desired.options.get("aws", {})
    manage = raw.get("manage_backend_security_group_rules")
    if manage is None:
        manage = desired.security_groups is None
    if not isinstance(manage, bool):
        raise InvalidSpec(
            f"manage-backend-security-group-rules: {manage!r}; accepted: true, false",
            field="manage-backend-security-group-rules",
            value=str(manage),
        )
    attributes = raw.get("aws_load_balancer_attributes") or {}
    if not isinstance(attributes, Mapping):
        raise InvalidSpec(
            "aws-load-balancer-attributes: expected key=value pairs",
            field="aws-load-balancer-attributes",
            value=str(attributes),
        )
    accepted, label = (
        (application.ALB_LOAD_BALANCER_ATTRIBUTES, "ALB")
        if desired.kind is Kind.APPLICATION
        else (LOAD_BALANCER_ATTRIBUTES, "NLB")
    )
    unknown = sorted(set(attributes) - accepted)
    if unknown:
        raise InvalidSpec(
            f"aws-load-balancer-attributes: unknown {label} attribute {unknown[0]!r}; accepted: "
            + ", ".join(sorted(accepted)),
            field="aws-load-balancer-attributes",
            value=unknown[0],
        )
    return AwsOptions(
        manage_backend_rules=manage,
        lb_attributes={str(k): str(v) for k, v in attributes.items()},
    )


def lb_attributes(desired: LoadBalancer, options: AwsOptions) -> dict[str, str]:
    attributes = dict(options.lb_attributes)
    attributes["deletion_protection.enabled"] = _bool(desired.deletion_protection)
    if desired.kind is Kind.NETWORK:
        # An ALB is always cross-zone; the attribute exists on NLBs only.
        attributes["load_balancing.cross_zone.enabled"] = _bool(desired.cross_zone)
    return attributes


def _bool(value: bool) -> str:
    return "true" if value else "false"


def lb_name(desired: LoadBalancer) -> str:
    if desired.name is not None:
        return desired.name
    if desired.kind is Kind.APPLICATION:
        return naming.load_balancer_name(
            desired.key, scheme=desired.scheme.value, lb_type="application"
        )
    return naming.load_balancer_name(desired.key, scheme=desired.scheme.value)


def health_fields(backend: Backend) -> dict[str, Any]:
    check = backend.health_check
    fields: dict[str, Any] = {
        "HealthCheckEnabled": True,
        "HealthCheckProtocol": check.protocol.value,
        "HealthCheckPort": "traffic-port" if check.port is None else str(check.port),
        "HealthyThresholdCount": check.healthy_threshold,
        "UnhealthyThresholdCount": check.unhealthy_threshold,
        "HealthCheckTimeoutSeconds": check.timeout_seconds,
        "HealthCheckIntervalSeconds": check.interval_seconds,
    }
    if check.protocol in (Protocol.HTTP, Protocol.HTTPS):
        fields["HealthCheckPath"] = check.path or "/"
        fields["Matcher"] = {"HttpCode": check.success_codes or "200-399"}
    return fields


def target_groups(
    desired: LoadBalancer, network: Network, *, load_balancer_name: str
) -> list[TargetGroupSpec]:
    specs: list[TargetGroupSpec] = []
    alb = desired.kind is Kind.APPLICATION
    for backend in desired.backends:
        targets = _targets(backend, network)
        attributes = {} if alb else {"proxy_protocol_v2.enabled": _bool(backend.proxy_protocol)}
        if alb:
            attributes.update(backend_settings(backend))
        attributes.update(backend.attributes)
        version = (backend.protocol_version or "HTTP1") if alb else None
        dualstack = desired.ip_family is IpFamily.DUALSTACK and backend.target_type is TargetType.IP
        specs.append(
            TargetGroupSpec(
                backend_id=backend.id,
                name=naming.target_group_name(
                    desired.key,
                    backend_id=backend.id,
                    protocol=backend.protocol.value,
                    port=backend.port,
                    target_type=backend.target_type.value,
                    vpc_id=network.vpc_id,
                    load_balancer_name=load_balancer_name,
                    protocol_version=version,
                ),
                protocol=backend.protocol.value,
                port=backend.port,
                target_type=backend.target_type.value,
                ip_address_type="ipv6" if dualstack and _all_v6(targets) else "ipv4",
                health=application.health_fields(backend) if alb else health_fields(backend),
                attributes=attributes,
                targets=targets,
                protocol_version=version,
            )
        )
    return specs


def backend_settings(backend: Backend) -> dict[str, str]:
    """The portable backend settings as ALB target group attributes.

    Draining is the deregistration delay; cookie affinity is load-balancer-generated cookie
    stickiness. An ALB has no per-backend response timeout (its idle timeout is the load
    balancer's; the annotation is refused earlier) and no source-address affinity. A value
    given both ways must agree, or the Ingress would not get what one of them says.
    """
    settings: dict[str, tuple[str, str]] = {}
    if backend.draining_seconds is not None:
        draining = ("provisioner.io/connection-draining-timeout", str(backend.draining_seconds))
        settings["deregistration_delay.timeout_seconds"] = draining
    if backend.affinity == "client-ip":
        raise InvalidSpec(
            f"provisioner.io/session-affinity: client-ip on backend {backend.id}: an "
            "Application Load Balancer keeps a client on one target by cookie only; accepted: "
            "none, cookie",
            field="provisioner.io/session-affinity",
            value="client-ip",
        )
    if backend.affinity is not None:
        cookie = backend.affinity == "cookie"
        settings["stickiness.enabled"] = ("provisioner.io/session-affinity", _bool(cookie))
        if cookie:
            settings["stickiness.type"] = ("provisioner.io/session-affinity", "lb_cookie")
    for attribute, (annotation, value) in settings.items():
        given = backend.attributes.get(attribute)
        if given is not None and given != value:
            raise InvalidSpec(
                f"{annotation} and provisioner.io/backend-attributes disagree on backend "
                f"{backend.id}: {attribute}={value!r} against {attribute}={given!r}; accepted: "
                "one of them, or the same value in both",
                field=annotation,
                value=given,
            )
    return {attribute: value for attribute, (_, value) in settings.items()}


def _all_v6(targets: frozenset[TargetKey]) -> bool:
    return bool(targets) and all(":" in t[0] for t in targets)


def _targets(backend: Backend, network: Network) -> frozenset[TargetKey]:
    for target in backend.targets:
        if backend.target_type is TargetType.INSTANCE and target.address not in network.instances:
            raise InvalidSpec(
                f"targets: instance {target.address} of backend {backend.id} is not among the "
                f"node instances found in EC2 ({', '.join(sorted(network.instances)) or 'none'})",
                field="targets",
                value=target.address,
            )
        if backend.target_type is TargetType.IP and not network.contains_ip(target.address):
            raise InvalidSpec(
                f"targets: IP {target.address} of backend {backend.id} is outside VPC "
                f"{network.vpc_id} ({', '.join(network.cidrs)}); accepted: addresses in the "
                "VPC's CIDR blocks",
                field="targets",
                value=target.address,
            )
        if not 1 <= target.port <= 65535:
            raise InvalidSpec(
                f"targets: port {target.port} of {target.address} is not 1-65535",
                field="targets",
                value=str(target.port),
            )
    return frozenset((t.address, t.port) for t in backend.targets)


def listeners(desired: LoadBalancer) -> list[ListenerSpec]:
    specs: list[ListenerSpec] = []
    for listener in desired.listeners:
        assert isinstance(listener.default, Forward)
        tls = listener.tls
        specs.append(
            ListenerSpec(
                port=listener.port,
                protocol=listener.protocol.value,
                backend_id=listener.default.backends[0].backend_id,
                certificates=tls.certificates if tls is not None else (),
                ssl_policy=(tls.policy or DEFAULT_TLS_POLICY) if tls is not None else None,
            )
        )
    return specs


def _protocols(protocol: str) -> tuple[str, ...]:
    if protocol == "UDP":
        return ("udp",)
    if protocol == "TCP_UDP":
        return ("tcp", "udp")
    return ("tcp",)


def source_ranges(desired: LoadBalancer) -> tuple[str, ...]:
    if desired.source_ranges:
        return desired.source_ranges
    if desired.ip_family is IpFamily.DUALSTACK:
        return ("0.0.0.0/0", "::/0")
    return ("0.0.0.0/0",)


def frontend_rules(desired: LoadBalancer) -> set[Rule]:
    rules: set[Rule] = set()
    for listener in desired.listeners:
        for protocol in _protocols(listener.protocol.value):
            for cidr in source_ranges(desired):
                rules.add(Rule(protocol=protocol, port=listener.port, source=cidr))
    return rules


def backend_rules(desired: LoadBalancer, *, source: str) -> set[Rule]:
    """Ports the nodes must accept from the load balancer's group: traffic and health checks."""
    rules: set[Rule] = set()
    for backend in desired.backends:
        if backend.target_type is TargetType.INSTANCE:
            ports = {backend.port}
        else:
            ports = {t.port for t in backend.targets} or {backend.port}
        for port in ports:
            for protocol in _protocols(backend.protocol.value):
                rules.add(Rule(protocol=protocol, port=port, source=source))
            if backend.protocol is Protocol.UDP and backend.health_check.port is None:
                rules.add(Rule(protocol="tcp", port=port, source=source))
        if backend.health_check.port is not None:
            rules.add(Rule(protocol="tcp", port=backend.health_check.port, source=source))
    return rules


def tag_budget(marks: Marks, desired: LoadBalancer) -> None:
    """Fail early (before any write) when user tags and marks exceed AWS's limit."""
    if desired.kind is Kind.APPLICATION:
        marks.tags(desired.key, "rule:x", desired.tags, ingress="x")
    marks.tags(desired.key, "load-balancer", desired.tags)
