"""SSL policies: which TLS versions and cipher suites a target HTTPS proxy offers.

A policy is a profile (a curated set of features) and a minimum TLS version; the combinations
the real API refuses are refused here with the field named: TLS 1.3 as the minimum only with
RESTRICTED, the FIPS profile only from TLS 1.2, custom features only (and always) with
CUSTOM. Policies change in place with `patch` and the fingerprint; a policy a proxy uses
cannot be deleted (the proxy lists it among its references).
"""

from __future__ import annotations

from providers.gcp.fake import checks
from providers.gcp.fake.errors import invalid_value
from providers.gcp.fake.links import Scope
from providers.gcp.fake.methods import whole
from providers.gcp.fake.registry import Collection, Context, register
from providers.gcp.fake.store import Resource

PROFILES = ("COMPATIBLE", "MODERN", "RESTRICTED", "CUSTOM", "FIPS_202205")
VERSIONS = ("TLS_1_0", "TLS_1_1", "TLS_1_2", "TLS_1_3")
POLICIES = ((Scope.GLOBAL, "sslPolicies"),)

_MODERN_12 = (
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
)
_CBC = (
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
)
_RSA = (
    "TLS_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_RSA_WITH_AES_128_CBC_SHA",
    "TLS_RSA_WITH_AES_256_CBC_SHA",
    "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
)
FEATURES = {
    "COMPATIBLE": _MODERN_12 + _CBC + _RSA,
    "MODERN": _MODERN_12 + _CBC,
    "RESTRICTED": _MODERN_12,
    "FIPS_202205": tuple(f for f in _MODERN_12 if "CHACHA" not in f),
}
"""Approximately the features each profile enables (TLS 1.2 ciphers; 1.3 ones are fixed)."""


def prepare_policy(ctx: Context, body: Resource, old: Resource | None) -> None:
    profile = checks.one_of(body, "profile", PROFILES, default="COMPATIBLE")
    version = checks.one_of(body, "minTlsVersion", VERSIONS, default="TLS_1_0")
    if version == "TLS_1_3" and profile != "RESTRICTED":
        raise invalid_value(
            "resource.minTlsVersion", version, "TLS_1_3 requires the RESTRICTED profile."
        )
    if profile == "FIPS_202205" and version not in ("TLS_1_2", "TLS_1_3"):
        raise invalid_value(
            "resource.minTlsVersion", version, "The FIPS_202205 profile requires TLS_1_2."
        )
    custom = body.get("customFeatures") or []
    if profile == "CUSTOM":
        if not custom:
            raise invalid_value(
                "resource.customFeatures", custom, "A CUSTOM profile needs custom features."
            )
        body["enabledFeatures"] = sorted(custom)
        return
    if custom:
        raise invalid_value(
            "resource.customFeatures", custom, "Custom features need the CUSTOM profile."
        )
    body.pop("customFeatures", None)
    body["enabledFeatures"] = sorted(FEATURES[str(profile)])


register(
    Collection(
        "sslPolicies",
        "sslPolicies",
        Scope.GLOBAL,
        "compute#sslPolicy",
        "ssl_policy",
        methods=frozenset({"get", "list", "insert", "delete", "patch"}),
        prepare=prepare_policy,
        fingerprint=whole,
    ),
)
