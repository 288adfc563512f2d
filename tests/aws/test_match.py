"""Pure matching, table-driven: no cloud involved."""

from __future__ import annotations

from typing import Any

import pytest

from providers.aws.match import (
    LB_ATTRIBUTE_DEFAULTS,
    Rule,
    attribute_diff,
    batches,
    health_check_diff,
    listener_diff,
    load_balancer_diff,
    load_balancer_replacement,
    rule_diff,
    rule_from_sdk,
    target_diff,
    targets_from_health,
    user_tag_diff,
)


@pytest.mark.parametrize(
    ("desired", "observed", "expected"),
    [
        ({"a": "1"}, {"a": "1"}, {}),
        ({"a": "1"}, {"a": "2"}, {"a": ["2", "1"]}),
        ({"a": "1"}, {}, {"a": ["", "1"]}),
        ({"proxy_protocol_v2.enabled": "false"}, {}, {}),
        (
            {"proxy_protocol_v2.enabled": "true"},
            {},
            {"proxy_protocol_v2.enabled": ["false", "true"]},
        ),
        ({"a": "1"}, {"a": "1", "other": "x"}, {}),
    ],
)
def test_attribute_diff(desired: dict[str, str], observed: dict[str, str], expected: Any) -> None:
    assert attribute_diff(desired, observed) == expected


def test_lb_attribute_defaults() -> None:
    desired = {"deletion_protection.enabled": "false", "load_balancing.cross_zone.enabled": "true"}
    assert attribute_diff(desired, {}, defaults=LB_ATTRIBUTE_DEFAULTS) == {
        "load_balancing.cross_zone.enabled": ["false", "true"]
    }


TCP_CHECK = {
    "HealthCheckProtocol": "TCP",
    "HealthCheckPort": "traffic-port",
    "HealthyThresholdCount": 3,
}


@pytest.mark.parametrize(
    ("desired", "observed", "fields"),
    [
        (TCP_CHECK, TCP_CHECK, []),
        (TCP_CHECK, {**TCP_CHECK, "HealthyThresholdCount": 5}, ["HealthyThresholdCount"]),
        # Path and matcher are ignored for TCP checks (AWS keeps stale values there).
        ({**TCP_CHECK, "HealthCheckPath": "/x"}, TCP_CHECK, []),
        (
            {**TCP_CHECK, "HealthCheckProtocol": "HTTP", "HealthCheckPath": "/h"},
            TCP_CHECK,
            ["HealthCheckProtocol", "HealthCheckPath"],
        ),
        # moto never reports Matcher: a missing one is not a difference.
        (
            {**TCP_CHECK, "HealthCheckProtocol": "HTTP", "Matcher": {"HttpCode": "200"}},
            {**TCP_CHECK, "HealthCheckProtocol": "HTTP"},
            [],
        ),
        (
            {**TCP_CHECK, "HealthCheckProtocol": "HTTP", "Matcher": {"HttpCode": "200"}},
            {**TCP_CHECK, "HealthCheckProtocol": "HTTP", "Matcher": {"HttpCode": "200-399"}},
            ["Matcher"],
        ),
    ],
)
def test_health_check_diff(desired: Any, observed: Any, fields: list[str]) -> None:
    assert sorted(health_check_diff(desired, observed)) == sorted(fields)


@pytest.mark.parametrize(
    ("desired", "observed", "register", "deregister"),
    [
        ([("i-1", 80)], [("i-1", 80)], [], []),
        ([("i-1", 80), ("i-2", 80)], [("i-1", 80)], [("i-2", 80)], []),
        ([], [("i-1", 80)], [], [("i-1", 80)]),
        ([("i-1", 81)], [("i-1", 80)], [("i-1", 81)], [("i-1", 80)]),
    ],
)
def test_target_diff(desired: Any, observed: Any, register: Any, deregister: Any) -> None:
    assert target_diff(desired, observed) == (register, deregister)


def test_targets_from_health_skips_draining() -> None:
    items = [
        {"Target": {"Id": "i-1", "Port": 80}, "TargetHealth": {"State": "healthy"}},
        {"Target": {"Id": "i-2", "Port": 80}, "TargetHealth": {"State": "draining"}},
    ]
    assert targets_from_health(items) == {("i-1", 80)}


def test_batches() -> None:
    assert batches(list(range(450)), 200) == [
        list(range(200)),
        list(range(200, 400)),
        list(range(400, 450)),
    ]


SDK_RULE = {
    "SecurityGroupRuleId": "sgr-1",
    "IsEgress": False,
    "IpProtocol": "tcp",
    "FromPort": 80,
    "ToPort": 80,
    "CidrIpv4": "0.0.0.0/0",
}


