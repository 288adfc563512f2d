"""The AWS Load Balancer Controller's Service annotations, mapped onto the portable fields.

Users moving from that controller keep their manifests: each of its annotations below sets
the same field as the matching `provisioner.io/` key. What only AWS understands (extra load
balancer attributes such as access logs) goes to `options["aws"]`, where the provider
validates it.
"""

from __future__ import annotations

from typing import Any

from provisioner.annotations import (
    Alias,
    AnnotationSet,
    ParseError,
    Setting,
    alias,
    boolean,
    choice,
    cidr_list,
    health_port,
    http_path,
    integer,
    string_list,
    string_map,
    success_codes,
)

SERVICE = "service.beta.kubernetes.io/"
LB_TYPE = SERVICE + "aws-load-balancer-type"

DELETION_PROTECTION = "deletion_protection.enabled"
CROSS_ZONE = "load_balancing.cross_zone.enabled"
PROXY_PROTOCOL = "proxy_protocol_v2.enabled"

LOAD_BALANCER_ATTRIBUTES = frozenset(
    {
        DELETION_PROTECTION,
        CROSS_ZONE,
        "access_logs.s3.enabled",
        "access_logs.s3.bucket",
        "access_logs.s3.prefix",
        "ipv6.deny_all_igw_traffic",
        "dns_record.client_routing_policy",
        "zonal_shift.config.enabled",
    }
)
"""NLB attributes AWS accepts; anything else is refused before any cloud call."""

TARGET_GROUP_ATTRIBUTES = frozenset(
    {
        "deregistration_delay.timeout_seconds",
        "deregistration_delay.connection_termination.enabled",
        "preserve_client_ip.enabled",
        PROXY_PROTOCOL,
        "stickiness.enabled",
        "stickiness.type",
        "load_balancing.cross_zone.enabled",
        "target_health_state.unhealthy.connection_termination.enabled",
        "target_health_state.unhealthy.draining_interval_seconds",
        "target_group_health.dns_failover.minimum_healthy_targets.count",
        "target_group_health.dns_failover.minimum_healthy_targets.percentage",
        "target_group_health.unhealthy_state_routing.minimum_healthy_targets.count",
        "target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage",
    }
)
"""NLB target group attributes AWS accepts (moto accepts any key; AWS does not)."""


def _target_type(raw: str) -> str:
    value = raw.strip()
    if value not in ("instance", "ip"):
        raise ParseError("instance, ip")
    return value


def _lb_type(raw: str) -> dict[str, Any]:
    value = raw.strip()
    if value == "nlb-ip":
        return {"target_type": "ip"}
    if value in ("external", "nlb"):
        return {}
    raise ParseError("external, nlb-ip, nlb")


def _backend_protocol(raw: str) -> str:
    value = raw.strip().lower()
    if value == "ssl":
        return "tls"
    if value == "tcp":
        return "tcp"
    raise ParseError("tcp, ssl")


def _proxy_protocol(raw: str) -> bool:
    if raw.strip() == "*":
        return True
    raise ParseError('"*" (every target group)')


def _attribute_bool(attributes: dict[str, str], key: str) -> bool:
    value = attributes[key].strip().lower()
    if value not in ("true", "false"):
        raise ParseError(f'{key}="true" or "false"')
    return value == "true"


def _lb_attributes(raw: str) -> dict[str, Any]:
    """deletion protection and cross-zone become fields; the rest stays AWS-only."""
    attributes = string_map(raw)
    unknown = sorted(set(attributes) - LOAD_BALANCER_ATTRIBUTES)
    if unknown:
        raise ParseError(
            "key=value pairs with keys among " + ", ".join(sorted(LOAD_BALANCER_ATTRIBUTES))
        )
    result: dict[str, Any] = {}
    if DELETION_PROTECTION in attributes:
        result["deletion_protection"] = _attribute_bool(attributes, DELETION_PROTECTION)
    if CROSS_ZONE in attributes:
        result["cross_zone"] = _attribute_bool(attributes, CROSS_ZONE)
    rest = {k: v for k, v in attributes.items() if k not in (DELETION_PROTECTION, CROSS_ZONE)}
    if rest:
        result["aws_load_balancer_attributes"] = rest
    return result


def _tg_attributes(raw: str) -> dict[str, Any]:
    attributes = string_map(raw)
    unknown = sorted(set(attributes) - TARGET_GROUP_ATTRIBUTES)
    if unknown:
        raise ParseError(
            "key=value pairs with keys among " + ", ".join(sorted(TARGET_GROUP_ATTRIBUTES))
        )
    result: dict[str, Any] = {}
    if PROXY_PROTOCOL in attributes:
        result["proxy_protocol"] = _attribute_bool(attributes, PROXY_PROTOCOL)
    rest = {k: v for k, v in attributes.items() if k != PROXY_PROTOCOL}
    if rest:
        result["backend_attributes"] = rest
    return result


