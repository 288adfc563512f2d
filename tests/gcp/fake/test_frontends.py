"""Forwarding rules, addresses they share, URL maps, proxies and certificates."""

from __future__ import annotations

import pytest
from google.api_core import exceptions
from google.cloud import compute_v1

from providers.gcp.seed import SeededCluster
from tests.gcp.fake.builders import (
    PROJECT,
    REGION,
    ZONE,
    Clients,
    global_check,
    global_service,
    group,
    regional_check,
    regional_service,
    wait,
)

CERT = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
KEY = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n"


def rule(clients: Clients, name: str, service: str, **fields: object) -> compute_v1.ForwardingRule:
    body = compute_v1.ForwardingRule(name=name, backend_service=service, **fields)
    wait(
        clients.ForwardingRulesClient.insert(
            project=PROJECT, region=REGION, forwarding_rule_resource=body
        )
    )
    return clients.ForwardingRulesClient.get(project=PROJECT, region=REGION, forwarding_rule=name)


def l4(clients: Clients, protocol: str = "TCP", name: str = "bs") -> str:
    try:
        ig = group(clients, "ig-l4", ZONE, "node-2")
    except exceptions.Conflict:
        ig = f"zones/{ZONE}/instanceGroups/ig-l4"
    check = regional_check(clients, f"hc-{name}")
    return regional_service(clients, name, check, ig, protocol=protocol)


def l7(clients: Clients) -> tuple[str, str]:
    """A global backend service and a URL map pointing at it."""
    ig = group(clients, "ig", ZONE, "node-1")
    service = global_service(clients, "web", global_check(clients), ig)
    wait(
        clients.UrlMapsClient.insert(
            project=PROJECT, url_map_resource=compute_v1.UrlMap(name="map", default_service=service)
        )
    )
    return service, clients.UrlMapsClient.get(project=PROJECT, url_map="map").self_link


def test_forwarding_rule_labels_and_fingerprints(clients: Clients, cluster: SeededCluster) -> None:
    got = rule(clients, "fr", l4(clients), ports=["80", "443"], labels={"owner": "abc"})
    assert got.I_p_address and got.I_p_protocol == "TCP" and list(got.ports) == ["80", "443"]
    assert got.labels == {"owner": "abc"} and got.label_fingerprint
    request = compute_v1.RegionSetLabelsRequest(
        labels={"owner": "xyz"}, label_fingerprint=got.label_fingerprint
    )
    wait(
        clients.ForwardingRulesClient.set_labels(
            project=PROJECT,
            region=REGION,
            resource="fr",
            region_set_labels_request_resource=request,
        )
    )
    with pytest.raises(exceptions.PreconditionFailed, match=r"[Ll]abels fingerprint"):
        clients.ForwardingRulesClient.set_labels(
            project=PROJECT,
            region=REGION,
            resource="fr",
            region_set_labels_request_resource=request,
        )
    request.label_fingerprint = ""
    request.labels = {"owner": "final"}
    wait(
        clients.ForwardingRulesClient.set_labels(
            project=PROJECT,
            region=REGION,
            resource="fr",
            region_set_labels_request_resource=request,
        )
    )
    after = clients.ForwardingRulesClient.get(project=PROJECT, region=REGION, forwarding_rule="fr")
    assert after.labels == {"owner": "final"}
    with pytest.raises(exceptions.BadRequest, match=r"resource.labels"):
        rule(clients, "bad", after.backend_service, ports=["81"], labels={"Bad": "x"})


def test_forwarding_rule_refusals(clients: Clients, cluster: SeededCluster) -> None:
    with pytest.raises(exceptions.NotFound, match="backendServices/nothing"):
        rule(clients, "fr", "nothing", ports=["80"])
    service = l4(clients)
    with pytest.raises(exceptions.BadRequest, match=r"resource.ports"):
        rule(clients, "fr", service, ports=[str(p) for p in range(80, 86)])
    with pytest.raises(exceptions.BadRequest, match=r"resource.IPProtocol"):
        rule(clients, "fr", service, ports=["80"], I_p_protocol="UDP")
    with pytest.raises(exceptions.BadRequest, match=r"resource.IPAddress"):
        rule(clients, "fr", service, ports=["80"], I_p_address="203.0.113.7")


