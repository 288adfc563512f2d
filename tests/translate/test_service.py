"""Service -> model: defaults, listeners, targets and every error path."""

from __future__ import annotations

from typing import Any

import pytest

from providers.aws.annotations import ANNOTATIONS
from provisioner.annotations import SpecError
from provisioner.model import (
    Forward,
    HealthCheck,
    IpFamily,
    LoadBalancer,
    Protocol,
    Scheme,
    Target,
    TargetType,
)
from provisioner.translate.service import DEFAULT_TLS_POLICY, ServiceContext, build_service
from tests.translate.builders import endpoint, endpoint_slice, node, pod, service

NODES = [
    node("n1", zone="us-east-1a", instance="i-1"),
    node("n2", zone="us-east-1b", instance="i-2"),
]


def build(svc: dict[str, Any], **context: Any) -> LoadBalancer:
    context.setdefault("nodes", NODES)
    return build_service(
        svc, context=ServiceContext(provider="aws", annotations=ANNOTATIONS, **context)
    )


def test_defaults_follow_the_design_table() -> None:
    lb = build(service())
    assert lb.key == "Service/default/web"
    assert lb.scheme is Scheme.INTERNAL
    assert lb.ip_family is IpFamily.IPV4
    assert lb.source_ranges == ("0.0.0.0/0",)
    (listener,) = lb.listeners
    assert (listener.port, listener.protocol, listener.tls) == (80, Protocol.TCP, None)
    (backend,) = lb.backends
    assert backend.id == "default/web:80"
    assert backend.target_type is TargetType.INSTANCE
    assert backend.port == 30080
    assert backend.health_check == HealthCheck()
    assert backend.targets == {
        Target("i-1", 30080, "us-east-1a"),
        Target("i-2", 30080, "us-east-1b"),
    }
    assert listener.default == Forward(backends=(listener.default.backends[0],))


def test_dualstack_defaults_open_both_families() -> None:
    lb = build(service(annotations={"provisioner.io/ip-address-type": "dualstack"}))
    assert lb.source_ranges == ("0.0.0.0/0", "::/0")


@pytest.mark.parametrize(
    ("annotations", "field", "expected"),
    [
        ({"provisioner.io/scheme": "internet-facing"}, "scheme", Scheme.INTERNET_FACING),
        (
            {"service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing"},
            "scheme",
            Scheme.INTERNET_FACING,
        ),
        ({"provisioner.io/load-balancer-name": "my-nlb"}, "name", "my-nlb"),
        ({"service.beta.kubernetes.io/aws-load-balancer-name": "my-nlb"}, "name", "my-nlb"),
        ({"provisioner.io/subnets": "subnet-1, subnet-2"}, "subnets", ("subnet-1", "subnet-2")),
        ({"provisioner.io/security-groups": "sg-1"}, "security_groups", ("sg-1",)),
        ({"provisioner.io/deletion-protection": "true"}, "deletion_protection", True),
        (
            {
                "service.beta.kubernetes.io/aws-load-balancer-attributes": (
                    "deletion_protection.enabled=true,load_balancing.cross_zone.enabled=true"
                )
            },
            "cross_zone",
            True,
        ),
        ({"provisioner.io/source-ranges": "10.0.0.0/8"}, "source_ranges", ("10.0.0.0/8",)),
        (
            {"service.beta.kubernetes.io/load-balancer-source-ranges": "10.1.0.0/16"},
            "source_ranges",
            ("10.1.0.0/16",),
        ),
    ],
)
def test_portable_and_aws_annotations_set_the_same_fields(
    annotations: dict[str, str], field: str, expected: object
) -> None:
    assert getattr(build(service(annotations=annotations)), field) == expected


def test_aws_attributes_leave_the_rest_as_aws_options() -> None:
    lb = build(
        service(
            annotations={
                "service.beta.kubernetes.io/aws-load-balancer-attributes": (
                    "access_logs.s3.enabled=true,access_logs.s3.bucket=logs"
                ),
            }
        )
    )
    assert dict(lb.options["aws"]["aws_load_balancer_attributes"]) == {
        "access_logs.s3.enabled": "true",
        "access_logs.s3.bucket": "logs",
    }


def test_health_check_settings_from_both_vocabularies() -> None:
    lb = build(
        service(
            annotations={
                "service.beta.kubernetes.io/aws-load-balancer-healthcheck-protocol": "HTTP",
                "provisioner.io/healthcheck-path": "/ready",
                "provisioner.io/healthcheck-port": "8081",
                "service.beta.kubernetes.io/aws-load-balancer-healthcheck-interval": "30",
                "provisioner.io/healthcheck-timeout": "5",
                "provisioner.io/healthcheck-healthy-threshold": "2",
                "provisioner.io/healthcheck-unhealthy-threshold": "4",
                "provisioner.io/healthcheck-success-codes": "200",
            }
        )
    )
    assert lb.backends[0].health_check == HealthCheck(
        protocol=Protocol.HTTP,
        port=8081,
        path="/ready",
        healthy_threshold=2,
        unhealthy_threshold=4,
        timeout_seconds=5,
        interval_seconds=30,
        success_codes="200",
    )


