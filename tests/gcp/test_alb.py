"""Ingresses on the global external Application Load Balancer, through the Compute fake:
create, re-apply, minimal updates, frozen members, delete order, GKE annotations, refusals."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest

from providers.base import InvalidSpec, Plan
from providers.gcp import marks as m
from providers.gcp.application import named_port
from providers.gcp.client import is_mutating
from providers.gcp.provider import GcpProvider
from provisioner.model import LoadBalancer
from tests.gcp import ingress as ing
from tests.gcp.builders import PROJECT
from tests.gcp.conftest import Cloud

PEM_CERT = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
PEM_KEY = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n"


@pytest.fixture
def certified(cloud: Cloud) -> Cloud:
    for name in (ing.CERT, "other-cert"):
        cloud.compute.mutate(
            "sslCertificates",
            "insert",
            project=PROJECT,
            ssl_certificate_resource={"name": name, "certificate": PEM_CERT, "privateKey": PEM_KEY},
        )
    cloud.fake.clear_calls()
    return cloud


def converge(provider: GcpProvider, key: str, desired: LoadBalancer | None) -> Plan:
    plan = provider.plan(key, desired)
    provider.apply(plan)
    return plan


def ops(plan: Plan) -> list[tuple[str, str]]:
    return [(c.action.value, c.type) for c in plan.changes]


def glist(cloud: Cloud, collection: str) -> list[dict[str, Any]]:
    return cloud.compute.listing(collection, project=PROJECT)


def writes(cloud: Cloud) -> list[str]:
    return [c.operation for c in cloud.fake.calls() if is_mutating(c.operation)]


def group(objects: Sequence[dict[str, Any]] | None = None) -> LoadBalancer:
    return ing.desired(ing.SHARED, objects or ing.example())


def test_create_http_only_group(cloud: Cloud, provider: GcpProvider) -> None:
    plan = provider.plan(ing.SHARED, group())
    assert ops(plan) == [
        ("create", "firewall"),
        *[("create", "health-check")] * 2,  # store:80, and cart's one port however named
        *[("create", "instance-group")] * 3,
        *[("create", "backend-service")] * 2,
        ("create", "url-map"),
        ("create", "target-proxy"),
        ("create", "address"),
        ("create", "forwarding-rule"),
    ]
    (ip,) = provider.apply(plan).ips
    (rule,) = glist(cloud, "globalForwardingRules")
    assert rule["IPAddress"] == ip and rule["portRange"] == "80-80"
    assert rule["loadBalancingScheme"] == "EXTERNAL_MANAGED"
    assert rule["labels"]["app"] == "site"
    assert rule["labels"][m.LABEL_OWNER] == m.label_hash(ing.SHARED)
    (firewall,) = glist(cloud, "firewalls")
    assert sorted(firewall["sourceRanges"]) == ["130.211.0.0/22", "35.191.0.0/16"]
    assert firewall["allowed"] == [{"IPProtocol": "tcp", "ports": ["30180", "30280"]}]
    services = glist(cloud, "backendServices")
    assert {s["portName"] for s in services} == {"port-30180", "port-30280"}
    assert all(s["loadBalancingScheme"] == "EXTERNAL_MANAGED" for s in services)
    assert all(len(s["backends"]) == 3 for s in services)
    for instance_group in cloud.listing("instanceGroups"):
        ports = {(p["name"], p["port"]) for p in instance_group["namedPorts"]}
        assert ports == {("port-30180", 30180), ("port-30280", 30280)}
    (url_map,) = glist(cloud, "urlMaps")
    assert json.loads(url_map["description"])[m.RESOURCE] == "url-map:80"
    assert [h["hosts"] for h in url_map["hostRules"]] == [["shop.example.com"]]
    assert ing.SHARED in provider.owned()


def test_https_with_pre_shared_certificate_and_redirect(
    certified: Cloud, provider: GcpProvider
) -> None:
    plan = converge(provider, ing.STOREFRONT, ing.desired(ing.STOREFRONT, ing.example()))
    assert [c.type for c in plan.changes].count("url-map") == 2  # routes, and the redirect
    (https,) = glist(certified, "targetHttpsProxies")
    assert [c.rsplit("/", 1)[-1] for c in https["sslCertificates"]] == [ing.CERT]
    (http,) = glist(certified, "targetHttpProxies")
    redirect = next(u for u in glist(certified, "urlMaps") if u["selfLink"] == http["urlMap"])
    assert redirect["defaultUrlRedirect"]["httpsRedirect"] is True
    rules = glist(certified, "globalForwardingRules")
    assert sorted(r["portRange"] for r in rules) == ["443-443", "80-80"]
    assert len({r["IPAddress"] for r in rules}) == 1  # one reserved address for both
    (address,) = glist(certified, "globalAddresses")
    assert address["address"] == rules[0]["IPAddress"]


def test_tls_certificates_name_existing_certificates(
    certified: Cloud, provider: GcpProvider
) -> None:
    portable = ing.storefront(**{"provisioner.io/tls-certificates": "other-cert"})
    del portable["metadata"]["annotations"]["ingress.gcp.kubernetes.io/pre-shared-cert"]
    objects = [*ing.example()[:-3], portable]
    converge(provider, ing.STOREFRONT, ing.desired(ing.STOREFRONT, objects))
    (https,) = glist(certified, "targetHttpsProxies")
    assert [c.rsplit("/", 1)[-1] for c in https["sslCertificates"]] == ["other-cert"]
    # Swapping certificates is one setSslCertificates on the proxy, nothing else.
    certified.fake.clear_calls()
    converge(provider, ing.STOREFRONT, ing.desired(ing.STOREFRONT, ing.example()))
    assert writes(certified) == ["targetHttpsProxies.setSslCertificates"]


def test_missing_certificate_is_refused_before_any_write(
    cloud: Cloud, provider: GcpProvider
) -> None:
    with pytest.raises(InvalidSpec, match="no SSL certificate named 'storefront-cert'"):
        provider.plan(ing.STOREFRONT, ing.desired(ing.STOREFRONT, ing.example()))
    assert writes(cloud) == []


def test_reapply_makes_no_mutating_call(certified: Cloud, provider: GcpProvider) -> None:
    for key in (ing.STOREFRONT, ing.SHARED):
        converge(provider, key, ing.desired(key, ing.example()))
    certified.fake.clear_calls()
    fresh = certified.provider()
    for key in (ing.STOREFRONT, ing.SHARED):
        plan = fresh.plan(key, ing.desired(key, ing.example()))
        assert plan.empty, [c.as_json() for c in plan.changes]
        assert fresh.apply(plan).ips
    assert writes(certified) == []


def test_adding_one_path_is_one_url_map_update(cloud: Cloud, provider: GcpProvider) -> None:
    converge(provider, ing.SHARED, group())
    cloud.fake.clear_calls()
    more = [*ing.example()[:-1], ing.cart(ing.path("/basket", "Prefix", "cart"))]
    plan = converge(provider, ing.SHARED, group(more))
    assert ops(plan) == [("update", "url-map")]
    assert writes(cloud) == ["urlMaps.update"]
    (url_map,) = glist(cloud, "urlMaps")
    rules = url_map["pathMatchers"][0]["routeRules"]
    assert "shop/cart/r0/p2" in [r["description"] for r in rules]


def test_backend_settings_change_in_place(cloud: Cloud, provider: GcpProvider) -> None:
    """Settings on an Ingress apply to its own backends; on a Service, to that Service's."""
    converge(provider, ing.SHARED, group())
    cloud.fake.clear_calls()
    site = ing.site()
    site["metadata"]["annotations"].update(
        {
            "provisioner.io/backend-timeout": "120",
            "provisioner.io/connection-draining-timeout": "60",
        }
    )
    cart_service = ing.service("cart", "shop", 30280)
    cart_service["metadata"]["annotations"] = {"provisioner.io/session-affinity": "client-ip"}
    objects = [*ing.example()[:-4], cart_service, ing.storefront(), site, ing.cart()]
    plan = converge(provider, ing.SHARED, group(objects))
    assert ops(plan) == [("update", "backend-service")] * 2
    assert writes(cloud) == ["backendServices.patch"] * 2
    services = {s["portName"]: s for s in glist(cloud, "backendServices")}
    store = services[named_port(30180)]
    assert store["timeoutSec"] == 120
    assert store["connectionDraining"]["drainingTimeoutSec"] == 60
    assert store["sessionAffinity"] == "NONE"
    cart = services[named_port(30280)]
    assert cart["timeoutSec"] == 30
    assert cart["sessionAffinity"] == "CLIENT_IP"
    assert provider.plan(ing.SHARED, group(objects)).empty


