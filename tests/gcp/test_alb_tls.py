"""TLS on the Application Load Balancer, through the Compute fake: the SSL policy every HTTPS
proxy gets, Google-managed certificates for `spec.tls` hosts (create, swap, delete), and the
refusals for what GCP cannot do."""

from __future__ import annotations

import json
from typing import Any

import pytest

from providers.base import InvalidSpec
from providers.gcp import marks as m
from providers.gcp.provider import GcpProvider
from provisioner.model import LoadBalancer
from tests.gcp import ingress as ing
from tests.gcp.builders import PROJECT
from tests.gcp.conftest import Cloud
from tests.gcp.test_alb import certified, converge, glist, ops, writes

KEY = "Ingress/default/secure"
BOTH = '[{"HTTP": 80}, {"HTTPS": 443}]'
__all__ = ["certified"]  # a fixture of test_alb, used here by name


def secure(*hosts: str, tls: tuple[str, ...] | None = None, **annotations: str) -> dict[str, Any]:
    """An Ingress routing `hosts` on HTTP and HTTPS, with those hosts (or `tls`) in spec.tls."""
    obj = ing.ingress(
        "secure",
        rules=[(host, [ing.path("/", "Prefix", "store")]) for host in hosts],
        annotations={"provisioner.io/listen-ports": BOTH, **annotations},
    )
    obj["spec"]["tls"] = [{"hosts": list(hosts if tls is None else tls), "secretName": "s"}]
    return obj


def desired(ingress: dict[str, Any]) -> LoadBalancer:
    return ing.desired(
        KEY, [ing.ingress_class(), *ing.nodes(), ing.service("store", "default", 30180), ingress]
    )


def names(links: list[str]) -> list[str]:
    return [link.rsplit("/", 1)[-1] for link in links]


def test_managed_certificate_and_policy_are_created_before_the_proxy(
    cloud: Cloud, provider: GcpProvider
) -> None:
    plan = provider.plan(KEY, desired(secure("www.example.com", "api.example.com")))
    kinds = [kind for _, kind in ops(plan)]
    assert kinds.index("ssl-policy") < kinds.index("ssl-certificate") < kinds.index("target-proxy")
    assert provider.apply(plan).ips
    (certificate,) = glist(cloud, "sslCertificates")
    assert certificate["type"] == "MANAGED"
    assert certificate["managed"]["domains"] == ["api.example.com", "www.example.com"]
    assert certificate["managed"]["status"] == "PROVISIONING"  # does not block the proxy
    marker = json.loads(certificate["description"])
    assert (marker[m.OWNER], marker[m.RESOURCE]) == (KEY, "ssl-certificate")
    (policy,) = glist(cloud, "sslPolicies")
    assert (policy["profile"], policy["minTlsVersion"]) == ("MODERN", "TLS_1_2")
    assert json.loads(policy["description"])[m.RESOURCE] == "ssl-policy"
    (proxy,) = glist(cloud, "targetHttpsProxies")
    assert proxy["sslCertificates"] == [certificate["selfLink"]]
    assert proxy["sslPolicy"] == policy["selfLink"]
    assert KEY in provider.owned()


def test_reapply_makes_no_mutating_call(cloud: Cloud, provider: GcpProvider) -> None:
    wanted = desired(secure("www.example.com"))
    converge(provider, KEY, wanted)
    cloud.fake.clear_calls()
    fresh = cloud.provider()
    plan = fresh.plan(KEY, wanted)
    assert plan.empty, [c.as_json() for c in plan.changes]
    fresh.apply(plan)
    assert writes(cloud) == []


