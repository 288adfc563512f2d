"""The AWS provider: Services become Network Load Balancers through elbv2 and ec2."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any

from providers.aws.annotations import ANNOTATIONS, LB_TYPE
from providers.aws.ingress_annotations import INGRESS_ANNOTATIONS
from providers.base import Provider, Settings
from provisioner.annotations import AnnotationSet


class AwsProviderFactory:
    """Entry point registered as `aws` in the `provisioner.providers` group."""

    name = "aws"
    annotations: AnnotationSet = ANNOTATIONS
    ingress_annotations: AnnotationSet = INGRESS_ANNOTATIONS
    default_legacy_ingress_classes: tuple[str, ...] = ("alb",)

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        group = parser.add_argument_group("aws")
        group.add_argument(
            "--vpc-id", help="VPC of the cluster (default: the VPC of the node instances)"
        )

    def create(self, settings: Settings, args: argparse.Namespace) -> Provider:
        from providers.aws.client import build_clients
        from providers.aws.provider import AwsConfig, AwsProvider

        region = (
            getattr(args, "region", None)
            or os.environ.get("AWS_REGION")
            or os.environ.get("AWS_DEFAULT_REGION")
        )
        clients = build_clients(region=region)
        config = AwsConfig(
            cluster_name=settings.cluster_name,
            load_balancer_class=settings.load_balancer_class,
            region=clients.region,
            vpc_id=getattr(args, "vpc_id", None),
        )
        return AwsProvider(config, clients=clients)

    def demo_cloud(
        self, nodes: Sequence[Mapping[str, Any]], *, cluster_name: str
    ) -> AbstractContextManager[Any]:
        from providers.aws.demo import demo_cloud

        return demo_cloud(nodes, cluster_name=cluster_name)

    def selects_classless_service(self, annotations: Mapping[str, str]) -> bool:
        return annotations.get(LB_TYPE, "").strip() in ("external", "nlb-ip")
