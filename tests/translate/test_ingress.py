"""Ingress translation: selection, annotations, class parameters, groups and bad input."""

from __future__ import annotations

from typing import Any

import pytest

from provisioner.model import FixedResponse, Forward, Kind, Protocol, Redirect, Scheme, TargetType
from provisioner.translate.selection import ingress_class_of
from tests.translate.alb import desired, keys, load_balancer
from tests.translate.builders import (
    backend,
    class_params,
    endpoint,
    endpoint_slice,
    ingress,
    ingress_class,
    node_port_service,
    path,
    rule,
)

ALB = "alb.ingress.kubernetes.io/"
CERT = "arn:aws:acm:us-east-1:1:certificate/a"
WEB = node_port_service("web")
KEY = "Ingress/default/site"


def _ours(obj: dict[str, Any], classes: list[dict[str, Any]]) -> str | None:
    return ingress_class_of(
        obj, classes=classes, controller="provisioner.io/alb", legacy_classes=("alb",)
    )


def test_which_ingresses_are_ours() -> None:
    ours, other = ingress_class("mine"), ingress_class("nginx", controller="k8s.io/nginx")
    assert _ours(ingress(class_name="mine"), [ours, other]) == "mine"
    assert _ours(ingress(class_name="nginx"), [ours, other]) is None
    assert _ours(ingress(class_name="missing"), [ours]) is None
    legacy = ingress(class_name=None, annotations={"kubernetes.io/ingress.class": "alb"})
    assert _ours(legacy, []) == "alb"
    legacy["metadata"]["annotations"]["kubernetes.io/ingress.class"] = "nginx"
    assert _ours(legacy, [ingress_class("x", default=True)]) is None
    classless = ingress(class_name=None)
    assert _ours(classless, [ours]) is None
    assert _ours(classless, [ingress_class("d", default=True)]) == "d"
    assert _ours(classless, [ingress_class("d", default=True, controller="other")]) is None
    deleting = ingress(class_name="mine")
    deleting["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    assert _ours(deleting, [ours]) is None


def test_keys_of_a_view() -> None:
    grouped = ingress("b", annotations={ALB + "group.name": "shop"})
    foreign = ingress("c", class_name="nginx")
    assert keys(WEB, ingress("a"), grouped, foreign) == [
        "Ingress/default/a",
        "Ingress/default/c",
        "IngressGroup/shop",
        "Service/default/web",
    ]


def test_defaults() -> None:
    lb = load_balancer(KEY, WEB, ingress())
    assert lb.kind is Kind.APPLICATION and lb.scheme is Scheme.INTERNAL
    assert [(listener.port, listener.protocol) for listener in lb.listeners] == [
        (80, Protocol.HTTP)
    ]
    assert lb.listeners[0].default == FixedResponse(status_code=404)
    (web,) = lb.backends
    assert web.id == "default/web:80" and web.target_type is TargetType.INSTANCE
    assert web.port == 30080 and web.protocol is Protocol.HTTP and web.protocol_version == "HTTP1"
    check = web.health_check
    assert (check.protocol, check.port, check.path, check.success_codes) == (
        Protocol.HTTP,
        None,
        "/",
        "200",
    )
    assert (check.interval_seconds, check.timeout_seconds) == (15, 5)
    assert lb.source_ranges == ("0.0.0.0/0",)


def test_certificates_default_to_https_443_and_ssl_redirect() -> None:
    lb = load_balancer(KEY, WEB, ingress(annotations={ALB + "certificate-arn": CERT}))
    (listener,) = lb.listeners
    assert (listener.port, listener.protocol) == (443, Protocol.HTTPS)
    assert listener.tls is not None and listener.tls.certificates == (CERT,)
    assert listener.tls.policy == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    redirect = {
        ALB + "certificate-arn": f"{CERT},{CERT}2",
        ALB + "listen-ports": '[{"HTTP": 80}, {"HTTPS": 443}]',
        ALB + "ssl-redirect": "443",
        ALB + "ssl-policy": "ELBSecurityPolicy-FS-1-2-2019-08",
    }
    http, https = load_balancer(KEY, WEB, ingress(annotations=redirect)).listeners
    assert http.default == Redirect(status_code=301, protocol="HTTPS", port=443)
    assert http.routes == ()
    assert https.tls is not None and https.tls.certificates == (CERT, CERT + "2")
    assert https.tls.policy == "ELBSecurityPolicy-FS-1-2-2019-08" and https.routes


def test_aliases_and_portable_keys_set_the_same_fields() -> None:
    annotations = {
        ALB + "scheme": "internet-facing",
        ALB + "target-type": "ip",
        ALB + "backend-protocol": "HTTPS",
        ALB + "backend-protocol-version": "GRPC",
        ALB + "healthcheck-interval-seconds": "30",
        ALB + "success-codes": "0-99",
        ALB + "inbound-cidrs": "10.0.0.0/8",
        ALB + "tags": "team=web",
        ALB + "load-balancer-attributes": "deletion_protection.enabled=true,"
        "idle_timeout.timeout_seconds=120",
        ALB + "target-group-attributes": "deregistration_delay.timeout_seconds=5",
        "provisioner.io/subnets": "subnet-1,subnet-2",
    }
    slices = endpoint_slice(
        "web", ports=[{"name": "http", "port": 8080}], endpoints=[endpoint("10.0.0.9")]
    )
    lb = load_balancer(KEY, WEB, slices, ingress(annotations=annotations))
    assert lb.scheme is Scheme.INTERNET_FACING and lb.source_ranges == ("10.0.0.0/8",)
    assert dict(lb.tags) == {"team": "web"} and lb.subnets == ("subnet-1", "subnet-2")
    assert lb.deletion_protection
    assert dict(lb.options["aws"]["aws_load_balancer_attributes"]) == {
        "idle_timeout.timeout_seconds": "120"
    }
    (web,) = lb.backends
    assert web.target_type is TargetType.IP and web.port == 8080
    assert {t.address for t in web.targets} == {"10.0.0.9"}
    assert web.protocol is Protocol.HTTPS and web.protocol_version == "GRPC"
    assert web.health_check.interval_seconds == 30 and web.health_check.success_codes == "0-99"
    assert web.health_check.path == "/AWS.ALB/healthcheck"
    assert dict(web.attributes) == {"deregistration_delay.timeout_seconds": "5"}


def test_portable_and_alias_disagreeing_is_an_error_naming_both() -> None:
    site = ingress(
        annotations={"provisioner.io/scheme": "internal", ALB + "scheme": "internet-facing"}
    )
    found = desired(KEY, WEB, site)
    assert found.error and "provisioner.io/scheme" in found.error and ALB + "scheme" in found.error


def test_the_service_wins_for_backend_settings() -> None:
    svc = node_port_service(
        "web", annotations={ALB + "healthcheck-path": "/svc", ALB + "target-type": "instance"}
    )
    site = ingress(annotations={ALB + "healthcheck-path": "/ing", ALB + "target-type": "ip"})
    (web,) = load_balancer(KEY, svc, site).backends
    assert web.health_check.path == "/svc" and web.target_type is TargetType.INSTANCE


def test_class_params_override_annotations() -> None:
    params = class_params(
        scheme="internet-facing",
        inboundCIDRs=["10.1.0.0/16"],
        certificates=[CERT],
        subnets={"tags": {"kubernetes.io/role/elb": ["1"]}},
        tags={"team": "platform"},
        group={"name": "fixed"},
        providers={"aws": {"loadBalancerAttributes": {"idle_timeout.timeout_seconds": "30"}}},
    )
    site = ingress(
        class_name="p",
        annotations={ALB + "scheme": "internal", ALB + "tags": "team=web,app=x"},
    )
    objects = (WEB, ingress_class("p", params="params"), params, site)
    assert keys(*objects) == ["IngressGroup/fixed", "Service/default/web"]
    lb = load_balancer("IngressGroup/fixed", *objects)
    assert lb.scheme is Scheme.INTERNET_FACING and lb.source_ranges == ("10.1.0.0/16",)
    assert dict(lb.tags) == {"team": "platform", "app": "x"}
    assert lb.subnet_tags == {"kubernetes.io/role/elb": ("1",)}
    assert lb.listeners[0].protocol is Protocol.HTTPS
    assert dict(lb.options["aws"]["aws_load_balancer_attributes"]) == {
        "idle_timeout.timeout_seconds": "30"
    }


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"scheme": "public"}, "spec.scheme"),
        ({"inboundCIDRs": ["nope"]}, "spec.inboundCIDRs"),
        ({"subnets": {"ids": ["a"], "tags": {"b": ["c"]}}}, "spec.subnets"),
        ({"providers": {"aws": {"loadBalancerAttributes": {"bogus": "1"}}}}, "bogus"),
    ],
)
def test_invalid_class_params_are_an_error_on_every_member(
    spec: dict[str, Any], field: str
) -> None:
    objects = (
        WEB,
        ingress_class("p", params="params"),
        class_params(**spec),
        ingress(class_name="p"),
    )
    found = desired(KEY, *objects)
    assert found.desired is None and found.error and field in found.error