def test_local_traffic_policy_checks_the_health_check_node_port() -> None:
    lb = build(service(externalTrafficPolicy="Local", healthCheckNodePort=32000))
    check = lb.backends[0].health_check
    assert (check.protocol, check.port, check.path) == (Protocol.HTTP, 32000, "/healthz")


def test_proxy_protocol_and_target_group_attributes() -> None:
    lb = build(
        service(
            annotations={
                "service.beta.kubernetes.io/aws-load-balancer-proxy-protocol": "*",
                "service.beta.kubernetes.io/aws-load-balancer-target-group-attributes": (
                    "deregistration_delay.timeout_seconds=30"
                ),
            }
        )
    )
    backend = lb.backends[0]
    assert backend.proxy_protocol is True
    assert dict(backend.attributes) == {"deregistration_delay.timeout_seconds": "30"}


def test_tcp_and_udp_on_one_port_become_tcp_udp() -> None:
    lb = build(
        service(
            ports=[
                {"name": "dns-udp", "port": 53, "protocol": "UDP", "nodePort": 30053},
                {"name": "dns-tcp", "port": 53, "protocol": "TCP", "nodePort": 30053},
            ]
        )
    )
    assert [(lst.port, lst.protocol) for lst in lb.listeners] == [(53, Protocol.TCP_UDP)]
    assert lb.backends[0].protocol is Protocol.TCP_UDP


def test_tls_on_the_tls_ports_only() -> None:
    lb = build(
        service(
            annotations={
                "service.beta.kubernetes.io/aws-load-balancer-ssl-cert": "arn:cert/a,arn:cert/b",
                "service.beta.kubernetes.io/aws-load-balancer-ssl-ports": "https",
            },
            ports=[
                {"name": "http", "port": 80, "nodePort": 30080},
                {"name": "https", "port": 443, "nodePort": 30443},
            ],
        )
    )
    by_port = {lst.port: lst for lst in lb.listeners}
    assert by_port[80].protocol is Protocol.TCP and by_port[80].tls is None
    assert by_port[443].protocol is Protocol.TLS
    assert by_port[443].tls is not None
    assert by_port[443].tls.certificates == ("arn:cert/a", "arn:cert/b")
    assert by_port[443].tls.policy == DEFAULT_TLS_POLICY
    assert lb.backend("default/web:443").protocol is Protocol.TCP


def test_tls_backend_protocol() -> None:
    lb = build(
        service(
            annotations={
                "provisioner.io/tls-certificates": "arn:cert/a",
                "service.beta.kubernetes.io/aws-load-balancer-backend-protocol": "ssl",
            }
        )
    )
    assert lb.backends[0].protocol is Protocol.TLS


def test_instance_targets_follow_the_node_rules() -> None:
    nodes = [
        node("ok", instance="i-ok"),
        node("excluded", labels={"node.kubernetes.io/exclude-from-external-load-balancers": ""}),
        node("cp", labels={"node-role.kubernetes.io/control-plane": ""}),
        node("going", taints=[{"key": "ToBeDeletedByClusterAutoscaler", "effect": "NoSchedule"}]),
        node("unregistered", provider_id=None),
    ]
    lb = build(service(), nodes=nodes)
    assert {t.address for t in lb.backends[0].targets} == {"i-ok"}
    assert [n.name for n in lb.nodes] == ["ok"]


def test_target_node_labels_narrow_instance_targets() -> None:
    nodes = [node("a", instance="i-a", labels={"pool": "edge"}), node("b", instance="i-b")]
    lb = build(service(annotations={"provisioner.io/target-node-labels": "pool=edge"}), nodes=nodes)
    assert {t.address for t in lb.backends[0].targets} == {"i-a"}
    assert len(lb.nodes) == 2


def test_ip_targets_from_endpoint_slices() -> None:
    slices = [
        endpoint_slice(
            "web",
            ports=[{"name": "http", "port": 8080, "protocol": "TCP"}],
            endpoints=[
                endpoint("10.1.0.1"),
                endpoint("10.1.0.2", ready=None),
                endpoint("10.1.0.3", ready=False, serving=True),
                endpoint("10.1.0.4", ready=True, terminating=True),
            ],
        ),
        endpoint_slice(
            "other", ports=[{"name": "http", "port": 8080}], endpoints=[endpoint("10.9.9.9")]
        ),
    ]
    lb = build(
        service(
            annotations={"provisioner.io/target-type": "ip"},
            ports=[{"name": "http", "port": 80, "targetPort": "http"}],
        ),
        endpoint_slices=slices,
    )
    backend = lb.backends[0]
    assert backend.target_type is TargetType.IP
    assert {(t.address, t.port) for t in backend.targets} == {
        ("10.1.0.1", 8080),
        ("10.1.0.2", 8080),
    }
    assert backend.port == 8080