def test_backend_moved_to_another_service(cloud: Cloud, provider: GcpProvider) -> None:
    converge(provider, ing.SHARED, group())
    cart = ing.cart()
    cart["spec"]["rules"][0]["http"]["paths"] = [ing.path("/cart", "Prefix", "store")]
    cart["metadata"]["namespace"] = "default"
    objects = [*ing.example()[:-1], cart]
    plan = converge(provider, ing.SHARED, group(objects))
    assert ("update", "url-map") in ops(plan)
    deleted = [c.type for c in plan.changes if c.action.value == "delete"]
    assert deleted == ["backend-service", "health-check"]  # cart's one port
    assert provider.plan(ing.SHARED, group(objects)).empty


def test_frozen_member_keeps_its_rules_and_backend_services(
    cloud: Cloud, provider: GcpProvider
) -> None:
    converge(provider, ing.SHARED, group())
    (before,) = glist(cloud, "urlMaps")
    broken = ing.cart()
    broken["metadata"]["annotations"]["provisioner.io/no-such-setting"] = "x"
    site = ing.site()
    site["spec"]["rules"][0]["http"]["paths"].append(ing.path("/help", "Exact", "store"))
    desired = group([*ing.example()[:-2], site, broken])
    assert desired.frozen == frozenset({"shop/cart"})
    cloud.fake.clear_calls()
    plan = converge(provider, ing.SHARED, desired)
    assert ops(plan) == [("update", "url-map")]
    (after,) = glist(cloud, "urlMaps")

    def rules(url_map: dict[str, Any]) -> list[tuple[str, Any]]:
        return [
            (r["description"], r["matchRules"]) for r in url_map["pathMatchers"][0]["routeRules"]
        ]

    # Each kept rule follows the rule it followed before; the new one takes its place.
    assert [d for d, _ in rules(after)] == [
        "shop/cart/r0/p1",
        "shop/cart/r0/p0",
        "default/site/r0/p1",
        "default/site/r0/p0",
    ]
    kept = dict(rules(after))
    assert all(kept[d] == r for d, r in rules(before))
    assert len(glist(cloud, "backendServices")) == 2  # cart's is kept
    assert provider.plan(ing.SHARED, desired).empty