def _member(
    name: str, namespace: str = "default", created: str = "", **annotations: str
) -> dict[str, Any]:
    values = {
        ALB + "group.name": "g",
        **{ALB + k.replace("_", "-"): v for k, v in annotations.items()},
    }
    return ingress(
        name,
        namespace=namespace,
        annotations=values,
        created=created or None,
        rules=[rule(f"{name}.io", path("/", "web"))],
    )


def test_group_exclusive_conflicts_name_setting_values_and_winner() -> None:
    older = _member("a", created="2026-01-01T00:00:00Z", scheme="internet-facing")
    younger = _member("b", created="2026-01-02T00:00:00Z", scheme="internal")
    found = desired("IngressGroup/g", WEB, older, younger)
    assert found.desired is not None and found.desired.scheme is Scheme.INTERNET_FACING
    assert list(found.member_errors) == ["Ingress/default/b"]
    message = found.member_errors["Ingress/default/b"]
    for part in ("scheme", "internal", "internet-facing", "default/a"):
        assert part in message
    assert found.desired.frozen == frozenset({"default/b"})
    assert [r.owner for r in found.desired.listeners[0].routes] == ["default/a"]


def test_group_merges_listen_ports_certificates_and_tags() -> None:
    one = _member("a", tags="x=1", certificate_arn=CERT, listen_ports='[{"HTTPS": 443}]')
    two = _member("b", "other", tags="y=2", listen_ports='[{"HTTP": 8080}]')
    services = [WEB, node_port_service("web", namespace="other")]
    lb = load_balancer("IngressGroup/g", *services, one, two)
    assert dict(lb.tags) == {"x": "1", "y": "2"}
    http, https = sorted(lb.listeners, key=lambda listener: listener.protocol.value)
    assert (http.port, https.port) == (8080, 443)
    assert [r.owner for r in http.routes] == ["other/b"]
    assert [r.owner for r in https.routes] == ["default/a"]