def test_new_hosts_create_swap_then_delete_the_certificate(
    cloud: Cloud, provider: GcpProvider
) -> None:
    converge(provider, KEY, desired(secure("www.example.com")))
    (old,) = glist(cloud, "sslCertificates")
    cloud.fake.clear_calls()
    plan = converge(provider, KEY, desired(secure("www.example.com", "shop.example.com")))
    assert ops(plan) == [
        ("update", "url-map"),  # the new host's routes
        ("create", "ssl-certificate"),
        ("update", "target-proxy"),
        ("delete", "ssl-certificate"),
    ]
    assert [w for w in writes(cloud) if not w.startswith("urlMaps")] == [
        "sslCertificates.insert",
        "targetHttpsProxies.setSslCertificates",
        "sslCertificates.delete",
    ]
    (new,) = glist(cloud, "sslCertificates")
    assert new["name"] != old["name"]
    assert new["managed"]["domains"] == ["shop.example.com", "www.example.com"]
    (proxy,) = glist(cloud, "targetHttpsProxies")
    assert proxy["sslCertificates"] == [new["selfLink"]]


def test_only_tls_hosts_decide_the_certificate(cloud: Cloud, provider: GcpProvider) -> None:
    """The same hosts in spec.tls, in another order, are the same certificate."""
    converge(provider, KEY, desired(secure("a.example.com", "b.example.com")))
    cloud.fake.clear_calls()
    reordered = secure("a.example.com", "b.example.com", tls=("b.example.com", "a.example.com"))
    assert provider.plan(KEY, desired(reordered)).empty
    cloud.fake.clear_calls()
    converge(provider, KEY, desired(secure("a.example.com", tls=("c.example.com",))))
    assert writes(cloud) == [
        "urlMaps.update",
        "sslCertificates.insert",
        "targetHttpsProxies.setSslCertificates",
        "sslCertificates.delete",
    ]


def test_policy_change_is_one_patch(cloud: Cloud, provider: GcpProvider) -> None:
    converge(provider, KEY, desired(secure("www.example.com")))
    cloud.fake.clear_calls()
    plan = converge(
        provider,
        KEY,
        desired(secure("www.example.com", **{"provisioner.io/tls-policy": "RESTRICTED"})),
    )
    assert ops(plan) == [("update", "ssl-policy")]
    assert plan.changes[0].diff == {"profile": ["MODERN", "RESTRICTED"]}
    assert writes(cloud) == ["sslPolicies.patch"]
    (policy,) = glist(cloud, "sslPolicies")
    assert (policy["profile"], policy["minTlsVersion"]) == ("RESTRICTED", "TLS_1_2")


@pytest.mark.parametrize(
    ("value", "profile", "version"),
    [
        ("ELBSecurityPolicy-TLS13-1-2-2021-06", "MODERN", "TLS_1_2"),
        ("compatible", "COMPATIBLE", "TLS_1_2"),
        ("MODERN:TLS_1_1", "MODERN", "TLS_1_1"),
        ("RESTRICTED:TLS_1_3", "RESTRICTED", "TLS_1_3"),
    ],
)
def test_tls_policy_values(
    cloud: Cloud, provider: GcpProvider, value: str, profile: str, version: str
) -> None:
    converge(
        provider, KEY, desired(secure("www.example.com", **{"provisioner.io/tls-policy": value}))
    )
    (policy,) = glist(cloud, "sslPolicies")
    assert (policy["profile"], policy["minTlsVersion"]) == (profile, version)


@pytest.mark.parametrize(
    "value", ["ELBSecurityPolicy-TLS-1-2-2017-01", "MODERN:TLS_1_3", "STRONG", "MODERN:1.2"]
)
def test_bad_tls_policy_is_refused_before_any_write(
    cloud: Cloud, provider: GcpProvider, value: str
) -> None:
    wanted = desired(secure("www.example.com", **{"provisioner.io/tls-policy": value}))
    with pytest.raises(InvalidSpec) as caught:
        provider.plan(KEY, wanted)
    message = str(caught.value)
    assert KEY in message and "provisioner.io/tls-policy" in message and repr(value) in message
    assert "accepted: ELBSecurityPolicy-TLS13-1-2-2021-06" in message
    assert caught.value.field == "provisioner.io/tls-policy"
    assert writes(cloud) == []


