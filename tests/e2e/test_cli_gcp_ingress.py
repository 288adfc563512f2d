"""The CLI end to end with Ingresses against the Compute fake in its own process: the example
group and the HTTPS Ingress applied, re-applied without a write, one path added with one
URL map update, the internal default refused with advice, and a Google-managed certificate
with its SSL policy created, then replaced by create, swap, delete."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import requests

from providers.gcp.client import is_mutating
from providers.gcp.seed import SeedNode, seed_cluster
from tests.e2e import test_cli_gcp as base
from tests.e2e.test_cli_gcp import PROJECT, ZONES, Gcp
from tests.gcp import ingress as ing

fake_url = base.fake_url
"""The fake in its own process, shared with the Service tests' fixture definition."""


@pytest.fixture
def gcp(fake_url: str, tmp_path: Path) -> Gcp:
    requests.post(f"{fake_url}/_fake/reset", timeout=10)
    seed_cluster(
        fake_url, project=PROJECT, nodes=[SeedNode(f"node-{i}", ZONES[i % 3]) for i in range(3)]
    )
    requests.delete(f"{fake_url}/_fake/calls", timeout=10)
    return Gcp(url=fake_url, tmp=tmp_path)


pytestmark = pytest.mark.e2e

PEM = (
    "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
    "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n",
)


def example(*extra_cart_paths: dict[str, object]) -> list[dict[str, object]]:
    objects = ing.example()
    objects = [o for o in objects if o["kind"] != "Node"] + ing.nodes(3, project=PROJECT)
    if extra_cart_paths:
        objects = [o for o in objects if o["metadata"]["name"] != "cart" or o["kind"] != "Ingress"]
        objects.append(ing.cart(*extra_cart_paths))
    return objects


def certificate(gcp: Gcp) -> None:
    body = {"name": ing.CERT, "certificate": PEM[0], "privateKey": PEM[1]}
    url = f"{gcp.url}/compute/v1/projects/{PROJECT}/global/sslCertificates"
    assert requests.post(url, json=body, timeout=10).status_code == 200
    gcp.clear()


def test_apply_noop_and_one_path(gcp: Gcp) -> None:
    certificate(gcp)
    manifests = gcp.write("ingress.yaml", *example())
    code, body = gcp.run("apply", manifests)
    assert code == 0, body
    entries = {o["name"]: o for o in body["objects"]}
    assert set(entries) == {"storefront", "site", "cart"}
    ips = {
        name: tuple(i["ip"] for i in e["status"]["loadBalancer"]["ingress"])
        for name, e in entries.items()
    }
    assert ips["site"] == ips["cart"] != ips["storefront"]
    writes = gcp.mutating()
    assert writes["urlMaps.insert"] == 3 and writes["globalForwardingRules.insert"] == 3
    assert writes["instanceGroups.insert"] == 3 and writes["instanceGroups.setNamedPorts"] == 3
    rules = gcp.listing("global/forwardingRules")
    assert {r["IPAddress"] for r in rules} == {ips["site"][0], ips["storefront"][0]}

    gcp.clear()
    assert gcp.run("plan", manifests) == (0, {"changes": [], "errors": []})
    assert gcp.run("apply", manifests)[0] == 0
    assert gcp.mutating() == Counter()

    more = gcp.write("more.yaml", *example(ing.path("/basket", "Prefix", "cart")))
    code, plan = gcp.run("plan", more)
    assert code == 0
    assert [(c["action"], c["type"]) for c in plan["changes"]] == [("update", "url-map")]
    gcp.clear()
    assert gcp.run("apply", more)[0] == 0
    assert gcp.mutating() == Counter({"urlMaps.update": 1})


def test_an_ingress_without_scheme_is_refused_with_advice(gcp: Gcp) -> None:
    plain = ing.ingress("plain", rules=[(None, [ing.path("/", "Prefix", "store")])])
    del plain["metadata"]["annotations"]["provisioner.io/scheme"]
    objects = [
        ing.ingress_class(),
        *ing.nodes(3, project=PROJECT),
        ing.service("store", "default", 30180),
        plain,
    ]
    code, body = gcp.run("apply", gcp.write("plain.yaml", *objects))
    assert code == 1
    (entry,) = body["objects"]
    assert "internal Application Load Balancers are not served on gcp yet" in entry["error"]
    assert "provisioner.io/scheme: internet-facing" in entry["error"]
    assert gcp.mutating() == Counter()


