"""The GCP Ingress vocabulary: GKE's annotations onto the portable fields, the new portable
backend settings, and the clear errors for what is not offered (on GCP and on AWS)."""

from __future__ import annotations

import pytest

from providers.aws.ingress_annotations import INGRESS_ANNOTATIONS as AWS_INGRESS
from providers.gcp.ingress_annotations import INGRESS_ANNOTATIONS, check_path
from provisioner.annotations import INGRESS_PORTABLE, ParseError, SpecError, resolve
from tests.gcp import ingress as ing


def gcp(annotations: dict[str, str]) -> dict[str, object]:
    return dict(resolve(annotations, extra=INGRESS_ANNOTATIONS, portable=INGRESS_PORTABLE))


def test_gke_names_set_the_portable_fields() -> None:
    values = gcp(
        {
            "kubernetes.io/ingress.class": "gce",
            "ingress.gcp.kubernetes.io/pre-shared-cert": "a,b",
            "kubernetes.io/ingress.global-static-ip-name": "web-ip",
            "kubernetes.io/ingress.allow-http": "false",
        }
    )
    assert values == {
        "scheme": "internet-facing",
        "tls_certificates": ("a", "b"),
        "gcp_static_ip_name": "web-ip",
        "gcp_allow_http": False,
    }
    assert gcp({"kubernetes.io/ingress.class": "gce-internal"}) == {"scheme": "internal"}
    assert gcp({"kubernetes.io/ingress.class": "public"}) == {}


def test_a_gke_name_and_the_portable_key_that_disagree_are_an_error() -> None:
    with pytest.raises(SpecError, match=r"pre-shared-cert.*tls-certificates|tls-certificates.*pre"):
        gcp(
            {
                "ingress.gcp.kubernetes.io/pre-shared-cert": "a",
                "provisioner.io/tls-certificates": "b",
            }
        )
    with pytest.raises(SpecError, match="disagree on scheme"):
        gcp({"kubernetes.io/ingress.class": "gce", "provisioner.io/scheme": "internal"})


def test_new_portable_backend_settings() -> None:
    values = gcp(
        {
            "provisioner.io/backend-timeout": "90",
            "provisioner.io/connection-draining-timeout": "30",
            "provisioner.io/session-affinity": "cookie",
        }
    )
    assert values == {
        "backend_timeout": 90,
        "connection_draining_timeout": 30,
        "session_affinity": "cookie",
    }
    with pytest.raises(SpecError, match=r"provisioner\.io/session-affinity.*none, client-ip"):
        gcp({"provisioner.io/session-affinity": "sticky"})
    with pytest.raises(SpecError, match="from 1 to 86400"):
        gcp({"provisioner.io/backend-timeout": "0"})


def test_aws_refuses_the_backend_timeout_instead_of_ignoring_it() -> None:
    """AWS maps draining and affinity onto target group attributes; the timeout has no
    per-backend home there (it is the load balancer's idle timeout)."""
    key = "provisioner.io/backend-timeout"
    with pytest.raises(SpecError, match=f"annotation {key}: not supported yet; on AWS"):
        resolve({key: "30"}, extra=AWS_INGRESS, portable=INGRESS_PORTABLE)


def test_unsupported_gke_annotations_are_errors() -> None:
    with pytest.raises(SpecError, match="FrontendConfig: not supported yet"):
        gcp({"networking.gke.io/v1beta1.FrontendConfig": "fc"})


def test_paths_a_url_map_cannot_match_are_refused() -> None:
    check_path("/a/b", "prefix")
    check_path("/a?b", "glob")
    for bad, kind in (("/a?b", "exact"), ("/a#b", "prefix"), ("/" + "a" * 1024, "exact")):
        with pytest.raises(ParseError):
            check_path(bad, kind)


def test_a_missing_scheme_is_internal_and_translation_keeps_it() -> None:
    plain = ing.ingress("plain", rules=[(None, [ing.path("/", "Prefix", "store")])])
    del plain["metadata"]["annotations"]["provisioner.io/scheme"]
    objects = [ing.ingress_class(), *ing.nodes(), ing.service("store", "default", 30180), plain]
    assert ing.desired("Ingress/default/plain", objects).scheme.value == "internal"
