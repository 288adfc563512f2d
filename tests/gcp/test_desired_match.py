"""Pure tests of the desired GCP shape and of matching it with observed resources."""

from __future__ import annotations

from dataclasses import replace

import pytest

from providers.base import InvalidSpec
from providers.gcp import desired as d
from providers.gcp import marks as m
from providers.gcp.match import (
    RuleWanted,
    backend_service_diff,
    firewall_diff,
    health_check_diff,
    label_diff,
    membership_diff,
    plan_rules,
)
from providers.gcp.network import Network, node_vm
from provisioner.model import (
    HealthCheck,
    IpFamily,
    LoadBalancer,
    Node,
    Protocol,
    Scheme,
    TargetType,
)
from tests.gcp.builders import KEY, PROJECT, REGION, nodes, service

MARKS = m.Marks(cluster="test", lb_class="provisioner.io/nlb")
NETWORK = Network(
    network=f"projects/{PROJECT}/global/networks/default",
    subnetwork=f"projects/{PROJECT}/regions/{REGION}/subnetworks/default",
)
LOCATION = d.Location(project=PROJECT, region=REGION, network=NETWORK)


def build(desired: LoadBalancer) -> d.GcpService:
    d.check_spec(desired)
    vms = d.node_vms(desired, project=PROJECT, region=REGION)
    return d.build(desired, LOCATION, vms=vms, marks=MARKS)


def test_external_service_shape() -> None:
    svc = build(service(scheme=Scheme.INTERNET_FACING))
    assert svc.scheme == "EXTERNAL"
    assert svc.address_body == {"addressType": "EXTERNAL", "networkTier": "PREMIUM"}
    assert svc.subnetwork is None
    assert svc.ports == {"TCP": (80, 443)}
    (backend,) = svc.backend_services
    assert backend.body["loadBalancingScheme"] == "EXTERNAL"
    assert backend.body["protocol"] == "TCP"
    assert len(backend.body["backends"]) == 3
    # kube-proxy's health endpoint, not the node port.
    assert svc.health_check_body["type"] == "HTTP"
    assert svc.health_check_body["httpHealthCheck"] == {"port": 10256, "requestPath": "/healthz"}
    traffic, health = svc.firewalls
    assert traffic.body["allowed"] == [{"IPProtocol": "tcp", "ports": ["80", "443"]}]
    assert traffic.body["sourceRanges"] == ["0.0.0.0/0"]
    assert health.body["allowed"] == [{"IPProtocol": "tcp", "ports": ["10256"]}]
    assert health.body["sourceRanges"] == ["209.85.152.0/22", "209.85.204.0/22", "35.191.0.0/16"]
    assert [g.zone for g in svc.groups] == ["us-central1-a", "us-central1-b", "us-central1-c"]


def test_internal_local_traffic_policy_and_tcp_udp() -> None:
    local = HealthCheck(protocol=Protocol.HTTP, port=31999, path="/healthz")
    svc = build(service(ports=((53, 30053),), protocol=Protocol.TCP_UDP, health=local))
    assert svc.scheme == "INTERNAL"
    assert svc.address_body["purpose"] == "SHARED_LOADBALANCER_VIP"
    assert svc.address_body["subnetwork"] == NETWORK.subnetwork
    assert svc.ports == {"TCP": (53,), "UDP": (53,)}
    assert [b.protocol for b in svc.backend_services] == ["TCP", "UDP"]
    assert svc.health_check_body["httpHealthCheck"] == {"port": 31999, "requestPath": "/healthz"}
    assert svc.firewalls[1].body["allowed"] == [{"IPProtocol": "tcp", "ports": ["31999"]}]
    assert svc.firewalls[0].body["allowed"] == [
        {"IPProtocol": "tcp", "ports": ["53"]},
        {"IPProtocol": "udp", "ports": ["53"]},
    ]