def test_delete_in_reverse_order(certified: Cloud, provider: GcpProvider) -> None:
    converge(provider, ing.STOREFRONT, ing.desired(ing.STOREFRONT, ing.example()))
    certified.fake.clear_calls()
    plan = converge(provider, ing.STOREFRONT, None)
    assert plan.deleting
    assert not provider.apply(provider.plan(ing.STOREFRONT, None)).holds_resources
    order = [w.split(".")[0] for w in writes(certified)]
    assert order == [
        "globalForwardingRules",
        "globalForwardingRules",
        "targetHttpsProxies",
        "targetHttpProxies",
        "sslPolicies",
        "urlMaps",
        "urlMaps",
        "backendServices",
        "healthChecks",
        "globalAddresses",
        "firewalls",
        "instanceGroups",
        "instanceGroups",
        "instanceGroups",
    ]
    assert all(w.endswith(".delete") for w in writes(certified))
    assert provider.owned() == set()


def test_delete_keeps_groups_another_load_balancer_uses(
    certified: Cloud, provider: GcpProvider
) -> None:
    for key in (ing.STOREFRONT, ing.SHARED):
        converge(provider, key, ing.desired(key, ing.example()))
    plan = converge(provider, ing.STOREFRONT, None)
    assert "instance-group" not in [c.type for c in plan.changes]
    assert len(certified.listing("instanceGroups")) == 3
    assert provider.plan(ing.SHARED, group()).empty


