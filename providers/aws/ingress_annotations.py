"""The AWS Load Balancer Controller's Ingress annotations, mapped onto the portable fields.

Manifests written for that controller keep working: each `alb.ingress.kubernetes.io/` name
below sets the same field as the matching `provisioner.io/` key, on the Ingress or (for the
settings that describe a backend) on the Service it routes to.

What only AWS understands goes to `options["aws"]`, under the keys the provider already reads
for Services:
- `aws_load_balancer_attributes`: ALB attributes other than deletion protection (which is the
  model's `deletion_protection`), checked here against `ALB_LOAD_BALANCER_ATTRIBUTES`;
- `manage_backend_security_group_rules`: whether to open the node security group.
Target group attributes are the model's `Backend.attributes`, checked here against
`ALB_TARGET_GROUP_ATTRIBUTES`.

Routes are refused here, before any cloud call, when an ALB cannot match them exactly: a path
pattern holds at most 128 characters of a fixed set, `*` and `?` are always wildcards (so an
Exact or Prefix path cannot contain them), and a host header needs a dot.
"""

from __future__ import annotations

import re
from typing import Any

from providers.aws.application import ALB_LOAD_BALANCER_ATTRIBUTES, ALB_TARGET_GROUP_ATTRIBUTES
from provisioner.annotations import (
    Alias,
    AnnotationSet,
    ParseError,
    Setting,
    alias,
    boolean,
    choice,
    cidr_list,
    group_name,
    health_port,
    http_path,
    integer,
    listen_ports,
    port_number,
    response_codes,
    string_list,
    string_map,
)

INGRESS = "alb.ingress.kubernetes.io/"
DELETION_PROTECTION = "deletion_protection.enabled"

PATH_PATTERN_LENGTH = 128
_PATH_CHARS = re.compile(r"^[A-Za-z0-9_\-.$/~\"'@:+&*?]*$")
_HOST_CHARS = re.compile(r"^[A-Za-z0-9\-.*?]+$")


def _attributes(raw: str, known: frozenset[str], what: str) -> dict[str, str]:
    attributes = string_map(raw)
    unknown = sorted(set(attributes) - known)
    if unknown:
        raise ParseError(
            f"key=value pairs of {what} ({unknown[0]!r} is not one); keys: "
            + ", ".join(sorted(known))
        )
    return attributes


def _lb_attributes(raw: str) -> dict[str, Any]:
    """Deletion protection is a model field; the rest stays AWS-only."""
    attributes = _attributes(raw, ALB_LOAD_BALANCER_ATTRIBUTES, "ALB attributes")
    result: dict[str, Any] = {}
    if DELETION_PROTECTION in attributes:
        result["deletion_protection"] = boolean(attributes[DELETION_PROTECTION])
    rest = {k: v for k, v in attributes.items() if k != DELETION_PROTECTION}
    if rest:
        result["aws_load_balancer_attributes"] = rest
    return result


def _tg_attributes(raw: str) -> dict[str, str]:
    return _attributes(raw, ALB_TARGET_GROUP_ATTRIBUTES, "ALB target group attributes")


def _lower(*values: str) -> Any:
    accepted = choice(*values)
    return lambda raw: accepted(raw.strip().lower())


def check_host(host: str) -> None:
    """An ALB host-header condition value: a dot, at most 128 of its characters."""
    if "." not in host or len(host) > PATH_PATTERN_LENGTH or not _HOST_CHARS.match(host):
        raise ParseError(
            "a host name with at least one dot, at most 128 characters (an ALB host-header "
            "condition cannot match anything else)"
        )


def check_path(path: str, path_type: str) -> None:
    """What an ALB path-pattern condition can match exactly."""
    longest = len(path) + 2 if path_type == "prefix" else len(path)  # prefix adds `/*`
    if longest > PATH_PATTERN_LENGTH:
        raise ParseError(
            f"at most {PATH_PATTERN_LENGTH} characters in an ALB path pattern "
            "(a Prefix path needs two more, for /*)"
        )
    if not _PATH_CHARS.match(path):
        raise ParseError("letters, digits and _-.$/~\"'@:+& (an ALB path pattern allows no other)")
    if path_type != "glob" and ("*" in path or "?" in path):
        raise ParseError(
            "no * or ? in an Exact or Prefix path (an ALB reads them as wildcards); "
            "use pathType ImplementationSpecific for a glob"
        )


def _a(name: str) -> str:
    return INGRESS + name


