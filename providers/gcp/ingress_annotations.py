"""GKE's Ingress annotations, mapped onto the portable fields, and GCP-only Ingress settings.

Manifests written for GKE's own Ingress controller keep working where the meaning carries
over: each annotation below sets the same field as the matching `provisioner.io/` key, and a
disagreement between the two is an error naming both.

- `kubernetes.io/ingress.class: gce` means an external load balancer (the design's one
  exception to "internal by default"); `gce-internal` means internal, which GCP does not serve
  yet (the provider says so). The annotation only selects Ingresses when its value is listed
  in `--legacy-ingress-class`.
- `ingress.gcp.kubernetes.io/pre-shared-cert` names existing SSL certificates, exactly what
  `provisioner.io/tls-certificates` means on GCP.
- `kubernetes.io/ingress.global-static-ip-name` and `kubernetes.io/ingress.allow-http` have
  no portable meaning; they go to `options["gcp"]`. The portable backend settings (timeout,
  connection draining, session affinity) travel on each backend of the model, from the
  Ingress or, winning, from the Service.

Annotations GKE users write for features not offered yet are errors, never ignored.
"""

from __future__ import annotations

from typing import Any

from provisioner.annotations import (
    Alias,
    AnnotationSet,
    ParseError,
    Setting,
    alias,
    boolean,
    string_list,
)

INGRESS_CLASS = "kubernetes.io/ingress.class"
STATIC_IP = "kubernetes.io/ingress.global-static-ip-name"
PRE_SHARED_CERT = "ingress.gcp.kubernetes.io/pre-shared-cert"
ALLOW_HTTP = "kubernetes.io/ingress.allow-http"

STATIC_IP_FIELD = "gcp_static_ip_name"
ALLOW_HTTP_FIELD = "gcp_allow_http"
MAX_PATH = 1024
"""GCP's limit on a URL map path match (a Prefix path needs one more character, for `/`)."""


def _legacy_class(raw: str) -> dict[str, Any]:
    """`gce` is external, `gce-internal` internal; any other class says nothing of scheme."""
    value = raw.strip()
    if value == "gce":
        return {"scheme": "internet-facing"}
    if value == "gce-internal":
        return {"scheme": "internal"}
    return {}


def _name(raw: str) -> str:
    value = raw.strip()
    if not value or "," in value or "/" in value:
        raise ParseError("the name of one reserved global address")
    return value


def check_path(path: str, path_type: str) -> None:
    """What a URL map route rule matches exactly: a path without query or fragment."""
    longest = len(path) + 1 if path_type == "prefix" else len(path)
    if longest > MAX_PATH:
        raise ParseError(f"at most {MAX_PATH} characters (a Prefix path needs one more, for /)")
    if ("?" in path and path_type != "glob") or "#" in path:
        raise ParseError("a path without ? or # (a URL map matches the path alone)")


INGRESS_ANNOTATIONS = AnnotationSet(
    aliases=(
        Alias(
            key=INGRESS_CLASS,
            expand=_legacy_class,
            accepted="any class (gce: internet-facing, gce-internal: internal)",
            fields=("scheme",),
        ),
        alias(STATIC_IP, STATIC_IP_FIELD, _name, "the name of one reserved global address"),
        alias(PRE_SHARED_CERT, "tls_certificates", string_list, "SSL certificate names"),
        alias(ALLOW_HTTP, ALLOW_HTTP_FIELD, boolean, '"true" or "false"'),
    ),
    settings=(
        Setting(
            name="gcp-static-ip-name",
            field=STATIC_IP_FIELD,
            parse=_name,
            accepted="the name of a reserved global address",
            default="an address reserved for the load balancer",
            description="GCP only: serve on this reserved global address.",
        ),
        Setting(
            name="gcp-allow-http",
            field=ALLOW_HTTP_FIELD,
            parse=boolean,
            accepted="true, false",
            default="true",
            description="GCP only: false drops the HTTP listeners (HTTPS only).",
        ),
    ),
    unsupported={
        "networking.gke.io/v1beta1.FrontendConfig": "remove it; use provisioner.io/ssl-redirect "
        "for redirects to HTTPS and provisioner.io/tls-policy for the SSL policy",
        "networking.gke.io/managed-certificates": "remove it; list the hosts in spec.tls for a "
        "Google-managed certificate, or name existing certificates in "
        "provisioner.io/tls-certificates",
        "kubernetes.io/ingress.regional-static-ip-name": "remove it; regional (internal) "
        "Application Load Balancers are not served yet",
    },
    path_check=check_path,
)
"""The Ingress vocabulary of the GCP provider (`ingress_annotations`)."""