def test_wildcard_tls_host_is_refused_naming_the_ingress(
    cloud: Cloud, provider: GcpProvider
) -> None:
    wanted = desired(secure("www.example.com", "*.shops.example.com"))
    with pytest.raises(InvalidSpec) as caught:
        provider.plan(KEY, wanted)
    message = str(caught.value)
    assert "Ingress default/secure" in message and "'*.shops.example.com'" in message
    assert "pre-shared-cert" in message and "wildcard" in message
    assert writes(cloud) == []


def test_wildcard_in_a_group_names_the_member_routing_it(provider: GcpProvider) -> None:
    member = secure("www.example.com", "*.shops.example.com", **{"provisioner.io/group-name": "g"})
    wanted = ing.desired(
        "IngressGroup/g",
        [ing.ingress_class(), *ing.nodes(), ing.service("store", "default", 30180), member],
    )
    with pytest.raises(InvalidSpec, match=r"Ingress default/secure \(group g\): spec.tls host"):
        provider.plan("IngressGroup/g", wanted)


def test_named_certificates_win_and_the_managed_one_goes(
    certified: Cloud, provider: GcpProvider
) -> None:
    converge(provider, KEY, desired(secure("www.example.com")))
    certified.fake.clear_calls()
    named = secure("www.example.com", **{"ingress.gcp.kubernetes.io/pre-shared-cert": ing.CERT})
    plan = converge(provider, KEY, desired(named))
    assert ops(plan) == [("update", "target-proxy"), ("delete", "ssl-certificate")]
    assert writes(certified) == [
        "targetHttpsProxies.setSslCertificates",
        "sslCertificates.delete",
    ]
    (proxy,) = glist(certified, "targetHttpsProxies")
    assert names(proxy["sslCertificates"]) == [ing.CERT]


def test_delete_in_reverse_order(cloud: Cloud, provider: GcpProvider) -> None:
    converge(provider, KEY, desired(secure("www.example.com")))
    cloud.fake.clear_calls()
    converge(provider, KEY, None)
    order = [w.split(".")[0] for w in writes(cloud)]
    assert order[:5] == [
        "globalForwardingRules",
        "globalForwardingRules",
        "targetHttpsProxies",
        "targetHttpProxies",
        "sslCertificates",
    ]
    assert order[5:7] == ["sslPolicies", "urlMaps"]
    assert all(w.endswith(".delete") for w in writes(cloud))
    assert glist(cloud, "sslCertificates") == glist(cloud, "sslPolicies") == []
    assert provider.owned() == set()


def test_dropping_https_deletes_policy_and_certificate_after_the_proxy(
    cloud: Cloud, provider: GcpProvider
) -> None:
    converge(provider, KEY, desired(secure("www.example.com")))
    cloud.fake.clear_calls()
    http_only = secure("www.example.com", **{"provisioner.io/listen-ports": '[{"HTTP": 80}]'})
    plan = converge(provider, KEY, desired(http_only))
    deleted = [c.type for c in plan.changes if c.action.value == "delete"]
    assert deleted[:4] == ["forwarding-rule", "target-proxy", "ssl-certificate", "ssl-policy"]
    assert glist(cloud, "sslCertificates") == glist(cloud, "sslPolicies") == []
    assert provider.plan(KEY, desired(http_only)).empty


def test_a_certificate_name_held_by_someone_else_is_a_conflict(
    cloud: Cloud, provider: GcpProvider
) -> None:
    from providers.base import OwnershipConflict

    wanted = desired(secure("www.example.com"))
    plan = provider.plan(KEY, wanted)
    name = next(c.name for c in plan.changes if c.type == "ssl-certificate")
    cloud.compute.mutate(
        "sslCertificates",
        "insert",
        project=PROJECT,
        ssl_certificate_resource={
            "name": name,
            "type": "MANAGED",
            "managed": {"domains": ["www.example.com"]},
        },
    )
    with pytest.raises(OwnershipConflict, match=name):
        provider.plan(KEY, wanted)