def test_tcp_and_udp_share_only_a_reserved_address(
    clients: Clients, cluster: SeededCluster
) -> None:
    tcp, udp = l4(clients, "TCP", "tcp"), l4(clients, "UDP", "udp")
    first = rule(clients, "auto", tcp, ports=["53"])
    with pytest.raises(exceptions.BadRequest, match=r"resource.IPAddress.*not reserved"):
        rule(
            clients,
            "auto-udp",
            udp,
            ports=["53"],
            I_p_protocol="UDP",
            I_p_address=first.I_p_address,
        )
    wait(
        clients.AddressesClient.insert(
            project=PROJECT, region=REGION, address_resource=compute_v1.Address(name="dns")
        )
    )
    address = clients.AddressesClient.get(project=PROJECT, region=REGION, address="dns")
    a = rule(clients, "dns-tcp", tcp, ports=["53"], I_p_address=address.self_link)
    b = rule(
        clients,
        "dns-udp",
        udp,
        ports=["53"],
        I_p_protocol="UDP",
        I_p_address=f"regions/{REGION}/addresses/dns",
    )
    assert a.I_p_address == b.I_p_address == address.address
    with pytest.raises(exceptions.BadRequest, match="already used by forwarding rule"):
        rule(clients, "dns-tcp-2", tcp, ports=["53"], I_p_address=address.address)
    used = clients.AddressesClient.get(project=PROJECT, region=REGION, address="dns")
    assert used.status == "IN_USE" and len(used.users) == 2
    with pytest.raises(exceptions.BadRequest, match="addresses/dns' is already being used"):
        clients.AddressesClient.delete(project=PROJECT, region=REGION, address="dns")
    with pytest.raises(exceptions.BadRequest, match="backendServices/tcp' is already being"):
        clients.RegionBackendServicesClient.delete(
            project=PROJECT, region=REGION, backend_service="tcp"
        )


def test_internal_rule_takes_an_address_from_the_subnetwork(
    clients: Clients, cluster: SeededCluster
) -> None:
    ig = group(clients, "ig", ZONE, "node-1")
    service = regional_service(clients, "ilb", regional_check(clients), ig, scheme="INTERNAL")
    got = rule(
        clients,
        "ilb",
        service,
        ports=["80"],
        load_balancing_scheme="INTERNAL",
        subnetwork=cluster.subnetworks[REGION],
    )
    assert got.I_p_address.startswith("10.0.") and got.network == cluster.network


def test_http_load_balancer_chain(clients: Clients, cluster: SeededCluster) -> None:
    service, url_map = l7(clients)
    wait(
        clients.TargetHttpProxiesClient.insert(
            project=PROJECT,
            target_http_proxy_resource=compute_v1.TargetHttpProxy(name="http", url_map=url_map),
        )
    )
    proxy = clients.TargetHttpProxiesClient.get(project=PROJECT, target_http_proxy="http")
    wait(
        clients.GlobalAddressesClient.insert(
            project=PROJECT, address_resource=(compute_v1.Address(name="vip"))
        )
    )
    for name, port, target in [("fr-http", "80", proxy.self_link)]:
        wait(
            clients.GlobalForwardingRulesClient.insert(
                project=PROJECT,
                forwarding_rule_resource=compute_v1.ForwardingRule(
                    name=name,
                    target=target,
                    port_range=port,
                    I_p_address="global/addresses/vip",
                    load_balancing_scheme="EXTERNAL_MANAGED",
                ),
            )
        )
    got = clients.GlobalForwardingRulesClient.get(project=PROJECT, forwarding_rule="fr-http")
    assert got.port_range == "80-80" and got.target == proxy.self_link
    # the odd path without /global/
    wait(
        clients.UrlMapsClient.insert(
            project=PROJECT,
            url_map_resource=compute_v1.UrlMap(name="map2", default_service=service),
        )
    )
    wait(
        clients.TargetHttpProxiesClient.set_url_map(
            project=PROJECT,
            target_http_proxy="http",
            url_map_reference_resource=compute_v1.UrlMapReference(url_map="global/urlMaps/map2"),
        )
    )
    assert clients.TargetHttpProxiesClient.get(
        project=PROJECT, target_http_proxy="http"
    ).url_map.endswith("/global/urlMaps/map2")
    wait(clients.UrlMapsClient.delete(project=PROJECT, url_map="map"))
    with pytest.raises(exceptions.BadRequest, match="urlMaps/map2' is already being used"):
        clients.UrlMapsClient.delete(project=PROJECT, url_map="map2")
    with pytest.raises(exceptions.BadRequest, match="targetHttpProxies/http' is already"):
        clients.TargetHttpProxiesClient.delete(project=PROJECT, target_http_proxy="http")
    with pytest.raises(exceptions.BadRequest, match="backendServices/web' is already"):
        clients.BackendServicesClient.delete(project=PROJECT, backend_service="web")
    with pytest.raises(exceptions.NotFound, match="targetHttpProxies/none"):
        clients.GlobalForwardingRulesClient.insert(
            project=PROJECT,
            forwarding_rule_resource=compute_v1.ForwardingRule(
                name="dangling", target="global/targetHttpProxies/none", port_range="80"
            ),
        )
    wait(
        clients.TargetHttpProxiesClient.insert(
            project=PROJECT,
            target_http_proxy_resource=compute_v1.TargetHttpProxy(
                name="http2", url_map=url_map.replace("/map", "/map2")
            ),
        )
    )
    wait(
        clients.GlobalForwardingRulesClient.set_target(
            project=PROJECT,
            forwarding_rule="fr-http",
            target_reference_resource=compute_v1.TargetReference(
                target=f"projects/{PROJECT}/global/targetHttpProxies/http2"
            ),
        )
    )
    assert clients.GlobalForwardingRulesClient.get(
        project=PROJECT, forwarding_rule="fr-http"
    ).target.endswith("/http2")


