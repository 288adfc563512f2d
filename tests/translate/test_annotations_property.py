"""Any annotation set gives a valid model or a SpecError naming the annotation."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from providers.aws.annotations import ANNOTATIONS
from provisioner.annotations import PORTABLE, SpecError
from provisioner.model import LoadBalancer
from provisioner.translate.service import ServiceContext, build_service
from tests.translate.builders import node, service

KEYS = sorted({s.key for s in PORTABLE} | {a.key for a in ANNOTATIONS.aliases})
INTERESTING = st.sampled_from(
    [
        "",
        "true",
        "false",
        "*",
        "0",
        "1",
        "10",
        "300",
        "-1",
        "65536",
        "traffic-port",
        "ip",
        "instance",
        "internal",
        "internet-facing",
        "dualstack",
        "ipv4",
        "tcp",
        "ssl",
        "TCP",
        "HTTP",
        "/",
        "/healthz",
        "a=b",
        "a=b,c=d",
        "a=b,a=c",
        "=",
        ",",
        "10.0.0.0/8",
        "::/0",
        "x/y",
        "subnet-1,subnet-2",
        "arn:aws:acm:cert/1",
        "200-399",
        "proxy_protocol_v2.enabled=true",
        "deletion_protection.enabled=true",
        "load_balancing.cross_zone.enabled=maybe",
    ]
)
VALUES = st.one_of(INTERESTING, st.text(max_size=20))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=6))
def test_any_annotations_give_a_model_or_an_error_naming_one(annotations: dict[str, str]) -> None:
    svc = service(
        annotations=annotations,
        ports=[
            {"name": "http", "port": 80, "targetPort": 8080, "nodePort": 30080, "protocol": "TCP"}
        ],
    )
    context = ServiceContext(
        provider="aws", annotations=ANNOTATIONS, nodes=[node("n1", instance="i-1")]
    )
    try:
        lb = build_service(svc, context=context)
    except SpecError as err:
        message = str(err)
        assert any(key in message for key in annotations), message
        return
    assert isinstance(lb, LoadBalancer)
    assert lb.listeners and lb.backends