def _a(name: str) -> str:
    return SERVICE + "aws-load-balancer-" + name


ANNOTATIONS = AnnotationSet(
    aliases=(
        alias(_a("nlb-target-type"), "target_type", _target_type, "instance, ip"),
        Alias(key=LB_TYPE, expand=_lb_type, accepted="external, nlb-ip", fields=("target_type",)),
        alias(
            _a("scheme"),
            "scheme",
            choice("internet-facing", "internal"),
            "internet-facing, internal",
        ),
        alias(_a("name"), "load_balancer_name", lambda raw: raw.strip(), "a load balancer name"),
        alias(_a("subnets"), "subnets", string_list, "subnet ids or Name tags"),
        alias(
            _a("ip-address-type"), "ip_address_type", choice("ipv4", "dualstack"), "ipv4, dualstack"
        ),
        alias(_a("ssl-cert"), "tls_certificates", string_list, "certificate ARNs"),
        alias(_a("ssl-ports"), "tls_ports", string_list, "port numbers or names, or *"),
        alias(
            _a("ssl-negotiation-policy"),
            "tls_policy",
            lambda raw: raw.strip(),
            "an ELB security policy name",
        ),
        alias(_a("backend-protocol"), "backend_protocol", _backend_protocol, "tcp, ssl"),
        alias(
            _a("healthcheck-protocol"),
            "healthcheck_protocol",
            lambda raw: choice("tcp", "http", "https")(raw.strip().lower()),
            "TCP, HTTP, HTTPS",
        ),
        alias(_a("healthcheck-port"), "healthcheck_port", health_port, "traffic-port or 1-65535"),
        alias(_a("healthcheck-path"), "healthcheck_path", http_path, "a path starting with /"),
        alias(
            _a("healthcheck-healthy-threshold"),
            "healthcheck_healthy_threshold",
            integer(2, 10),
            "2-10",
        ),
        alias(
            _a("healthcheck-unhealthy-threshold"),
            "healthcheck_unhealthy_threshold",
            integer(2, 10),
            "2-10",
        ),
        alias(_a("healthcheck-timeout"), "healthcheck_timeout", integer(2, 120), "2-120"),
        alias(_a("healthcheck-interval"), "healthcheck_interval", integer(5, 300), "5-300"),
        alias(
            _a("healthcheck-success-codes"),
            "healthcheck_success_codes",
            success_codes,
            "200, 200,202, 200-399",
        ),
        alias(_a("proxy-protocol"), "proxy_protocol", _proxy_protocol, '"*"'),
        Alias(
            key=_a("target-group-attributes"),
            expand=_tg_attributes,
            accepted="key=value pairs of NLB target group attributes",
            fields=("proxy_protocol", "backend_attributes"),
        ),
        Alias(
            key=_a("attributes"),
            expand=_lb_attributes,
            accepted="key=value pairs of NLB attributes",
            fields=("deletion_protection", "cross_zone", "aws_load_balancer_attributes"),
        ),
        alias(_a("additional-resource-tags"), "tags", string_map, "key=value pairs"),
        alias(
            _a("security-groups"), "security_groups", string_list, "security group ids or Name tags"
        ),
        alias(
            _a("manage-backend-security-group-rules"),
            "manage_backend_security_group_rules",
            boolean,
            "true, false",
        ),
        alias(_a("target-node-labels"), "target_node_labels", string_map, "key=value pairs"),
        alias(
            SERVICE + "load-balancer-source-ranges",
            "source_ranges",
            cidr_list,
            "comma-separated CIDRs",
        ),
    ),
    unsupported={
        _a("eip-allocations"): "remove it to get addresses chosen by AWS",
        _a("private-ipv4-addresses"): "remove it to get addresses chosen by AWS",
        _a("ipv6-addresses"): "remove it to get addresses chosen by AWS",
        _a("alpn-policy"): "remove it; TLS listeners offer no ALPN policy",
        _a("security-group-prefix-lists"): "list the CIDRs in provisioner.io/source-ranges",
    },
    settings=(
        Setting(
            name="aws-load-balancer-attributes",
            field="aws_load_balancer_attributes",
            parse=lambda raw: _lb_attributes(raw).get("aws_load_balancer_attributes", {}),
            accepted="key=value pairs of NLB attributes",
            default="none",
            description="Other NLB attributes (access logs, ...), AWS only.",
        ),
    ),
)