def test_a_member_under_another_class_is_frozen() -> None:
    first = _member("a", created="2026-01-01T00:00:00Z")
    second = _member("b", created="2026-01-02T00:00:00Z")
    second["spec"]["ingressClassName"] = "other"
    found = desired("IngressGroup/g", WEB, ingress_class("other"), first, second)
    assert "different class" in found.member_errors["Ingress/default/b"]
    assert found.desired is not None and found.desired.frozen == frozenset({"default/b"})


def test_every_member_in_error_writes_nothing() -> None:
    bad = _member("a")
    bad["metadata"]["annotations"][ALB + "group.order"] = "5000"
    found = desired("IngressGroup/g", WEB, bad)
    assert found.desired is None and found.error
    assert "-1000 to 1000" in found.member_errors["Ingress/default/a"]


@pytest.mark.parametrize(
    ("site", "needle"),
    [
        (ingress(annotations={ALB + "listen-ports": '[{"HTTP": "80"}]'}), ALB + "listen-ports"),
        (ingress(annotations={ALB + "listen-ports": "80"}), "JSON"),
        (ingress(annotations={ALB + "group.order": "1001"}), "-1000 to 1000"),
        (ingress(rules=[rule(None, path("/", "missing"))]), "Service default/missing not found"),
        (ingress(rules=[rule(None, path("/", "web", port=81))]), "no TCP port 81"),
        (ingress(rules=[rule(None, path("/a*", "web"))]), "cannot match Prefix path"),
        (ingress(rules=[rule(None, path("/" + "a" * 130, "web", kind="Exact"))]), "128"),
        (ingress(rules=[rule("localhost", path("/", "web"))]), "cannot match host"),
        (ingress(rules=[rule(None, path("relative", "web"))]), "absolute path"),
        (ingress(annotations={ALB + "listen-ports": '[{"HTTPS": 443}]'}), "needs a certificate"),
        (ingress(annotations={ALB + "ssl-redirect": "443"}), "not an HTTPS listen port"),
        (ingress(annotations={ALB + "actions.x": "{}"}), "not supported"),
        (ingress(annotations={"provisioner.io/proxy-protocol": "true"}), "unknown"),
        (ingress(default={"resource": {"kind": "Bucket", "name": "b"}}), "only Service backends"),
    ],
)
def test_bad_input_is_a_clear_error_and_writes_nothing(site: dict[str, Any], needle: str) -> None:
    found = desired(KEY, WEB, site)
    assert found.desired is None and found.error and needle in found.error, found.error