def test_subnet_and_global_access_options() -> None:
    svc = build(service(subnets=("ilb",), options={"gcp_allow_global_access": True}))
    assert svc.subnetwork == f"projects/{PROJECT}/regions/{REGION}/subnetworks/ilb"
    assert svc.allow_global_access
    with pytest.raises(InvalidSpec, match="only internal"):
        build(service(scheme=Scheme.INTERNET_FACING, subnets=("ilb",)))
    with pytest.raises(InvalidSpec, match="internal load balancers only"):
        build(service(scheme=Scheme.INTERNET_FACING, options={"gcp_allow_global_access": True}))
    with pytest.raises(InvalidSpec, match="one subnetwork"):
        build(service(subnets=("a", "b")))


@pytest.mark.parametrize(
    ("change", "annotation"),
    [
        ({"security_groups": ("sg-1",)}, "provisioner.io/security-groups"),
        ({"name": "fixed"}, "provisioner.io/load-balancer-name"),
        ({"ip_family": IpFamily.DUALSTACK}, "provisioner.io/ip-address-type"),
        ({"deletion_protection": True}, "provisioner.io/deletion-protection"),
    ],
)
def test_aws_only_settings_are_refused(change: dict[str, object], annotation: str) -> None:
    with pytest.raises(InvalidSpec) as info:
        build(replace(service(), **change))  # type: ignore[arg-type]
    assert annotation in str(info.value)
    assert KEY in str(info.value)


def test_ip_targets_and_tls_are_refused_naming_the_service_and_annotation() -> None:
    desired = service()
    ip = replace(
        desired, backends=tuple(replace(b, target_type=TargetType.IP) for b in desired.backends)
    )
    with pytest.raises(
        InvalidSpec, match=r"Service/default/web: annotation provisioner\.io/target-type: ip"
    ):
        build(ip)
    tls = replace(
        desired, listeners=tuple(replace(x, protocol=Protocol.TLS) for x in desired.listeners)
    )
    with pytest.raises(InvalidSpec, match=r"provisioner\.io/tls-certificates"):
        build(tls)
    proxy = replace(
        desired, backends=tuple(replace(b, proxy_protocol=True) for b in desired.backends)
    )
    with pytest.raises(InvalidSpec, match=r"provisioner\.io/proxy-protocol"):
        build(proxy)


def test_a_subset_of_nodes_is_refused() -> None:
    desired = service()
    fewer = replace(
        desired,
        backends=tuple(
            replace(b, targets=frozenset(list(b.targets)[:1])) for b in desired.backends
        ),
    )
    with pytest.raises(InvalidSpec, match="target-node-labels"):
        build(fewer)


@pytest.mark.parametrize(
    ("provider_id", "problem"),
    [
        ("aws:///us-east-1a/i-1", "gce://"),
        ("gce://other/us-central1-a/n", "project other"),
        ("gce://test-project/europe-west1-b/n", "outside region"),
    ],
)
def test_node_provider_ids_are_checked(provider_id: str, problem: str) -> None:
    with pytest.raises(InvalidSpec, match=problem):
        node_vm(Node(name="n", provider_id=provider_id), project=PROJECT, region=REGION)


def test_more_than_five_ports_make_several_rules() -> None:
    wanted = {
        "TCP": RuleWanted(
            "TCP", "10.0.0.9", "projects/p/regions/r/backendServices/bs", "INTERNAL", None, None
        )
    }
    plan = plan_rules({"TCP": tuple(range(81, 88))}, [], wanted)
    assert plan.create == [("TCP", (81, 82, 83, 84, 85)), ("TCP", (86, 87))]


def _rule(name: str, ports: list[str], **extra: object) -> dict[str, object]:
    return {
        "name": name,
        "IPProtocol": "TCP",
        "ports": ports,
        "IPAddress": "10.0.0.9",
        "backendService": "https://x/compute/v1/projects/p/regions/r/backendServices/bs",
        "loadBalancingScheme": "INTERNAL",
        **extra,
    }