def test_allow_http_false_serves_https_only(certified: Cloud, provider: GcpProvider) -> None:
    objects = [*ing.example()[:-3], ing.storefront(**{"kubernetes.io/ingress.allow-http": "false"})]
    converge(provider, ing.STOREFRONT, ing.desired(ing.STOREFRONT, objects))
    assert glist(certified, "targetHttpProxies") == []
    (rule,) = glist(certified, "globalForwardingRules")
    assert rule["portRange"] == "443-443"
    (url_map,) = glist(certified, "urlMaps")
    assert "defaultUrlRedirect" not in url_map


def test_allow_http_false_without_https_is_refused(cloud: Cloud, provider: GcpProvider) -> None:
    site = ing.site()
    site["metadata"]["annotations"]["kubernetes.io/ingress.allow-http"] = "false"
    with pytest.raises(InvalidSpec, match="allow-http is false"):
        provider.plan(ing.SHARED, group([*ing.example()[:-2], site, ing.cart()]))


def test_global_static_ip_name(certified: Cloud, provider: GcpProvider) -> None:
    certified.compute.mutate(
        "globalAddresses", "insert", project=PROJECT, address_resource={"name": "web-ip"}
    )
    (reserved,) = glist(certified, "globalAddresses")
    annotated = ing.storefront(**{"kubernetes.io/ingress.global-static-ip-name": "web-ip"})
    objects = [*ing.example()[:-3], annotated]
    plan = converge(provider, ing.STOREFRONT, ing.desired(ing.STOREFRONT, objects))
    assert ("create", "address") not in ops(plan)
    rules = glist(certified, "globalForwardingRules")
    assert {r["IPAddress"] for r in rules} == {reserved["address"]}
    assert provider.apply(
        provider.plan(ing.STOREFRONT, ing.desired(ing.STOREFRONT, objects))
    ).ips == (reserved["address"],)
    converge(provider, ing.STOREFRONT, None)
    assert [a["name"] for a in glist(certified, "globalAddresses")] == ["web-ip"]  # not ours


def test_missing_static_ip_is_refused(certified: Cloud, provider: GcpProvider) -> None:
    annotated = ing.storefront(**{"kubernetes.io/ingress.global-static-ip-name": "nope"})
    with pytest.raises(InvalidSpec, match="no reserved global address named 'nope'"):
        provider.plan(ing.STOREFRONT, ing.desired(ing.STOREFRONT, [*ing.example()[:-3], annotated]))


def test_internal_scheme_is_refused_with_advice(cloud: Cloud, provider: GcpProvider) -> None:
    site, cart = ing.site(), ing.cart()
    for member in (site, cart):
        del member["metadata"]["annotations"]["provisioner.io/scheme"]
    desired = group([*ing.example()[:-2], site, cart])
    with pytest.raises(InvalidSpec, match=r"provisioner\.io/scheme: internet-facing") as caught:
        provider.plan(ing.SHARED, desired)
    assert "internal Application Load Balancers are not served on gcp yet" in str(caught.value)
    assert writes(cloud) == []


def test_legacy_gce_class_means_external(cloud: Cloud, provider: GcpProvider) -> None:
    legacy = ing.ingress(
        "legacy",
        rules=[(None, [ing.path("/", "Prefix", "store")])],
        annotations={"kubernetes.io/ingress.class": "gce"},
    )
    del legacy["metadata"]["annotations"]["provisioner.io/scheme"]
    objects = [*ing.nodes(), ing.service("store", "default", 30180), legacy]
    desired = ing.desired("Ingress/default/legacy", objects)
    assert desired.scheme.value == "internet-facing"
    assert provider.apply(provider.plan("Ingress/default/legacy", desired)).ips


def test_ip_target_type_is_refused_naming_the_ingress(cloud: Cloud, provider: GcpProvider) -> None:
    cart = ing.cart()
    cart["metadata"]["annotations"]["provisioner.io/target-type"] = "ip"
    desired = group([*ing.example()[:-1], cart])
    with pytest.raises(InvalidSpec, match=r"Ingress shop/cart: .*NEGs.*not support") as caught:
        provider.plan(ing.SHARED, desired)
    assert caught.value.field == "provisioner.io/target-type"