def test_instance_targets_need_a_node_port() -> None:
    cluster_ip = node_port_service("web")
    cluster_ip["spec"]["type"] = "ClusterIP"
    del cluster_ip["spec"]["ports"][0]["nodePort"]
    found = desired(KEY, cluster_ip, ingress())
    assert found.error and "nodePort" in found.error
    ip = ingress(annotations={ALB + "target-type": "ip"})
    assert load_balancer(KEY, cluster_ip, ip).backends[0].target_type is TargetType.IP


def test_one_service_port_with_both_target_types_gets_two_backends() -> None:
    one = _member("a", target_type="ip")
    two = _member("b", target_type="instance")
    lb = load_balancer("IngressGroup/g", WEB, one, two)
    assert sorted(b.id for b in lb.backends) == ["default/web:80@instance", "default/web:80@ip"]
    forwards = {
        r.owner: r.action.backends[0].backend_id
        for r in lb.listeners[0].routes
        if isinstance(r.action, Forward)
    }
    assert forwards == {"default/a": "default/web:80@ip", "default/b": "default/web:80@instance"}


def test_default_backend_is_exclusive() -> None:
    one = _member("a", created="2026-01-01T00:00:00Z")
    one["spec"]["defaultBackend"] = backend("web")
    two = _member("b", created="2026-01-02T00:00:00Z")
    two["spec"]["defaultBackend"] = backend("web", "http")
    found = desired("IngressGroup/g", WEB, one, two)
    assert "spec.defaultBackend" in found.member_errors["Ingress/default/b"]
    assert found.desired is not None
    assert found.desired.listeners[0].default == Forward(
        backends=found.desired.listeners[0].default.backends  # type: ignore[union-attr]
    )


def _with_tls(site: dict[str, Any], *hosts: str) -> dict[str, Any]:
    site["spec"]["tls"] = [{"hosts": list(hosts), "secretName": "site-tls"}]
    return site


def test_tls_hosts_are_carried_for_the_provider_to_decide() -> None:
    """An HTTPS port without certificates passes translation when spec.tls names hosts: a
    provider that can obtain certificates for them (GCP) does, the others refuse it."""
    https = {ALB + "listen-ports": '[{"HTTPS": 443}]'}
    site = _with_tls(ingress(annotations=https), "WWW.example.com", "api.example.com")
    (listener,) = load_balancer(KEY, WEB, site).listeners
    assert listener.tls is not None
    assert listener.tls.certificates == ()
    assert listener.tls.hosts == ("www.example.com", "api.example.com")
    found = desired(KEY, WEB, _with_tls(ingress(annotations=https)))
    assert found.error and "needs a certificate" in found.error


def test_tls_hosts_do_not_open_https_by_themselves() -> None:
    """Listen ports default to HTTP:80 unless certificates are named, whatever spec.tls says,
    so the same manifest gives the same listeners on every cloud."""
    lb = load_balancer(KEY, WEB, _with_tls(ingress(), "www.example.com"))
    assert [(x.port, x.protocol) for x in lb.listeners] == [(80, Protocol.HTTP)]
