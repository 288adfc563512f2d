"""SSL policies through the real client: defaults, patch with the fingerprint, the values
the API refuses, attaching them to an HTTPS proxy, and the in-use refusal."""

from __future__ import annotations

import pytest
from google.api_core import exceptions
from google.cloud import compute_v1

from providers.gcp.fake import FakeCompute
from providers.gcp.seed import SeededCluster
from tests.gcp.fake.builders import PROJECT, Clients, wait
from tests.gcp.fake.test_frontends import CERT, KEY, l7


def policy(clients: Clients, name: str, **fields: str) -> compute_v1.SslPolicy:
    wait(
        clients.SslPoliciesClient.insert(
            project=PROJECT, ssl_policy_resource=compute_v1.SslPolicy(name=name, **fields)
        )
    )
    return clients.SslPoliciesClient.get(project=PROJECT, ssl_policy=name)


def https_proxy(clients: Clients, **fields: str) -> None:
    _, url_map = l7(clients)
    wait(
        clients.SslCertificatesClient.insert(
            project=PROJECT,
            ssl_certificate_resource=compute_v1.SslCertificate(
                name="cert", certificate=CERT, private_key=KEY
            ),
        )
    )
    wait(
        clients.TargetHttpsProxiesClient.insert(
            project=PROJECT,
            target_https_proxy_resource=compute_v1.TargetHttpsProxy(
                name="https",
                url_map=url_map,
                ssl_certificates=["global/sslCertificates/cert"],
                **fields,
            ),
        )
    )


def test_defaults_list_and_patch_with_fingerprint(clients: Clients, fake: FakeCompute) -> None:
    plain = policy(clients, "plain")
    assert (plain.profile, plain.min_tls_version) == ("COMPATIBLE", "TLS_1_0")
    assert plain.kind == "compute#sslPolicy" and plain.fingerprint and plain.enabled_features
    modern = policy(clients, "modern", profile="MODERN", min_tls_version="TLS_1_2")
    names = [p.name for p in clients.SslPoliciesClient.list(project=PROJECT)]
    assert names == ["modern", "plain"]
    wait(
        clients.SslPoliciesClient.patch(
            project=PROJECT,
            ssl_policy="modern",
            ssl_policy_resource=compute_v1.SslPolicy(
                profile="RESTRICTED", fingerprint=modern.fingerprint
            ),
        )
    )
    patched = clients.SslPoliciesClient.get(project=PROJECT, ssl_policy="modern")
    assert (patched.profile, patched.min_tls_version) == ("RESTRICTED", "TLS_1_2")
    assert patched.fingerprint != modern.fingerprint
    assert len(patched.enabled_features) < len(modern.enabled_features)
    with pytest.raises(exceptions.PreconditionFailed, match="fingerprint"):
        clients.SslPoliciesClient.patch(
            project=PROJECT,
            ssl_policy="modern",
            ssl_policy_resource=compute_v1.SslPolicy(
                profile="MODERN", fingerprint=modern.fingerprint
            ),
        )
    assert [c.operation for c in fake.calls()][-1] == "sslPolicies.patch"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"profile": "STRONG"}, "resource.profile"),
        ({"min_tls_version": "TLS_1_4"}, "resource.minTlsVersion"),
        ({"profile": "MODERN", "min_tls_version": "TLS_1_3"}, "resource.minTlsVersion"),
        ({"profile": "FIPS_202205", "min_tls_version": "TLS_1_0"}, "resource.minTlsVersion"),
        ({"profile": "CUSTOM"}, "resource.customFeatures"),
    ],
)
def test_bad_values_are_400_naming_the_field(
    clients: Clients, fields: dict[str, str], field: str
) -> None:
    with pytest.raises(exceptions.BadRequest, match=field.replace(".", r"\.")):
        policy(clients, "bad", **fields)
    with pytest.raises(exceptions.NotFound):
        clients.SslPoliciesClient.get(project=PROJECT, ssl_policy="bad")


def test_bad_patch_is_refused_and_changes_nothing(clients: Clients) -> None:
    policy(clients, "p", profile="MODERN", min_tls_version="TLS_1_2")
    with pytest.raises(exceptions.BadRequest, match=r"resource\.minTlsVersion"):
        clients.SslPoliciesClient.patch(
            project=PROJECT,
            ssl_policy="p",
            ssl_policy_resource=compute_v1.SslPolicy(min_tls_version="TLS_1_3"),
        )
    assert clients.SslPoliciesClient.get(project=PROJECT, ssl_policy="p").profile == "MODERN"


def test_proxy_policy_set_swap_detach_and_in_use(
    clients: Clients, cluster: SeededCluster, fake: FakeCompute
) -> None:
    with pytest.raises(exceptions.NotFound, match="sslPolicies/missing"):
        https_proxy(clients, ssl_policy="global/sslPolicies/missing")
    first = policy(clients, "first", profile="MODERN", min_tls_version="TLS_1_2")
    wait(
        clients.TargetHttpsProxiesClient.insert(
            project=PROJECT,
            target_https_proxy_resource=compute_v1.TargetHttpsProxy(
                name="https",
                url_map="global/urlMaps/map",
                ssl_certificates=["global/sslCertificates/cert"],
                ssl_policy="global/sslPolicies/first",
            ),
        )
    )
    proxies = clients.TargetHttpsProxiesClient
    assert proxies.get(project=PROJECT, target_https_proxy="https").ssl_policy == first.self_link
    with pytest.raises(exceptions.BadRequest, match="sslPolicies/first' is already being used"):
        clients.SslPoliciesClient.delete(project=PROJECT, ssl_policy="first")
    second = policy(clients, "second", profile="RESTRICTED")
    fake.clear_calls()
    wait(
        proxies.set_ssl_policy(
            project=PROJECT,
            target_https_proxy="https",
            ssl_policy_reference_resource=compute_v1.SslPolicyReference(
                ssl_policy=second.self_link
            ),
        )
    )
    (call,) = fake.calls()
    assert call.operation == "targetHttpsProxies.setSslPolicy"
    assert call.path.endswith("/global/targetHttpsProxies/https/setSslPolicy")
    assert proxies.get(project=PROJECT, target_https_proxy="https").ssl_policy == second.self_link
    wait(clients.SslPoliciesClient.delete(project=PROJECT, ssl_policy="first"))
    with pytest.raises(exceptions.NotFound, match="sslPolicies/gone"):
        proxies.set_ssl_policy(
            project=PROJECT,
            target_https_proxy="https",
            ssl_policy_reference_resource=compute_v1.SslPolicyReference(
                ssl_policy="global/sslPolicies/gone"
            ),
        )
    wait(
        proxies.set_ssl_policy(
            project=PROJECT,
            target_https_proxy="https",
            ssl_policy_reference_resource=compute_v1.SslPolicyReference(),
        )
    )
    assert not proxies.get(project=PROJECT, target_https_proxy="https").ssl_policy
    wait(clients.SslPoliciesClient.delete(project=PROJECT, ssl_policy="second"))