def test_http_and_https_share_a_reserved_global_address(
    clients: Clients, cluster: SeededCluster
) -> None:
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
        clients.TargetHttpProxiesClient.insert(
            project=PROJECT,
            target_http_proxy_resource=compute_v1.TargetHttpProxy(name="http", url_map=url_map),
        )
    )
    wait(
        clients.TargetHttpsProxiesClient.insert(
            project=PROJECT,
            target_https_proxy_resource=compute_v1.TargetHttpsProxy(
                name="https", url_map=url_map, ssl_certificates=["global/sslCertificates/cert"]
            ),
        )
    )
    ephemeral = None
    for name, port, proxy in [
        ("a", "80", "targetHttpProxies/http"),
        ("b", "443", "targetHttpsProxies/https"),
    ]:
        body = compute_v1.ForwardingRule(name=name, target=f"global/{proxy}", port_range=port)
        if ephemeral:
            body.I_p_address = ephemeral
            with pytest.raises(exceptions.BadRequest, match="IPAddress"):
                clients.GlobalForwardingRulesClient.insert(
                    project=PROJECT, forwarding_rule_resource=body
                )
        else:
            wait(
                clients.GlobalForwardingRulesClient.insert(
                    project=PROJECT, forwarding_rule_resource=body
                )
            )
            ephemeral = clients.GlobalForwardingRulesClient.get(
                project=PROJECT, forwarding_rule=name
            ).I_p_address
    wait(
        clients.GlobalAddressesClient.insert(
            project=PROJECT, address_resource=(compute_v1.Address(name="vip"))
        )
    )
    vip = clients.GlobalAddressesClient.get(project=PROJECT, address="vip")
    for name, port, proxy in [
        ("c", "80", "targetHttpProxies/http"),
        ("d", "443", "targetHttpsProxies/https"),
    ]:
        wait(
            clients.GlobalForwardingRulesClient.insert(
                project=PROJECT,
                forwarding_rule_resource=compute_v1.ForwardingRule(
                    name=name, target=f"global/{proxy}", port_range=port, I_p_address=vip.address
                ),
            )
        )
    assert clients.GlobalAddressesClient.get(project=PROJECT, address="vip").status == "IN_USE"


def test_certificates_swap_and_in_use(clients: Clients, cluster: SeededCluster) -> None:
    _, url_map = l7(clients)
    certs = clients.SslCertificatesClient
    wait(
        certs.insert(
            project=PROJECT,
            ssl_certificate_resource=compute_v1.SslCertificate(
                name="old", certificate=CERT, private_key=KEY
            ),
        )
    )
    got = certs.get(project=PROJECT, ssl_certificate="old")
    assert got.type_ == "SELF_MANAGED" and got.certificate == CERT and not got.private_key
    wait(
        certs.insert(
            project=PROJECT,
            ssl_certificate_resource=compute_v1.SslCertificate(
                name="managed",
                managed=compute_v1.SslCertificateManagedSslCertificate(domains=["www.example.com"]),
            ),
        )
    )
    managed = certs.get(project=PROJECT, ssl_certificate="managed")
    assert managed.type_ == "MANAGED" and managed.managed.status == "PROVISIONING"
    wait(
        clients.TargetHttpsProxiesClient.insert(
            project=PROJECT,
            target_https_proxy_resource=compute_v1.TargetHttpsProxy(
                name="https", url_map=url_map, ssl_certificates=[got.self_link]
            ),
        )
    )
    with pytest.raises(exceptions.BadRequest, match="sslCertificates/old' is already being used"):
        certs.delete(project=PROJECT, ssl_certificate="old")
    wait(
        certs.insert(
            project=PROJECT,
            ssl_certificate_resource=compute_v1.SslCertificate(
                name="new", certificate=CERT, private_key=KEY
            ),
        )
    )
    wait(
        clients.TargetHttpsProxiesClient.set_ssl_certificates(
            project=PROJECT,
            target_https_proxy="https",
            target_https_proxies_set_ssl_certificates_request_resource=(
                compute_v1.TargetHttpsProxiesSetSslCertificatesRequest(
                    ssl_certificates=[
                        "global/sslCertificates/new",
                        "global/sslCertificates/managed",
                    ]
                )
            ),
        )
    )
    wait(certs.delete(project=PROJECT, ssl_certificate="old"))
    with pytest.raises(exceptions.NotFound, match="sslCertificates/gone"):
        clients.TargetHttpsProxiesClient.set_ssl_certificates(
            project=PROJECT,
            target_https_proxy="https",
            target_https_proxies_set_ssl_certificates_request_resource=(
                compute_v1.TargetHttpsProxiesSetSslCertificatesRequest(
                    ssl_certificates=["global/sslCertificates/gone"]
                )
            ),
        )
    with pytest.raises(exceptions.BadRequest, match=r"resource.privateKey"):
        certs.insert(
            project=PROJECT,
            ssl_certificate_resource=compute_v1.SslCertificate(name="nokey", certificate=CERT),
        )


