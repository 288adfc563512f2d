"""The TLS part of an Application Load Balancer plan: the key's SSL policy and its
Google-managed certificate (what they should be is worked out in `tls`).

The policy changes in place (`patch` with the fingerprint read here). A certificate cannot
change: new hosts give a new certificate, created before the proxies are updated and the old
one deleted after them (the phases' order does that), so the load balancer never serves
without one. Both are found by their marks and deleted once no proxy of the key needs them.
"""

from __future__ import annotations

from typing import Any

from providers.base import Action
from providers.gcp import application as a
from providers.gcp.alb_context import AppContext, AppPhases, desc, differs, first, global_scope
from providers.gcp.alb_context import stale as drop_stale
from providers.gcp.changes import change
from providers.gcp.network import global_path


def plan_ssl_policy(ctx: AppContext, phases: AppPhases) -> str | None:
    """The path of the policy the HTTPS proxies must carry (None: there is no HTTPS proxy)."""
    key, collection = ctx.app.key, "sslPolicies"
    spec = ctx.app.ssl_policy
    keep: set[str] = set()
    path: str | None = None
    if spec is not None:
        body = {"profile": spec.profile, "minTlsVersion": spec.min_tls_version}
        current = first(ctx.observed.by_role(collection), a.SSL_POLICY)
        if current is None:
            name = spec.name
            phases.add(
                change(
                    Action.CREATE,
                    "ssl-policy",
                    name,
                    key,
                    reason="does not exist",
                    diff=body,
                    params={
                        **global_scope(collection),
                        "body": {**body, "name": name, **desc(ctx, a.SSL_POLICY)},
                    },
                )
            )
        else:
            name = str(current["name"])
            if differs(body, current):
                phases.add(
                    change(
                        Action.UPDATE,
                        "ssl-policy",
                        name,
                        key,
                        reason="policy differs",
                        diff={
                            field: [current.get(field), value]
                            for field, value in body.items()
                            if current.get(field) != value
                        },
                        params={
                            **global_scope(collection),
                            "name": name,
                            "body": {**body, "fingerprint": current.get("fingerprint", "")},
                        },
                    )
                )
        keep.add(name)
        path = global_path(ctx.project, collection, name)
    drop_stale(ctx, phases, "ssl-policy", collection, keep)
    return path


def _domains(certificate: dict[str, Any]) -> list[str]:
    managed = certificate.get("managed") or {}
    return sorted(str(d) for d in managed.get("domains") or [])


def plan_managed_certificate(ctx: AppContext, phases: AppPhases) -> str | None:
    """The path of the managed certificate the HTTPS proxies must carry, or None."""
    key, collection = ctx.app.key, "sslCertificates"
    spec = ctx.app.managed_certificate
    ours = sorted(ctx.observed.of(collection), key=lambda c: str(c.get("name")))
    keep: set[str] = set()
    path: str | None = None
    if spec is not None:
        current = next(
            (c for c in ours if c.get("type") == "MANAGED" and _domains(c) == list(spec.domains)),
            None,
        )
        if current is None:
            name = spec.name
            replaced = [_domains(c) for c in ours]
            phases.add(
                change(
                    Action.CREATE,
                    "ssl-certificate",
                    name,
                    key,
                    reason="does not exist"
                    if not replaced
                    else "the hosts changed, and a certificate cannot change in place",
                    diff={"domains": list(spec.domains)},
                    params={
                        **global_scope(collection),
                        "body": {
                            "name": name,
                            "type": "MANAGED",
                            "managed": {"domains": list(spec.domains)},
                            **desc(ctx, a.MANAGED_CERTIFICATE),
                        },
                    },
                )
            )
        else:
            name = str(current["name"])
        keep.add(name)
        path = global_path(ctx.project, collection, name)
    drop_stale(ctx, phases, "ssl-certificate", collection, keep)
    return path
