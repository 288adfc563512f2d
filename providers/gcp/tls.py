"""TLS on a target HTTPS proxy: the SSL policy it offers and the certificate it presents.

Both are worked out here from the desired state, without I/O.

- **SSL policy.** GCP's default policy (used when a proxy names none) still accepts TLS 1.0
  and 1.1, so every HTTPS proxy gets a policy of its own load balancer. The portable value
  of `provisioner.io/tls-policy` maps onto a profile and a minimum version: the design's
  default `ELBSecurityPolicy-TLS13-1-2-2021-06` (TLS 1.2 and 1.3) is MODERN from TLS 1.2;
  GCP's own form is `PROFILE[:TLS_1_x]` (COMPATIBLE, MODERN or RESTRICTED; from TLS 1.2
  unless said otherwise). Anything else is refused: another cloud's policy name would be
  served differently from what it says.
- **Managed certificate.** An HTTPS listener without named certificates gets one
  Google-managed certificate for the group's `spec.tls` hosts. Managed certificates cover
  exact names only (at most 100), so a wildcard host is refused with advice to name an
  existing certificate instead. The certificate's name hashes its sorted domains: a change
  of hosts is a new certificate, swapped onto the proxy before the old one is deleted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from providers.base import InvalidSpec
from provisioner.model import Listener, LoadBalancer, split_key

TLS_POLICY = "provisioner.io/tls-policy"
DEFAULT_TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
PROFILES = ("COMPATIBLE", "MODERN", "RESTRICTED")
VERSIONS = ("TLS_1_0", "TLS_1_1", "TLS_1_2", "TLS_1_3")
ALIASES = {DEFAULT_TLS_POLICY: ("MODERN", "TLS_1_2")}
"""Portable (AWS) policy names with a GCP equivalent: same TLS versions, comparable ciphers."""
MAX_DOMAINS = 100
_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DOMAIN = re.compile(rf"^{_LABEL}(\.{_LABEL})+$")

ACCEPTED_POLICIES = (
    f"{DEFAULT_TLS_POLICY} (MODERN from TLS 1.2, the default), or COMPATIBLE, MODERN or "
    "RESTRICTED, optionally followed by :TLS_1_0, :TLS_1_1, :TLS_1_2 (the default) or, with "
    "RESTRICTED only, :TLS_1_3"
)


@dataclass(frozen=True)
class SslPolicySpec:
    name: str
    profile: str
    min_tls_version: str


@dataclass(frozen=True)
class ManagedCertificateSpec:
    name: str
    domains: tuple[str, ...]
    """Sorted, so that the same hosts in another order are the same certificate."""


def parse_tls_policy(value: str) -> tuple[str, str] | None:
    """(profile, minimum TLS version) for a policy value, or None if gcp cannot apply it."""
    if value in ALIASES:
        return ALIASES[value]
    profile, _, version = value.strip().upper().partition(":")
    version = version or "TLS_1_2"
    if profile not in PROFILES or version not in VERSIONS:
        return None
    if version == "TLS_1_3" and profile != "RESTRICTED":
        return None
    return profile, version


def ssl_policy(desired: LoadBalancer, listeners: list[Listener]) -> tuple[str, str] | None:
    """The profile and version the HTTPS listeners ask for (None without HTTPS listeners)."""
    for listener in listeners:
        if listener.tls is None:
            continue
        parsed = parse_tls_policy(listener.tls.policy)
        if parsed is None:
            raise InvalidSpec(
                f"{desired.key}: annotation {TLS_POLICY} (or the class parameters' "
                f"tlsPolicy): {listener.tls.policy!r} is not a TLS policy gcp can apply; "
                f"accepted: {ACCEPTED_POLICIES}",
                field=TLS_POLICY,
                value=listener.tls.policy,
            )
        return parsed
    return None


def _who(desired: LoadBalancer, host: str) -> str:
    """The Ingress a `spec.tls` host most likely comes from (the one routing that host)."""
    kind, namespace, name = split_key(desired.key)
    if kind == "Ingress":
        return f"Ingress {namespace}/{name}"
    owners = sorted(
        {
            route.owner
            for listener in desired.listeners
            for route in listener.routes
            if route.host == host and route.owner
        }
    )
    if owners:
        return f"Ingress {', '.join(owners)} (group {name})"
    return f"a member of group {name}"


def managed_domains(desired: LoadBalancer, listener: Listener) -> tuple[str, ...]:
    """The domains of the managed certificate an HTTPS listener without certificates needs."""
    hosts = listener.tls.hosts if listener.tls is not None else ()
    if not hosts:
        raise InvalidSpec(
            f"{desired.key}: HTTPS port {listener.port} needs a certificate and none is set; "
            "accepted: existing certificates in ingress.gcp.kubernetes.io/pre-shared-cert or "
            "provisioner.io/tls-certificates, or spec.tls hosts for a Google-managed "
            "certificate",
            field="spec.tls",
            value=str(listener.port),
        )
    for host in hosts:
        if "*" in host:
            raise InvalidSpec(
                f"{_who(desired, host)}: spec.tls host {host!r}: Google-managed certificates "
                "cannot cover wildcard hosts; accepted: exact host names, or name an existing "
                "(wildcard) certificate in ingress.gcp.kubernetes.io/pre-shared-cert or "
                "provisioner.io/tls-certificates",
                field="spec.tls",
                value=host,
            )
        if len(host) > 253 or not _DOMAIN.match(host):
            raise InvalidSpec(
                f"{_who(desired, host)}: spec.tls host {host!r} is not a fully qualified "
                "domain name; accepted: lowercase DNS names with at least one dot",
                field="spec.tls",
                value=host,
            )
    if len(hosts) > MAX_DOMAINS:
        raise InvalidSpec(
            f"{desired.key}: spec.tls: {len(hosts)} hosts, but a Google-managed certificate "
            f"covers at most {MAX_DOMAINS}; accepted: at most {MAX_DOMAINS} hosts, or existing "
            "certificates in ingress.gcp.kubernetes.io/pre-shared-cert",
            field="spec.tls",
            value=str(len(hosts)),
        )
    return tuple(sorted(hosts))