INGRESS_ANNOTATIONS = AnnotationSet(
    aliases=(
        alias(_a("scheme"), "scheme", choice("internet-facing", "internal"), "internet-facing"),
        alias(_a("target-type"), "target_type", choice("instance", "ip"), "instance, ip"),
        alias(
            _a("listen-ports"),
            "listen_ports",
            listen_ports,
            'JSON such as [{"HTTP": 80}, {"HTTPS": 443}]',
        ),
        alias(_a("certificate-arn"), "tls_certificates", string_list, "certificate ARNs"),
        alias(_a("ssl-policy"), "tls_policy", lambda raw: raw.strip(), "an ELB security policy"),
        alias(_a("ssl-redirect"), "ssl_redirect", port_number, "an HTTPS listen port"),
        alias(_a("group.name"), "group_name", group_name, "a group name"),
        alias(_a("group.order"), "group_order", integer(-1000, 1000), "-1000 to 1000"),
        alias(_a("backend-protocol"), "backend_protocol", _lower("http", "https"), "HTTP, HTTPS"),
        alias(
            _a("backend-protocol-version"),
            "backend_protocol_version",
            choice("HTTP1", "HTTP2", "GRPC"),
            "HTTP1, HTTP2, GRPC",
        ),
        alias(
            _a("healthcheck-protocol"),
            "healthcheck_protocol",
            _lower("http", "https"),
            "HTTP, HTTPS",
        ),
        alias(_a("healthcheck-port"), "healthcheck_port", health_port, "traffic-port or 1-65535"),
        alias(_a("healthcheck-path"), "healthcheck_path", http_path, "a path starting with /"),
        alias(_a("healthcheck-interval-seconds"), "healthcheck_interval", integer(5, 300), "5-300"),
        alias(_a("healthcheck-timeout-seconds"), "healthcheck_timeout", integer(2, 120), "2-120"),
        alias(
            _a("healthy-threshold-count"), "healthcheck_healthy_threshold", integer(2, 10), "2-10"
        ),
        alias(
            _a("unhealthy-threshold-count"),
            "healthcheck_unhealthy_threshold",
            integer(2, 10),
            "2-10",
        ),
        alias(_a("success-codes"), "healthcheck_success_codes", response_codes, "200, 200-399"),
        alias(_a("inbound-cidrs"), "source_ranges", cidr_list, "comma-separated CIDRs"),
        alias(_a("security-groups"), "security_groups", string_list, "security group ids or names"),
        alias(
            _a("manage-backend-security-group-rules"),
            "manage_backend_security_group_rules",
            boolean,
            "true, false",
        ),
        alias(_a("subnets"), "subnets", string_list, "subnet ids or Name tags"),
        alias(_a("tags"), "tags", string_map, "key=value pairs"),
        alias(_a("load-balancer-name"), "load_balancer_name", lambda raw: raw.strip(), "a name"),
        alias(_a("ip-address-type"), "ip_address_type", choice("ipv4", "dualstack"), "ipv4"),
        Alias(
            key=_a("load-balancer-attributes"),
            expand=_lb_attributes,
            accepted="key=value pairs of ALB attributes",
            fields=("deletion_protection", "aws_load_balancer_attributes"),
        ),
        alias(
            _a("target-group-attributes"),
            "backend_attributes",
            _tg_attributes,
            "key=value pairs of ALB target group attributes",
        ),
        alias(_a("target-node-labels"), "target_node_labels", string_map, "key=value pairs"),
    ),
    settings=(
        Setting(
            name="aws-load-balancer-attributes",
            field="aws_load_balancer_attributes",
            parse=lambda raw: _lb_attributes(raw).get("aws_load_balancer_attributes", {}),
            accepted="key=value pairs of ALB attributes",
            default="none",
            description="Other ALB attributes (access logs, idle timeout, ...), AWS only.",
        ),
    ),
    unsupported={
        _a("auth-type"): "remove it; authentication on the load balancer is not offered",
        _a("wafv2-acl-arn"): "remove it and associate the web ACL outside the provisioner",
        _a("waf-acl-id"): "remove it and associate the web ACL outside the provisioner",
        _a("shield-advanced-protection"): "remove it; Shield is managed outside the provisioner",
        _a("customer-owned-ipv4-pool"): "remove it to get addresses chosen by AWS",
        _a("security-group-prefix-lists"): "list the CIDRs in provisioner.io/source-ranges",
        _a("mutual-authentication"): "remove it; mutual TLS is not offered",
        "provisioner.io/backend-timeout": "on AWS set idle_timeout.timeout_seconds in "
        "provisioner.io/aws-load-balancer-attributes",
    },
    unsupported_prefixes={
        _a("actions."): "route with spec.rules (and defaultBackend) instead of custom actions",
        _a("conditions."): "route with spec.rules hosts and paths instead of custom conditions",
        _a("listener-attributes."): "remove it; listener attributes are not offered",
    },
    class_params={"loadBalancerAttributes": _a("load-balancer-attributes")},
    host_check=check_host,
    path_check=check_path,
)