def test_rules_are_kept_while_their_ports_are_wanted() -> None:
    wanted = {
        "TCP": RuleWanted(
            "TCP", "10.0.0.9", "projects/p/regions/r/backendServices/bs", "INTERNAL", None, None
        )
    }
    full = _rule("full", ["81", "82", "83", "84", "85"])
    small = _rule("small", ["90"])
    # A port added: both rules kept, one new rule for the new port.
    plan = plan_rules({"TCP": (81, 82, 83, 84, 85, 90, 91)}, [full, small], wanted)
    assert [r["name"] for r in plan.keep] == ["full", "small"]
    assert plan.create == [("TCP", (91,))]
    assert plan.delete == []
    # A port removed: that rule is replaced by one with the remaining ports.
    plan = plan_rules({"TCP": (81, 82, 83, 84, 90)}, [full, small], wanted)
    assert [r["name"] for r in plan.keep] == ["small"]
    assert plan.create == [("TCP", (81, 82, 83, 84))]
    assert [(r["name"], why) for r, why in plan.delete] == [("full", "ports 85 removed")]
    # A new address: nothing can be kept.
    moved = {"TCP": replace(wanted["TCP"], address=None)}
    plan = plan_rules({"TCP": (90,)}, [small], moved)
    assert plan.keep == [] and plan.create == [("TCP", (90,))]


def test_diffs_ignore_link_forms_and_defaults() -> None:
    want = {
        "loadBalancingScheme": "EXTERNAL",
        "protocol": "TCP",
        "healthChecks": ["projects/p/regions/r/healthChecks/hc"],
        "backends": [
            {"group": "projects/p/zones/z/instanceGroups/ig", "balancingMode": "CONNECTION"}
        ],
        "sessionAffinity": "NONE",
    }
    have = {
        "healthChecks": [
            "https://www.googleapis.com/compute/v1/projects/p/regions/r/healthChecks/hc"
        ],
        "backends": [
            {
                "group": "https://www.googleapis.com/compute/v1/projects/p/zones/z/instanceGroups/ig",
                "balancingMode": "CONNECTION",
            }
        ],
    }
    assert backend_service_diff(want, have) == {}
    assert backend_service_diff({**want, "backends": []}, have) == {
        "backends": [["projects/p/zones/z/instanceGroups/ig"], []]
    }
    body = d.health_check_body(HealthCheck(), ())
    assert health_check_diff(body, {**body, "kind": "compute#healthCheck", "selfLink": "x"}) == {}
    assert "httpHealthCheck" in health_check_diff(body, {**body, "httpHealthCheck": {"port": 1}})
    rule = {
        "allowed": [{"IPProtocol": "tcp", "ports": ["443", "80"]}],
        "sourceRanges": ["1.0.0.0/8"],
        "destinationRanges": ["10.0.0.9"],
    }
    same = {
        "allowed": [{"IPProtocol": "tcp", "ports": ["80", "443"]}],
        "sourceRanges": ["1.0.0.0/8"],
        "destinationRanges": ["10.0.0.9"],
        "priority": 1000,
    }
    assert firewall_diff(rule, same) == {}
    assert firewall_diff({**rule, "sourceRanges": ["2.0.0.0/8"]}, same) == {
        "sourceRanges": [["1.0.0.0/8"], ["2.0.0.0/8"]]
    }
    assert label_diff({"a": "1"}, {"a": "1"}) == {}
    assert label_diff({"a": "2"}, {"a": "1", "b": "x"}) == {"set": {"a": "2"}, "remove": ["b"]}
    assert membership_diff(
        ["projects/p/zones/z/instances/a"], ["https://h/compute/v1/projects/p/zones/z/instances/b"]
    ) == (
        ["projects/p/zones/z/instances/a"],
        ["projects/p/zones/z/instances/b"],
    )


def test_nodes_builder_is_gce_shaped() -> None:
    assert all(n.provider_id.startswith("gce://test-project/") for n in nodes())