def test_url_map_fingerprint_and_checks(clients: Clients, cluster: SeededCluster) -> None:
    service, _ = l7(clients)
    client = clients.UrlMapsClient
    current = client.get(project=PROJECT, url_map="map")
    assert current.default_service == service
    current.host_rules = [compute_v1.HostRule(hosts=["a.example.com"], path_matcher="pm")]
    current.path_matchers = [
        compute_v1.PathMatcher(
            name="pm",
            default_service=service,
            path_rules=[compute_v1.PathRule(paths=["/api", "/api/*"], service="web")],
        )
    ]
    wait(client.update(project=PROJECT, url_map="map", url_map_resource=current))
    updated = client.get(project=PROJECT, url_map="map")
    assert updated.fingerprint != current.fingerprint
    assert updated.path_matchers[0].path_rules[0].service == service
    with pytest.raises(exceptions.PreconditionFailed):
        client.update(project=PROJECT, url_map="map", url_map_resource=current)
    with pytest.raises(exceptions.PreconditionFailed):
        client.patch(
            project=PROJECT,
            url_map="map",
            url_map_resource=compute_v1.UrlMap(fingerprint=current.fingerprint, description="x"),
        )
    wait(
        client.patch(
            project=PROJECT,
            url_map="map",
            url_map_resource=compute_v1.UrlMap(description="patched"),
        )
    )
    bad = client.get(project=PROJECT, url_map="map")
    bad.host_rules[0].path_matcher = "nope"
    with pytest.raises(exceptions.BadRequest, match=r"resource.hostRules\[0\].pathMatcher"):
        client.update(project=PROJECT, url_map="map", url_map_resource=bad)
    with pytest.raises(exceptions.NotFound, match="backendServices/ghost"):
        client.insert(
            project=PROJECT,
            url_map_resource=compute_v1.UrlMap(
                name="m2", default_service="global/backendServices/ghost"
            ),
        )
    regional = l4(clients, name="l4")
    with pytest.raises(exceptions.BadRequest, match=r"resource.defaultService"):
        client.insert(
            project=PROJECT, url_map_resource=compute_v1.UrlMap(name="m3", default_service=regional)
        )


def test_url_map_route_rules_exclude_path_rules(clients: Clients, cluster: SeededCluster) -> None:
    service, _ = l7(clients)
    client = clients.UrlMapsClient
    current = client.get(project=PROJECT, url_map="map")
    current.host_rules = [compute_v1.HostRule(hosts=["a.example.com"], path_matcher="pm")]
    route = compute_v1.HttpRouteRule(
        priority=1,
        match_rules=[compute_v1.HttpRouteRuleMatch(prefix_match="/a/")],
        service=service,
        description="ns/name/r0/p0",
    )
    current.path_matchers = [
        compute_v1.PathMatcher(
            name="pm",
            default_service=service,
            route_rules=[route],
            path_rules=[compute_v1.PathRule(paths=["/b"], service=service)],
        )
    ]
    with pytest.raises(exceptions.BadRequest, match="pathRules or routeRules"):
        client.update(project=PROJECT, url_map="map", url_map_resource=current)
    current.path_matchers[0].path_rules = []
    wait(client.update(project=PROJECT, url_map="map", url_map_resource=current))
    stored = client.get(project=PROJECT, url_map="map").path_matchers[0].route_rules[0]
    assert stored.description == "ns/name/r0/p0"
    assert stored.match_rules[0].prefix_match == "/a/"