@pytest.mark.parametrize(
    ("sdk", "expected"),
    [
        (SDK_RULE, Rule("tcp", 80, "0.0.0.0/0")),
        ({**SDK_RULE, "IsEgress": True}, None),
        ({**SDK_RULE, "ToPort": 90}, None),
        (
            {**{k: v for k, v in SDK_RULE.items() if k != "CidrIpv4"}, "CidrIpv6": "::/0"},
            Rule("tcp", 80, "::/0"),
        ),
        (
            {
                **{k: v for k, v in SDK_RULE.items() if k != "CidrIpv4"},
                "ReferencedGroupInfo": {"GroupId": "sg-1"},
            },
            Rule("tcp", 80, "sg-1"),
        ),
    ],
)
def test_rule_from_sdk(sdk: Any, expected: Rule | None) -> None:
    assert rule_from_sdk(sdk) == expected


def test_rule_kinds() -> None:
    assert Rule("tcp", 1, "sg-1").source_kind == "group"
    assert Rule("tcp", 1, "::/0").source_kind == "cidr6"
    assert Rule("tcp", 1, "10.0.0.0/8").source_kind == "cidr"


def test_rule_diff_adds_missing_and_revokes_extra_and_duplicates() -> None:
    a, b, c = Rule("tcp", 80, "x"), Rule("tcp", 443, "x"), Rule("udp", 53, "x")
    add, revoke = rule_diff({a, b}, {"r1": a, "r2": c, "r3": a, "r4": None})
    assert add == [b]
    assert revoke == ["r2", "r3", "r4"]


LB = {
    "Type": "network",
    "Scheme": "internal",
    "LoadBalancerName": "n",
    "SecurityGroups": ["sg-1"],
    "IpAddressType": "ipv4",
    "AvailabilityZones": [{"SubnetId": "subnet-1"}, {"SubnetId": "subnet-2"}],
}


@pytest.mark.parametrize(
    ("scheme", "name", "observed", "expected"),
    [
        ("internal", None, LB, []),
        (
            "internet-facing",
            None,
            LB,
            ["scheme internal -> internet-facing cannot change in place"],
        ),
        ("internal", "n", LB, []),
        ("internal", "m", LB, ["name n -> m cannot change in place"]),
        (
            "internal",
            None,
            {**LB, "SecurityGroups": []},
            ["security groups can only be given to an NLB when it is created"],
        ),
        (
            "internal",
            None,
            {**LB, "Type": "application"},
            ["type application -> network cannot change in place"],
        ),
    ],
)
def test_load_balancer_replacement(
    scheme: str, name: str | None, observed: Any, expected: Any
) -> None:
    assert (
        load_balancer_replacement(
            desired_scheme=scheme, desired_name=name, desired_has_groups=True, observed=observed
        )
        == expected
    )


def test_load_balancer_diff() -> None:
    same = load_balancer_diff(
        desired_subnets=["subnet-2", "subnet-1"],
        desired_groups=["sg-1"],
        desired_ip_type="ipv4",
        observed=LB,
    )
    assert same == {}
    diff = load_balancer_diff(
        desired_subnets=["subnet-1"],
        desired_groups=["sg-2"],
        desired_ip_type="dualstack",
        observed=LB,
    )
    assert sorted(diff) == ["ip_address_type", "security_groups", "subnets"]


LISTENER = {
    "ListenerArn": "l",
    "Port": 443,
    "Protocol": "TLS",
    "SslPolicy": "p",
    "Certificates": [{"CertificateArn": "c1"}],
    "DefaultActions": [{"Type": "forward", "TargetGroupArn": "tg"}],
}


@pytest.mark.parametrize(
    ("protocol", "tg", "certs", "policy", "observed_certs", "fields"),
    [
        ("TLS", "tg", ("c1",), "p", ["c1"], []),
        ("TLS", "tg2", ("c1",), "p", ["c1"], ["target_group"]),
        ("TLS", "tg", ("c1",), "q", ["c1"], ["ssl_policy"]),
        ("TLS", "tg", ("c2",), "p", ["c1"], ["certificate"]),
        ("TLS", "tg", ("c1", "c3"), "p", ["c1"], ["sni_certificates"]),
        ("TLS", "tg", ("c1",), "p", ["c1", "c3"], ["sni_certificates"]),
        ("TCP", "tg", (), None, [], ["protocol"]),
    ],
)
def test_listener_diff(
    protocol: str, tg: str, certs: Any, policy: Any, observed_certs: Any, fields: list[str]
) -> None:
    diff = listener_diff(
        desired_protocol=protocol,
        desired_target_group=tg,
        desired_certificates=certs,
        desired_policy=policy,
        observed=LISTENER,
        observed_certificates=observed_certs,
    )
    assert sorted(diff) == sorted(fields)


def test_user_tag_diff_never_touches_marks() -> None:
    observed = [
        {"Key": "provisioner.io/owner", "Value": "k"},
        {"Key": "team", "Value": "a"},
        {"Key": "old", "Value": "x"},
    ]
    assert user_tag_diff({"team": "b"}, observed) == {"set": {"team": "b"}, "remove": ["old"]}
    assert user_tag_diff({"team": "a", "old": "x"}, observed) == {}