def test_legacy_gce_class_only_when_listed(gcp: Gcp) -> None:
    legacy = ing.ingress(
        "legacy",
        rules=[(None, [ing.path("/", "Prefix", "store")])],
        annotations={"kubernetes.io/ingress.class": "gce"},
    )
    del legacy["metadata"]["annotations"]["provisioner.io/scheme"]
    objects = [*ing.nodes(3, project=PROJECT), ing.service("store", "default", 30180), legacy]
    manifests = gcp.write("legacy.yaml", *objects)
    code, body = gcp.run("plan", manifests)
    assert (code, body) == (0, {"changes": [], "errors": []})  # GKE's own controller's
    code, body = gcp.run("apply", manifests, extra=("--legacy-ingress-class", "gce"))
    assert code == 0, body
    (entry,) = body["objects"]
    assert entry["status"]["loadBalancer"]["ingress"][0]["ip"]


def secure(*tls_hosts: str) -> list[dict[str, object]]:
    """One Ingress on HTTP and HTTPS with spec.tls hosts and no certificate named."""
    site = ing.ingress(
        "secure",
        rules=[("www.example.com", [ing.path("/", "Prefix", "store")])],
        annotations={"provisioner.io/listen-ports": '[{"HTTP": 80}, {"HTTPS": 443}]'},
    )
    site["spec"]["tls"] = [{"hosts": list(tls_hosts), "secretName": "secure-tls"}]
    return [
        ing.ingress_class(),
        *ing.nodes(3, project=PROJECT),
        ing.service("store", "default", 30180),
        site,
    ]


def test_managed_certificate_and_ssl_policy(gcp: Gcp) -> None:
    manifests = gcp.write("secure.yaml", *secure("www.example.com"))
    code, body = gcp.run("apply", manifests)
    assert code == 0, body
    writes = gcp.mutating()
    assert writes["sslPolicies.insert"] == 1 and writes["sslCertificates.insert"] == 1
    (certificate,) = gcp.listing("global/sslCertificates")
    assert certificate["type"] == "MANAGED"
    assert certificate["managed"]["domains"] == ["www.example.com"]
    (policy,) = gcp.listing("global/sslPolicies")
    assert (policy["profile"], policy["minTlsVersion"]) == ("MODERN", "TLS_1_2")
    (proxy,) = gcp.listing("global/targetHttpsProxies")
    assert proxy["sslCertificates"] == [certificate["selfLink"]]
    assert proxy["sslPolicy"] == policy["selfLink"]

    gcp.clear()
    assert gcp.run("apply", manifests)[0] == 0
    assert gcp.mutating() == Counter()

    more = gcp.write("more.yaml", *secure("www.example.com", "shop.example.com"))
    code, plan = gcp.run("plan", more)
    assert code == 0
    assert [(c["action"], c["type"]) for c in plan["changes"]] == [
        ("create", "ssl-certificate"),
        ("update", "target-proxy"),
        ("delete", "ssl-certificate"),
    ]
    gcp.clear()
    assert gcp.run("apply", more)[0] == 0
    assert [c["operation"] for c in gcp.calls() if is_mutating(c["operation"])] == [
        "sslCertificates.insert",
        "targetHttpsProxies.setSslCertificates",
        "sslCertificates.delete",
    ]


def test_wildcard_tls_host_is_refused(gcp: Gcp) -> None:
    code, body = gcp.run("apply", gcp.write("wild.yaml", *secure("*.example.com")))
    assert code == 1
    (entry,) = body["objects"]
    assert "Ingress default/secure: spec.tls host '*.example.com'" in entry["error"]
    assert "pre-shared-cert" in entry["error"]
    assert gcp.mutating() == Counter()
