"""Building blocks of a plan: the phases in the design's order, refs, and change builders.

Plans are data, so every change is made by one small function here or in the planner and
carries JSON-serialisable `diff` and `params`. Where a resource is created by an earlier
change of the same plan, params hold `{"ref": name}` and apply substitutes the id.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from providers.aws import marks as m
from providers.aws.match import Rule, rule_from_sdk, target_key_text
from providers.aws.network import Network
from providers.aws.observe import Observed, ObservedLoadBalancer, ObservedTargetGroup
from providers.aws.rules import AlbLimits
from providers.base import Action, Change, CloudValidation
from provisioner.model import LoadBalancer

SG_REF = "security-group"
LB_REF = "load-balancer"


def ref(name: str) -> dict[str, str]:
    return {"ref": name}


def tg_ref(backend_id: str) -> str:
    return f"target-group:{backend_id}"


@dataclass
class Phases:
    """Changes grouped by the design's order; `changes()` concatenates them."""

    groups: list[Change] = field(default_factory=list)
    target_groups: list[Change] = field(default_factory=list)
    new_targets: list[Change] = field(default_factory=list)
    load_balancer: list[Change] = field(default_factory=list)
    attributes: list[Change] = field(default_factory=list)
    listeners: list[Change] = field(default_factory=list)
    rules: list[Change] = field(default_factory=list)
    """ALB listener rules: creates, in-place changes, one priority call, then deletes."""
    targets: list[Change] = field(default_factory=list)
    unused_target_groups: list[tuple[Change, frozenset[str]]] = field(default_factory=list)
    """Each with the load balancers it is still attached to."""
    rest: list[Change] = field(default_factory=list)
    stale_rules: list[Change] = field(default_factory=list)
    stale_groups: list[Change] = field(default_factory=list)

    def changes(self) -> tuple[Change, ...]:
        return (
            *self.groups,
            *self.target_groups,
            *self.new_targets,
            *self.load_balancer,
            *self.attributes,
            *self.listeners,
            *self.rules,
            *self.targets,
            *(c for c, _ in self.unused_target_groups),
            *self.rest,
            *self.stale_rules,
            *self.stale_groups,
        )


@dataclass(frozen=True)
class Context:
    marks: m.Marks
    desired: LoadBalancer
    network: Network
    subnets: tuple[str, ...]
    user_groups: tuple[str, ...] | None
    observed: Observed
    limits: AlbLimits = field(default_factory=AlbLimits)
    """Account quotas for ALB rules (read once per provider; unused for NLBs)."""


def delete_lb(key: str, lb: ObservedLoadBalancer, *, reason: str, replace: bool = False) -> Change:
    if lb.attributes.get("deletion_protection.enabled") == "true":
        raise CloudValidation(
            f"load balancer {lb.name} must be deleted ({reason}) but has deletion protection "
            "enabled (deletion_protection.enabled=true); turn deletion protection off "
            '(provisioner.io/deletion-protection: "false", or in AWS) and retry'
        )
    return Change(
        action=Action.DELETE,
        type="load-balancer",
        name=lb.name,
        owner=key,
        replace=replace,
        reason=reason,
        params={"LoadBalancerArn": lb.arn},
    )


def delete_listener(key: str, lb_name: str, listener: Mapping[str, Any], reason: str) -> Change:
    return Change(
        action=Action.DELETE,
        type="listener",
        name=f"{lb_name}:{listener['Port']}",
        owner=key,
        reason=reason,
        params={"ListenerArn": listener["ListenerArn"]},
    )


def listeners_by_port(
    key: str, lb_name: str, keep: ObservedLoadBalancer | None, phases: Phases
) -> dict[int, dict[str, Any]]:
    """The kept load balancer's listeners by port; a second listener on a port (which only a
    crash between two calls can leave) is planned for deletion."""
    observed: dict[int, dict[str, Any]] = {}
    for listener in sorted(keep.listeners if keep else [], key=lambda x: str(x["ListenerArn"])):
        if listener["Port"] in observed:
            phases.listeners.append(delete_listener(key, lb_name, listener, "duplicate port"))
        else:
            observed[int(listener["Port"])] = listener
    return observed


def delete_tg(key: str, tg: ObservedTargetGroup, reason: str) -> Change:
    return Change(
        action=Action.DELETE,
        type="target-group",
        name=tg.name,
        owner=key,
        reason=reason,
        params={"TargetGroupArn": tg.arn},
    )


def delete_group(key: str, group_id: str, name: str, reason: str) -> Change:
    return Change(
        action=Action.DELETE,
        type="security-group",
        name=name,
        owner=key,
        reason=reason,
        params={"GroupId": group_id},
    )


def rule_name(group: str, rule: Rule) -> str:
    return f"{group} {rule.text()}"


def revoke_backend_rules(
    key: str, rules: Sequence[dict[str, Any]], reason: str, only: set[str] | None = None
) -> list[Change]:
    changes = []
    for sdk in sorted(rules, key=lambda r: str(r["SecurityGroupRuleId"])):
        if only is not None and sdk["SecurityGroupRuleId"] not in only:
            continue
        shape = rule_from_sdk(sdk)
        name = rule_name(sdk["GroupId"], shape) if shape else sdk["SecurityGroupRuleId"]
        changes.append(
            Change(
                action=Action.DELETE,
                type="security-group-rule",
                name=name,
                owner=key,
                reason=reason,
                params={
                    "GroupId": sdk["GroupId"],
                    "SecurityGroupRuleIds": [sdk["SecurityGroupRuleId"]],
                },
            )
        )
    return changes


def attributes_change(
    key: str, name: str, resource: str, arn: Any, attrs: dict[str, list[str]]
) -> Change:
    return Change(
        action=Action.UPDATE,
        type="attributes",
        name=name,
        owner=key,
        reason="attributes differ",
        diff={"attributes": attrs},
        params={
            "resource": resource,
            "arn": arn,
            "attributes": {k: v[1] for k, v in attrs.items()},
        },
    )


def tags_change(key: str, name: str, service: str, ident: str, diff: dict[str, Any]) -> Change:
    return Change(
        action=Action.UPDATE,
        type="tags",
        name=name,
        owner=key,
        reason="user tags differ",
        diff={"tags": diff},
        params={"service": service, "id": ident, **diff},
    )


def targets_change(
    key: str, name: str, tg: Any, register: list[tuple[str, int]], deregister: list[tuple[str, int]]
) -> Change:
    return Change(
        action=Action.UPDATE,
        type="targets",
        name=name,
        owner=key,
        reason="targets differ",
        diff={
            "register": [target_key_text(t) for t in register],
            "deregister": [target_key_text(t) for t in deregister],
        },
        params={
            "TargetGroupArn": tg,
            "register": [{"Id": i, "Port": p} for i, p in register],
            "deregister": [{"Id": i, "Port": p} for i, p in deregister],
        },
    )
