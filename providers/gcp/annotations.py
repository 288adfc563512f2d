"""GKE's L4 Service annotations, mapped onto the portable fields, and GCP-only settings.

Users moving from GKE keep their manifests: each annotation below sets the same field as the
matching `provisioner.io/` key, and a disagreement between the two is an error naming both.
What only GCP understands (global access for internal load balancers) is a setting of its
own and goes to `options["gcp"]`, where the provider reads it.
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
)

GKE = "networking.gke.io/"
LB_TYPE = GKE + "load-balancer-type"
LEGACY_LB_TYPE = "cloud.google.com/load-balancer-type"
ILB_SUBNET = GKE + "internal-load-balancer-subnet"
ILB_GLOBAL_ACCESS = GKE + "internal-load-balancer-allow-global-access"

ALLOW_GLOBAL_ACCESS = "gcp_allow_global_access"
"""Field (in options["gcp"]) of `provisioner.io/gcp-allow-global-access` and its GKE alias."""


def _lb_type(raw: str) -> dict[str, Any]:
    value = raw.strip().lower()
    if value == "internal":
        return {"scheme": "internal"}
    if value == "external":
        return {"scheme": "internet-facing"}
    raise ParseError("Internal, External")


def _subnet(raw: str) -> tuple[str, ...]:
    value = raw.strip()
    if not value or "," in value:
        raise ParseError("one subnetwork name in the cluster's region")
    return (value,)


ANNOTATIONS = AnnotationSet(
    aliases=(
        Alias(key=LB_TYPE, expand=_lb_type, accepted="Internal, External", fields=("scheme",)),
        Alias(
            key=LEGACY_LB_TYPE,
            expand=_lb_type,
            accepted="Internal, External",
            fields=("scheme",),
        ),
        alias(ILB_SUBNET, "subnets", _subnet, "one subnetwork name in the cluster's region"),
        alias(ILB_GLOBAL_ACCESS, ALLOW_GLOBAL_ACCESS, boolean, '"true" or "false"'),
    ),
    unsupported={
        GKE + "load-balancer-ip-addresses": "remove it to get an address chosen by GCP",
        "cloud.google.com/network-tier": "remove it; the Premium tier is used",
    },
    settings=(
        Setting(
            name="gcp-allow-global-access",
            field=ALLOW_GLOBAL_ACCESS,
            parse=boolean,
            accepted="true, false",
            default="false",
            description="Internal load balancers on GCP: reachable from every region.",
        ),
    ),
)
