"""The same Ingress manifests on AWS (moto, through the AWS provider's ALB) and on GCP (the
Compute fake, through the GCP provider's URL map) route every request of a table to the same
Service, or to the default (404), and both agree with the independent oracle.

Each cloud's configuration is read back from its fake and evaluated with that cloud's own
matching rules: ALB rules by priority (host-header and path-pattern globs), URL maps with
GCP's host rules and route rules. Only the Nodes differ between the two manifest sets (the
providerIDs of each fake's instances). Wildcard names deeper than one label are left out:
GCP's documented deviation (see docs/gcp.md).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from typing import Any

import boto3
import pytest
from moto import mock_aws

from providers.aws import marks as aws_marks
from providers.aws.client import SDK_CONFIG, RetryPolicy, TokenBucket, wrap_clients
from providers.aws.provider import AwsConfig, AwsProvider
from providers.aws.seed import seed_cluster as seed_aws
from providers.gcp import marks as gcp_marks
from providers.gcp.client import Compute, build_sdk
from providers.gcp.fake import start
from providers.gcp.provider import GcpConfig, GcpProvider
from providers.gcp.seed import SeedNode
from providers.gcp.seed import seed_cluster as seed_gcp
from provisioner.manifests import Manifests
from provisioner.reconcile import desired_for
from tests.gcp import ingress as ing
from tests.gcp.builders import PROJECT, REGION, vm_names
from tests.gcp.url_map_eval import answer as gcp_answer
from tests.translate.alb import SELECTION as AWS_SELECTION
from tests.translate.alb import Stub as AwsStub
from tests.translate.routing_oracle import by_port_number, route

AWS_REGION = "us-east-1"
CLUSTER = "parity"
LB_CLASS = "provisioner.io/nlb"
HOSTS = ("shop.example.com", "www.example.com", "other.example.com")
PATHS = ("/", "/cart", "/cart/", "/cart/x", "/cartx", "/CART", "/cart/checkout", "/cart/checkout/")
Obj = dict[str, Any]


def manifests() -> list[Obj]:
    """The example group (HTTP): both members, cloud-neutral annotations only."""
    return [
        ing.ingress_class(),
        ing.service("store", "default", 30180),
        ing.service("cart", "shop", 30280),
        ing.site(),
        ing.cart(),
    ]


def members() -> list[Obj]:
    return [o for o in manifests() if o["kind"] == "Ingress"]


def _view(objects: Sequence[Obj]) -> Manifests:
    view = Manifests()
    for obj in objects:
        view.replace(obj)
    return view


# --- AWS ------------------------------------------------------------------------------------


def _alb_glob(pattern: str, text: str, *, fold: bool) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    flags = re.DOTALL | (re.IGNORECASE if fold else 0)
    return re.fullmatch(regex, text, flags) is not None


def _alb_answer(
    rules: Sequence[Obj], default: Obj, host: str, path: str, groups: dict[str, str]
) -> str:
    def outcome(actions: Sequence[Obj]) -> str:
        action = actions[0]
        if action["Type"] == "forward":
            arn = (
                action.get("TargetGroupArn")
                or action["ForwardConfig"]["TargetGroups"][0]["TargetGroupArn"]
            )
            return groups[arn]
        if action["Type"] == "fixed-response":
            return str(action["FixedResponseConfig"]["StatusCode"])
        return "redirect"

    for rule in rules:
        matched = True
        for condition in rule["Conditions"]:
            field = condition["Field"]
            if field == "host-header":
                values = condition.get("HostHeaderConfig", {}).get("Values") or condition["Values"]
                matched &= any(_alb_glob(v, host, fold=True) for v in values)
            elif field == "path-pattern":
                values = condition.get("PathPatternConfig", {}).get("Values") or condition["Values"]
                matched &= any(_alb_glob(v, path, fold=False) for v in values)
            else:
                raise AssertionError(f"condition not understood: {field}")
        if matched:
            return outcome(rule["Actions"])
    return outcome(default["Actions"])


def aws_answers() -> dict[tuple[str, str], str]:
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        session = boto3.Session(region_name=AWS_REGION)
        sdk = {
            n: session.client(n, config=SDK_CONFIG)
            for n in ("ec2", "elbv2", "resourcegroupstaggingapi", "acm")
        }
        seeded = seed_aws(sdk["ec2"], cluster_name=CLUSTER, region=AWS_REGION, nodes=3)
        nodes = [
            {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {"name": f"n{i}", "labels": {"topology.kubernetes.io/zone": zone}},
                "spec": {"providerID": provider_id},
            }
            for i, (zone, provider_id) in enumerate(
                zip(seeded.zones, seeded.provider_ids, strict=False)
            )
        ]
        found = desired_for(
            ing.SHARED,
            _view([*nodes, *manifests()]),
            AwsStub(),
            AWS_SELECTION,  # type: ignore[arg-type]
        )
        assert found.error is None and found.desired is not None, found.error
        clients = wrap_clients(
            elbv2=sdk["elbv2"],
            ec2=sdk["ec2"],
            tagging=sdk["resourcegroupstaggingapi"],
            acm=sdk["acm"],
            region=AWS_REGION,
            retry=RetryPolicy(attempts=3, multiplier=0.001, max_wait=0.005),
            limits={c: TokenBucket(10_000, 10_000) for c in ("describe", "targets", "modify")},
        )
        provider = AwsProvider(
            AwsConfig(cluster_name=CLUSTER, load_balancer_class=LB_CLASS, region=AWS_REGION),
            clients=clients,
        )
        try:
            provider.apply(provider.plan(ing.SHARED, found.desired))
        except Exception as err:  # say clearly which side failed, not just a traceback
            pytest.fail(f"the AWS provider could not apply the ALB for the parity check: {err!r}")
        elbv2 = sdk["elbv2"]
        (lb,) = elbv2.describe_load_balancers()["LoadBalancers"]
        (listener,) = elbv2.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
        described = elbv2.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"]
        default = next(r for r in described if r["IsDefault"])
        rules = sorted(
            (r for r in described if not r["IsDefault"]), key=lambda r: int(r["Priority"])
        )
        arns = [g["TargetGroupArn"] for g in elbv2.describe_target_groups()["TargetGroups"]]
        tags = elbv2.describe_tags(ResourceArns=arns)["TagDescriptions"]
        groups = {
            t["ResourceArn"]: aws_marks.role(aws_marks.tag_dict(t["Tags"])).removeprefix("backend:")
            for t in tags
        }
        return {
            (host, path): _alb_answer(rules, default, host, path, groups)
            for host in HOSTS
            for path in PATHS
        }


# --- GCP ------------------------------------------------------------------------------------


def gcp_answers() -> dict[tuple[str, str], str]:
    with start() as fake:
        seed_gcp(
            fake.url,
            project=PROJECT,
            nodes=[SeedNode(n, z) for n, z in vm_names(3)],
            network="default",
        )
        compute = Compute(
            project=PROJECT, region=REGION, sdk=build_sdk(endpoint=fake.url, credentials=None)
        )
        provider = GcpProvider(
            GcpConfig(cluster_name=CLUSTER, load_balancer_class=LB_CLASS), compute=compute
        )
        desired = ing.desired(ing.SHARED, [*ing.nodes(3), *manifests()])
        plan = provider.plan(ing.SHARED, desired)
        provider.apply(plan)
        services = {name: backend for backend, name in plan.observed["backend_services"].items()}
        (url_map,) = compute.listing("urlMaps", project=PROJECT)
        assert json.loads(url_map["description"])[gcp_marks.RESOURCE] == "url-map:80"
        return {
            (host, path): gcp_answer(url_map, host, path, services)
            for host in HOSTS
            for path in PATHS
        }


@pytest.fixture(scope="module")
def answers() -> dict[str, dict[tuple[str, str], str]]:
    return {"gcp": gcp_answers(), "aws": aws_answers()}


def test_gcp_agrees_with_the_oracle(answers: dict[str, dict[tuple[str, str], str]]) -> None:
    wrong = [
        (request, want, answers["gcp"][request])
        for request in answers["gcp"]
        if answers["gcp"][request]
        != (want := by_port_number(route(members(), *request), manifests()))
    ]
    assert wrong == []


def test_aws_and_gcp_send_every_request_to_the_same_service(
    answers: dict[str, dict[tuple[str, str], str]],
) -> None:
    differ = [
        (request, answers["aws"][request], answers["gcp"][request])
        for request in answers["gcp"]
        if answers["aws"][request] != answers["gcp"][request]
    ]
    assert differ == []
