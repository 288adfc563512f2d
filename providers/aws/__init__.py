"""The AWS provider: Services become Network Load Balancers through elbv2 and ec2."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any

from providers.aws.annotations import ANNOTATIONS, LB_TYPE
from providers.aws.ingress_annotations import INGRESS_ANNOTATIONS
from providers.base import Provider, ProviderError, Settings
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
        group.add_argument(
            "--aws-api-rate",
            action="append",
            default=[],
            metavar="CLASS=RATE:BURST",
            help="client-side limit for one API class (describe 50:200, targets 4:20, modify "
            "3:20 by default: AWS's published rates); raise it for an account with raised "
            "quotas (repeatable)",
        )

    def create(self, settings: Settings, args: argparse.Namespace) -> Provider:
        from providers.aws.client import build_clients, parse_rate
        from providers.aws.provider import AwsConfig, AwsProvider

        region = (
            getattr(args, "region", None)
            or os.environ.get("AWS_REGION")
            or os.environ.get("AWS_DEFAULT_REGION")
        )
        rates = {}
        for raw in getattr(args, "aws_api_rate", None) or []:
            try:
                name, value = parse_rate(raw)
            except ValueError as err:
                raise ProviderError(f"--aws-api-rate {err}") from None
            rates[name] = value
        clients = build_clients(region=region, rates=rates)
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