def test_ip_targets_from_pods_resolve_named_ports() -> None:
    pods = [
        pod(
            "a", "10.2.0.1", labels={"app": "web"}, ports=[{"name": "http", "containerPort": 9090}]
        ),
        pod(
            "b",
            "10.2.0.2",
            labels={"app": "web"},
            ready=False,
            ports=[{"name": "http", "containerPort": 9090}],
        ),
        pod(
            "c",
            "10.2.0.3",
            labels={"app": "other"},
            ports=[{"name": "http", "containerPort": 9090}],
        ),
    ]
    lb = build(
        service(
            annotations={"provisioner.io/target-type": "ip"},
            ports=[{"port": 80, "targetPort": "http"}],
        ),
        pods=pods,
    )
    assert {(t.address, t.port) for t in lb.backends[0].targets} == {("10.2.0.1", 9090)}


ERRORS: list[tuple[str, dict[str, Any], list[str]]] = [
    (
        "bad target type",
        {"annotations": {"provisioner.io/target-type": "pod"}},
        ["provisioner.io/target-type", "'pod'", "instance, ip"],
    ),
    (
        "bad scheme alias",
        {"annotations": {"service.beta.kubernetes.io/aws-load-balancer-scheme": "public"}},
        ["aws-load-balancer-scheme", "'public'", "internet-facing, internal"],
    ),
    (
        "disagreeing vocabularies",
        {
            "annotations": {
                "provisioner.io/scheme": "internal",
                "service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing",
            }
        },
        ["provisioner.io/scheme", "aws-load-balancer-scheme", "disagree"],
    ),
    (
        "unknown portable key",
        {"annotations": {"provisioner.io/shceme": "internal"}},
        ["provisioner.io/shceme", "unknown"],
    ),
    (
        "reserved tag",
        {"annotations": {"provisioner.io/tags": "provisioner.io/owner=x"}},
        ["provisioner.io/owner", "reserved"],
    ),
    (
        "bad interval",
        {"annotations": {"provisioner.io/healthcheck-interval": "1"}},
        ["healthcheck-interval", "'1'", "5 to 300"],
    ),
    (
        "bad cidr",
        {"annotations": {"provisioner.io/source-ranges": "10.0.0.0/33"}},
        ["source-ranges", "10.0.0.0/33"],
    ),
    (
        "bad spec cidr",
        {"loadBalancerSourceRanges": ["nope"]},
        ["spec.loadBalancerSourceRanges[0]", "'nope'"],
    ),
    (
        "unknown tg attribute",
        {
            "annotations": {
                "service.beta.kubernetes.io/aws-load-balancer-target-group-attributes": "foo=1"
            }
        },
        ["target-group-attributes", "foo=1"],
    ),
    ("missing node port", {"ports": [{"port": 80}]}, ["spec.ports[0].nodePort", "target-type: ip"]),
    (
        "duplicate port",
        {"ports": [{"port": 80, "nodePort": 30001}, {"port": 80, "nodePort": 30002}]},
        ["spec.ports[1]", "80/TCP", "twice"],
    ),
    (
        "tcp_udp with two node ports",
        {
            "ports": [
                {"port": 53, "protocol": "UDP", "nodePort": 30001},
                {"port": 53, "protocol": "TCP", "nodePort": 30002},
            ]
        },
        ["TCP_UDP", "30001", "30002"],
    ),
    (
        "sctp",
        {"ports": [{"port": 80, "protocol": "SCTP", "nodePort": 30001}]},
        ["spec.ports[0].protocol", "SCTP", "TCP, UDP"],
    ),
    (
        "local without health check node port",
        {"externalTrafficPolicy": "Local"},
        ["spec.healthCheckNodePort", "target-type: ip"],
    ),
    (
        "tls port unknown",
        {
            "annotations": {
                "provisioner.io/tls-certificates": "arn:c",
                "provisioner.io/tls-ports": "8443",
            }
        },
        ["tls-ports", "'8443'", "http"],
    ),
    ("no ports", {"ports": []}, ["spec.ports", "at least one"]),
    (
        "unsupported aws annotation",
        {"annotations": {"service.beta.kubernetes.io/aws-load-balancer-eip-allocations": "e-1"}},
        ["aws-load-balancer-eip-allocations", "not supported", "remove it"],
    ),
    (
        "proxy protocol alias",
        {"annotations": {"service.beta.kubernetes.io/aws-load-balancer-proxy-protocol": "yes"}},
        ["aws-load-balancer-proxy-protocol", "'yes'"],
    ),
]


@pytest.mark.parametrize(("case", "changes", "fragments"), ERRORS, ids=[e[0] for e in ERRORS])
def test_invalid_services_name_the_field_value_and_what_is_accepted(
    case: str, changes: dict[str, Any], fragments: list[str]
) -> None:
    kwargs = dict(changes)
    svc = service(
        annotations=kwargs.pop("annotations", None), ports=kwargs.pop("ports", None), **kwargs
    )
    with pytest.raises(SpecError) as caught:
        build(svc)
    for fragment in fragments:
        assert fragment in str(caught.value), (case, str(caught.value))
