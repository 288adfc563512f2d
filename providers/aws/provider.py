"""The AWS provider: a desired state becomes a Network or an Application Load Balancer.

`plan` reads what the key owns (by marks, plus the names it would create), compares it with
the desired state and returns ordered changes; `apply` carries them out and is safe to run
again at any point; `owned` lists every key with resources of this cluster and class, for
garbage collection. Nothing is remembered between calls except the network facts derived
from the node set, which rarely change and are recomputed when the set does.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

from providers.aws import desired as d
from providers.aws import naming
from providers.aws.annotations import ANNOTATIONS
from providers.aws.application import check_zones, read_limits
from providers.aws.certificates import check_certificates
from providers.aws.changes import Context
from providers.aws.client import Clients
from providers.aws.execute import Executor
from providers.aws.ingress_annotations import INGRESS_ANNOTATIONS
from providers.aws.marks import Marks
from providers.aws.network import (
    Network,
    choose_subnets,
    discover,
    instance_id,
    list_subnets,
    resolve_security_groups,
)
from providers.aws.observe import Lookup, observe, owned_keys
from providers.aws.planner import plan_delete, plan_desired
from providers.aws.rules import AlbLimits
from providers.base import CloudValidation, InvalidSpec, Plan, Status, Unavailable
from provisioner.annotations import AnnotationSet
from provisioner.model import Key, Kind, LoadBalancer


@dataclass(frozen=True)
class AwsConfig:
    """What the controller was told: whose resources are ours, and where they live."""

    cluster_name: str
    load_balancer_class: str
    region: str
    vpc_id: str | None = None


class AwsProvider:
    name = "aws"
    annotations: AnnotationSet = ANNOTATIONS
    ingress_annotations: AnnotationSet = INGRESS_ANNOTATIONS

    def __init__(self, config: AwsConfig, *, clients: Clients) -> None:
        self.config = config
        self.clients = clients
        self.marks = Marks(cluster=config.cluster_name, lb_class=config.load_balancer_class)
        self._network: dict[frozenset[str], Network] = {}
        self._alb_limits: AlbLimits | None = None
        self._lock = threading.Lock()

    def alb_limits(self) -> AlbLimits:
        """The account's ALB rule quotas, read once per provider instance."""
        with self._lock:
            cached = self._alb_limits
        if cached is None:
            cached = read_limits(self.clients.elbv2)
            with self._lock:
                self._alb_limits = cached
        return cached

    def network(self, desired: LoadBalancer) -> Network:
        """Network facts for this node set; cached until the set of instances changes."""
        ids = frozenset(instance_id(node) for node in desired.nodes)
        with self._lock:
            cached = self._network.get(ids)
        if cached is not None:
            return cached
        found = discover(
            self.clients.ec2, ids, vpc_id=self.config.vpc_id, cluster=self.config.cluster_name
        )
        with self._lock:
            self._network = {ids: found}
        return found

    def plan(self, key: Key, desired: LoadBalancer | None) -> Plan:
        if desired is None:
            observed = observe(self.clients, self.marks, key, Lookup(details=False))
            return Plan(key=key, changes=plan_delete(self.marks, key, observed), deleting=True)
        if desired.key != key:
            raise InvalidSpec(
                f"key: desired state is for {desired.key}, not {key}", field="key", value=key
            )
        d.check_spec(desired)
        d.aws_options(desired)
        d.tag_budget(self.marks, desired)
        network = self.network(desired)
        application = desired.kind is Kind.APPLICATION
        all_subnets = list_subnets(self.clients.ec2, network.vpc_id)
        subnets = choose_subnets(
            all_subnets,
            desired=desired.subnets,
            scheme=desired.scheme,
            cluster=self.config.cluster_name,
            vpc_id=network.vpc_id,
            tags=desired.subnet_tags,
        )
        if application:
            check_zones(all_subnets, subnets)
        user_groups = (
            resolve_security_groups(
                self.clients.ec2, desired.security_groups, vpc_id=network.vpc_id
            )
            if desired.security_groups is not None
            else None
        )
        lb_name = d.lb_name(desired)
        specs = d.target_groups(desired, network, load_balancer_name=lb_name)
        lookup = Lookup(
            load_balancer=lb_name,
            target_groups=tuple(s.name for s in specs),
            security_group=(
                naming.security_group_name(key, vpc_id=network.vpc_id)
                if user_groups is None
                else None
            ),
            vpc_id=network.vpc_id,
        )
        observed = observe(self.clients, self.marks, key, lookup)
        if application:
            attached = [
                cert
                for lb in observed.load_balancers
                for certs in lb.certificates.values()
                for cert in certs
            ]
            check_certificates(self.clients.acm, desired, attached=attached)
        context = Context(
            marks=self.marks,
            desired=desired,
            network=network,
            subnets=subnets,
            user_groups=user_groups,
            observed=observed,
            limits=self.alb_limits() if application else AlbLimits(),
        )
        changes, observed_summary = plan_desired(context)
        names = {
            "load_balancer_name": lb_name,
            "target_groups": {spec.backend_id: spec.name for spec in specs},
        }
        return Plan(key=key, changes=changes, observed={**observed_summary, **names})

    def apply(self, plan: Plan) -> Status:
        return Executor(self.clients, self.marks).run(plan)

    def owned(self) -> set[Key]:
        return owned_keys(self.clients, self.marks)

    def wait_ready(self, status: Status, *, timeout: float) -> Status:
        """Poll until the load balancer leaves `provisioning`; `failed` is an error, not a wait."""
        name = str(status.detail.get("name", ""))
        if not name:
            return status
        deadline = time.monotonic() + timeout
        delay = 1.0
        while True:
            found = self.clients.elbv2.call("DescribeLoadBalancers", Names=[name])
            state = found["LoadBalancers"][0].get("State", {})
            code = state.get("Code", "active")
            if code == "active":
                return status
            if code == "failed":
                raise CloudValidation(
                    f"load balancer {name} failed to provision: {state.get('Reason', '')}"
                )
            if time.monotonic() + delay > deadline:
                raise Unavailable(f"load balancer {name} still {code} after {timeout:.0f}s")
            time.sleep(delay)
            delay = min(delay * 2, 15.0)

    def call_counts(self) -> Mapping[tuple[str, str, str], int]:
        return self.clients.counter.snapshot()
