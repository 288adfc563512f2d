"""What an Application Load Balancer accepts, checked before any write.

moto accepts much that AWS refuses (a single-subnet ALB, unknown target group attributes, a
TCP health check on an HTTP target group), so the ALB's rules are written down here and
applied to the desired state first; errors name the field, the value and what is accepted.
The account's rule quotas are read here too, once per provider instance.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from providers.aws.actions import check_action
from providers.aws.client import AwsClient
from providers.aws.network import Subnet
from providers.aws.rules import AlbLimits
from providers.base import InvalidSpec, ProviderError
from provisioner.model import Backend, LoadBalancer, Protocol

ALB_LOAD_BALANCER_ATTRIBUTES = frozenset(
    {
        "deletion_protection.enabled",
        "idle_timeout.timeout_seconds",
        "client_keep_alive.seconds",
        "access_logs.s3.enabled",
        "access_logs.s3.bucket",
        "access_logs.s3.prefix",
        "connection_logs.s3.enabled",
        "connection_logs.s3.bucket",
        "connection_logs.s3.prefix",
        "health_check_logs.s3.enabled",
        "health_check_logs.s3.bucket",
        "health_check_logs.s3.prefix",
        "routing.http2.enabled",
        "routing.http.drop_invalid_header_fields.enabled",
        "routing.http.desync_mitigation_mode",
        "routing.http.preserve_host_header.enabled",
        "routing.http.x_amzn_tls_version_and_cipher_suite.enabled",
        "routing.http.xff_client_port.enabled",
        "routing.http.xff_header_processing.mode",
        "waf.fail_open.enabled",
        "zonal_shift.config.enabled",
        "ipv6.deny_all_igw_traffic",
    }
)
"""ALB attributes AWS accepts (NLB-only ones such as cross-zone are refused on an ALB)."""

ALB_TARGET_GROUP_ATTRIBUTES = frozenset(
    {
        "deregistration_delay.timeout_seconds",
        "slow_start.duration_seconds",
        "stickiness.enabled",
        "stickiness.type",
        "stickiness.lb_cookie.duration_seconds",
        "stickiness.app_cookie.cookie_name",
        "stickiness.app_cookie.duration_seconds",
        "load_balancing.algorithm.type",
        "load_balancing.algorithm.anomaly_mitigation",
        "load_balancing.cross_zone.enabled",
        "target_group_health.dns_failover.minimum_healthy_targets.count",
        "target_group_health.dns_failover.minimum_healthy_targets.percentage",
        "target_group_health.unhealthy_state_routing.minimum_healthy_targets.count",
        "target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage",
    }
)
"""Target group attributes AWS accepts behind an ALB (moto accepts any key)."""

PROTOCOL_VERSIONS = ("HTTP1", "HTTP2", "GRPC")
LIMIT_NAMES = {
    "rules-per-application-load-balancer": "rules",
    "condition-values-per-alb-rule": "condition_values",
    "condition-wildcards-per-alb-rule": "condition_wildcards",
}


def read_limits(elbv2: AwsClient) -> AlbLimits:
    """The account's ALB rule quotas; AWS's defaults for any it does not report."""
    found: dict[str, int] = {}
    try:
        pages = list(elbv2.pages("DescribeAccountLimits", token="Marker", next_token="NextMarker"))
    except ProviderError:
        return AlbLimits()
    for page in pages:
        for limit in page.get("Limits", []):
            field = LIMIT_NAMES.get(str(limit.get("Name", "")))
            if field is not None:
                found[field] = int(limit.get("Max", 0))
    return AlbLimits(**found)


def check_application_spec(desired: LoadBalancer) -> None:
    """Refuse what an ALB cannot express, naming the field and what is accepted."""
    if not desired.listeners:
        raise InvalidSpec("listeners: at least one port is needed", field="listeners")
    backend_ids = {b.id for b in desired.backends}
    seen: set[int] = set()
    for listener in desired.listeners:
        where = f"port {listener.port}"
        if listener.protocol not in (Protocol.HTTP, Protocol.HTTPS):
            raise InvalidSpec(
                f"listeners: {where} has protocol {listener.protocol.value}; accepted on an "
                "ALB: HTTP, HTTPS",
                field="listeners",
                value=listener.protocol.value,
            )
        if listener.port in seen:
            raise InvalidSpec(
                f"listeners: {where} appears twice; an ALB has one listener per port",
                field="listeners",
                value=str(listener.port),
            )
        seen.add(listener.port)
        if listener.protocol is Protocol.HTTPS and (
            listener.tls is None or not listener.tls.certificates
        ):
            raise InvalidSpec(
                f"{desired.key}: provisioner.io/tls-certificates: HTTPS port {listener.port} "
                "needs a certificate and none is set; accepted: certificates in "
                "provisioner.io/tls-certificates (or the class parameters); certificates are "
                "not discovered from spec.tls hosts on aws",
                field="tls-certificates",
                value=str(listener.port),
            )
        check_action(listener.default, backends=backend_ids, where=f"the default of {where}")
        for route in listener.routes:
            owner = f"Ingress {route.owner}" if route.owner else "a generated route"
            check_action(
                route.action, backends=backend_ids, where=f"{owner} on {where} ({route.id})"
            )
    for backend in desired.backends:
        check_backend(backend)


def check_backend(backend: Backend) -> None:
    where = f"backend {backend.id}"
    if backend.protocol not in (Protocol.HTTP, Protocol.HTTPS):
        raise InvalidSpec(
            f"backend-protocol: {where} has protocol {backend.protocol.value}; accepted "
            "behind an ALB: HTTP, HTTPS",
            field="backend-protocol",
            value=backend.protocol.value,
        )
    if backend.protocol_version is not None and backend.protocol_version not in PROTOCOL_VERSIONS:
        raise InvalidSpec(
            f"backend-protocol-version: {where} has {backend.protocol_version!r}; accepted: "
            + ", ".join(PROTOCOL_VERSIONS),
            field="backend-protocol-version",
            value=backend.protocol_version,
        )
    if backend.proxy_protocol:
        raise InvalidSpec(
            f"proxy-protocol: {where} asks for proxy protocol, which ALB target groups do not "
            "offer; accepted: off",
            field="proxy-protocol",
            value="true",
        )
    check = backend.health_check
    if check.protocol not in (Protocol.HTTP, Protocol.HTTPS):
        raise InvalidSpec(
            f"healthcheck-protocol: {where} has a {check.protocol.value} health check; "
            "accepted behind an ALB: HTTP, HTTPS",
            field="healthcheck-protocol",
            value=check.protocol.value,
        )
    if check.timeout_seconds >= check.interval_seconds:
        raise InvalidSpec(
            f"healthcheck-timeout-seconds: {where} has a timeout of {check.timeout_seconds}s "
            f"and an interval of {check.interval_seconds}s; an HTTP health check's timeout "
            "must be shorter than its interval",
            field="healthcheck-timeout-seconds",
            value=str(check.timeout_seconds),
        )
    unknown = sorted(set(backend.attributes) - ALB_TARGET_GROUP_ATTRIBUTES)
    if unknown:
        raise InvalidSpec(
            f"target-group-attributes: unknown ALB target group attribute {unknown[0]!r} on "
            f"{where}; accepted: {', '.join(sorted(ALB_TARGET_GROUP_ATTRIBUTES))}",
            field="target-group-attributes",
            value=unknown[0],
        )


def check_zones(subnets: Sequence[Subnet], chosen: Sequence[str]) -> None:
    """An ALB needs subnets in two availability zones at least (moto accepts one)."""
    zones = {s.zone for s in subnets if s.id in chosen}
    if len(zones) < 2:
        raise InvalidSpec(
            f"subnets: an ALB needs subnets in at least two availability zones; the subnets "
            f"chosen ({', '.join(chosen) or 'none'}) are in {len(zones)}",
            field="subnets",
            value=",".join(chosen),
        )


def health_fields(backend: Backend) -> dict[str, Any]:
    """Target group health check fields; gRPC backends are checked with gRPC codes."""
    check = backend.health_check
    grpc = backend.protocol_version == "GRPC"
    return {
        "HealthCheckEnabled": True,
        "HealthCheckProtocol": check.protocol.value,
        "HealthCheckPort": "traffic-port" if check.port is None else str(check.port),
        "HealthCheckPath": check.path or ("/AWS.ALB/healthcheck" if grpc else "/"),
        "HealthyThresholdCount": check.healthy_threshold,
        "UnhealthyThresholdCount": check.unhealthy_threshold,
        "HealthCheckTimeoutSeconds": check.timeout_seconds,
        "HealthCheckIntervalSeconds": check.interval_seconds,
        "Matcher": (
            {"GrpcCode": check.success_codes or "12"}
            if grpc
            else {"HttpCode": check.success_codes or "200"}
        ),
    }
