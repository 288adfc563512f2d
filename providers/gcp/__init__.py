"""The GCP provider: Services become passthrough load balancers and Ingresses global external
Application Load Balancers, through Compute Engine."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any

from providers.base import Provider, ProviderError, Settings
from providers.gcp.annotations import ANNOTATIONS
from providers.gcp.ingress_annotations import INGRESS_ANNOTATIONS
from provisioner.annotations import AnnotationSet

ENDPOINT_ENV = "PROVISIONER_GCP_ENDPOINT"
PROJECT_ENV = "GOOGLE_CLOUD_PROJECT"
REGION_ENV = "CLOUDSDK_COMPUTE_REGION"


def _add_once(group: Any, flag: str, **kwargs: Any) -> None:
    """Add a flag unless another provider already did (two clouds may share a flag name)."""
    try:
        group.add_argument(flag, **kwargs)
    except argparse.ArgumentError:
        return


class GcpProviderFactory:
    """Entry point registered as `gcp` in the `provisioner.providers` group."""

    name = "gcp"
    annotations: AnnotationSet = ANNOTATIONS
    ingress_annotations: AnnotationSet = INGRESS_ANNOTATIONS
    default_legacy_ingress_classes: tuple[str, ...] = ()

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        group = parser.add_argument_group("gcp")
        _add_once(
            group,
            "--project",
            help=f"GCP project (default: ${PROJECT_ENV}, else the Google credentials')",
        )
        _add_once(group, "--network", help="VPC network of the nodes (default: the first node's)")
        _add_once(
            group,
            "--endpoint",
            metavar="URL",
            help=f"Compute API base URL, e.g. a local fake; anonymous credentials "
            f"(default: ${ENDPOINT_ENV})",
        )

    def create(self, settings: Settings, args: argparse.Namespace) -> Provider:
        from providers.gcp.client import build_compute
        from providers.gcp.provider import GcpConfig, GcpProvider

        region = getattr(args, "region", None) or os.environ.get(REGION_ENV)
        if not region:
            raise ProviderError(f"no GCP region: pass --region or set {REGION_ENV}")
        compute = build_compute(
            project=getattr(args, "project", None) or os.environ.get(PROJECT_ENV),
            region=region,
            endpoint=getattr(args, "endpoint", None) or os.environ.get(ENDPOINT_ENV),
        )
        config = GcpConfig(
            cluster_name=settings.cluster_name,
            load_balancer_class=settings.load_balancer_class,
            network=getattr(args, "network", None),
        )
        return GcpProvider(config, compute=compute)

    def demo_cloud(
        self, nodes: Sequence[Mapping[str, Any]], *, cluster_name: str
    ) -> AbstractContextManager[Any]:
        from providers.gcp.demo import demo_cloud

        cloud: AbstractContextManager[Any] = demo_cloud(nodes, cluster_name=cluster_name)
        return cloud

    def selects_classless_service(self, annotations: Mapping[str, str]) -> bool:
        """On GCP a Service is ours only by `spec.loadBalancerClass`."""
        return False
