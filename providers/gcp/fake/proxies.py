"""Target HTTP(S) proxies and SSL certificates, between URL maps and forwarding rules.

SSL certificates have no update method: a changed certificate is a new certificate, swapped
onto the proxy with setSslCertificates before the old one is deleted. An HTTPS proxy's SSL
policy (`policies`) must exist; setSslPolicy attaches another or, given none, detaches it.
"""

from __future__ import annotations

from collections.abc import Iterable

from providers.gcp.fake import checks
from providers.gcp.fake.errors import invalid_value, required
from providers.gcp.fake.links import Scope
from providers.gcp.fake.methods import existing, operation, refresh, whole
from providers.gcp.fake.registry import Collection, Context, register
from providers.gcp.fake.store import Resource

URL_MAPS = ((Scope.GLOBAL, "urlMaps"),)
CERTIFICATES = ((Scope.GLOBAL, "sslCertificates"),)
POLICIES = ((Scope.GLOBAL, "sslPolicies"),)
PROXY_METHODS = frozenset({"get", "list", "insert", "delete", "patch", "setUrlMap"})


def prepare_http_proxy(ctx: Context, body: Resource, old: Resource | None) -> None:
    body["urlMap"] = ctx.require(body.get("urlMap"), field="resource.urlMap", collections=URL_MAPS)


def prepare_https_proxy(ctx: Context, body: Resource, old: Resource | None) -> None:
    prepare_http_proxy(ctx, body, old)
    checks.one_of(body, "quicOverride", ("NONE", "ENABLE", "DISABLE"), default="NONE")
    _certificates(ctx, body, "resource")
    if body.get("sslPolicy"):
        body["sslPolicy"] = ctx.require(
            body["sslPolicy"], field="resource.sslPolicy", collections=POLICIES
        )
    else:
        body.pop("sslPolicy", None)


def _certificates(ctx: Context, body: Resource, prefix: str) -> None:
    certificates = body.get("sslCertificates", [])
    if not certificates and not body.get("certificateMap"):
        raise required(f"{prefix}.sslCertificates")
    if len(certificates) > 15:
        raise invalid_value(
            f"{prefix}.sslCertificates", len(certificates), "At most 15 certificates."
        )
    body["sslCertificates"] = [
        ctx.require(link, field=f"{prefix}.sslCertificates[{i}]", collections=CERTIFICATES)
        for i, link in enumerate(certificates)
    ]


def proxy_refs(proxy: Resource) -> Iterable[str]:
    yield proxy["urlMap"]
    yield from proxy.get("sslCertificates", [])
    if proxy.get("sslPolicy"):
        yield proxy["sslPolicy"]


def set_url_map(
    ctx: Context, collection: Collection, body: Resource, query: dict[str, str]
) -> Resource:
    proxy = existing(ctx)
    proxy["urlMap"] = ctx.require(
        body.get("urlMap"), field="urlMapReference.urlMap", collections=URL_MAPS
    )
    refresh(ctx, collection, proxy)
    return operation(ctx, "setUrlMap", ctx.key, target_id=proxy["id"])


def set_ssl_certificates(
    ctx: Context, collection: Collection, body: Resource, query: dict[str, str]
) -> Resource:
    proxy = existing(ctx)
    _certificates(ctx, body, "targetHttpsProxiesSetSslCertificatesRequest")
    proxy["sslCertificates"] = body["sslCertificates"]
    refresh(ctx, collection, proxy)
    return operation(ctx, "setSslCertificates", ctx.key, target_id=proxy["id"])


def set_ssl_policy(
    ctx: Context, collection: Collection, body: Resource, query: dict[str, str]
) -> Resource:
    """Attach the policy named in the body, or detach the proxy's policy when it names none."""
    proxy = existing(ctx)
    if body.get("sslPolicy"):
        proxy["sslPolicy"] = ctx.require(
            body["sslPolicy"], field="sslPolicyReference.sslPolicy", collections=POLICIES
        )
    else:
        proxy.pop("sslPolicy", None)
    refresh(ctx, collection, proxy)
    return operation(ctx, "setSslPolicy", ctx.key, target_id=proxy["id"])


def prepare_certificate(ctx: Context, body: Resource, old: Resource | None) -> None:
    """Self-managed (PEM certificate and key) or Google-managed (domains); never updated."""
    managed = body.get("managed")
    self_managed = body.pop("selfManaged", None) or {}
    certificate = body.get("certificate") or self_managed.get("certificate")
    key = body.pop("privateKey", None) or self_managed.get("privateKey")
    default = "MANAGED" if managed else "SELF_MANAGED"
    kind = checks.one_of(body, "type", ("SELF_MANAGED", "MANAGED"), default=default)
    if kind == "MANAGED":
        domains = checks.present(managed or {}, "domains", "resource.managed")
        if len(domains) > 100:
            raise invalid_value("resource.managed.domains", len(domains), "At most 100.")
        for domain in domains:
            if "*" in domain or "." not in domain:
                raise invalid_value(
                    "resource.managed.domains",
                    domain,
                    "Managed certificates take fully qualified names, without wildcards.",
                )
        body["managed"] = {
            "domains": list(domains),
            "status": "PROVISIONING",
            "domainStatus": dict.fromkeys(domains, "PROVISIONING"),
        }
        body["subjectAlternativeNames"] = list(domains)
        return
    if not certificate or "-----BEGIN CERTIFICATE-----" not in str(certificate):
        raise invalid_value(
            "resource.certificate",
            str(certificate or "")[:40],
            "Must be a PEM-encoded certificate chain.",
        )
    if not key or "PRIVATE KEY-----" not in str(key):
        raise invalid_value(
            "resource.privateKey", "<redacted>", "Must be a PEM-encoded private key."
        )
    body["certificate"] = certificate
    body["_privateKey"] = key


register(
    Collection(
        "targetHttpProxies",
        "targetHttpProxies",
        Scope.GLOBAL,
        "compute#targetHttpProxy",
        "target_http_proxy",
        methods=PROXY_METHODS,
        prepare=prepare_http_proxy,
        refs=proxy_refs,
        fingerprint=whole,
    ),
    Collection(
        "targetHttpsProxies",
        "targetHttpsProxies",
        Scope.GLOBAL,
        "compute#targetHttpsProxy",
        "target_https_proxy",
        methods=PROXY_METHODS | {"setSslCertificates", "setSslPolicy"},
        prepare=prepare_https_proxy,
        refs=proxy_refs,
        fingerprint=whole,
    ),
    Collection(
        "sslCertificates",
        "sslCertificates",
        Scope.GLOBAL,
        "compute#sslCertificate",
        "ssl_certificate",
        prepare=prepare_certificate,
    ),
)

VERBS = {
    ("targetHttpProxies", "setUrlMap"): set_url_map,
    ("targetHttpsProxies", "setUrlMap"): set_url_map,
    ("targetHttpsProxies", "setSslCertificates"): set_ssl_certificates,
    ("targetHttpsProxies", "setSslPolicy"): set_ssl_policy,
}
