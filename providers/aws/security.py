"""The frontend security group, its source-range rules, and our rules on the node group.

The frontend group is wholly ours, so its ingress rules are diffed and extra ones revoked.
The node security group belongs to the cluster: there we add rules tagged with our marks
(so the load balancer's group can reach node ports and health-check ports) and only ever
revoke rules that carry them.
"""

from __future__ import annotations

from typing import Any

from providers.aws import desired as d
from providers.aws import marks as m
from providers.aws import naming
from providers.aws.changes import (
    SG_REF,
    Context,
    Phases,
    delete_group,
    ref,
    revoke_backend_rules,
    rule_name,
    tags_change,
)
from providers.aws.match import Rule, rule_diff, rule_from_sdk, user_tag_diff
from providers.base import Action, Change


def plan_groups(ctx: Context, phases: Phases, options: d.AwsOptions) -> list[Any]:
    """The frontend group (managed, or the user's) and its ingress rules; returns their ids."""
    desired, key = ctx.desired, ctx.desired.key
    observed = ctx.observed.security_groups
    if ctx.user_groups is not None:
        for group in observed:
            phases.stale_groups.append(
                delete_group(key, group.id, group.sdk["GroupName"], "user security groups given")
            )
        return list(ctx.user_groups)
    name = naming.security_group_name(key, vpc_id=ctx.network.vpc_id)
    ordered = sorted(observed, key=lambda g: (g.sdk["GroupName"] != name, g.id))
    keep = next((g for g in ordered if g.sdk.get("VpcId") == ctx.network.vpc_id), None)
    for group in ordered:
        if group is not keep:
            phases.stale_groups.append(
                delete_group(key, group.id, group.sdk["GroupName"], "not needed")
            )
    want = d.frontend_rules(desired)
    group_id: Any
    if keep is None:
        group_id = ref(SG_REF)
        phases.groups.append(
            Change(
                action=Action.CREATE,
                type="security-group",
                name=name,
                owner=key,
                reason="frontend security group of the load balancer",
                params={
                    "GroupName": name,
                    "VpcId": ctx.network.vpc_id,
                    "Description": f"Load balancer frontend for {key}",
                    "tags": ctx.marks.tags(key, m.SECURITY_GROUP, desired.tags),
                },
                ref=SG_REF,
            )
        )
        add, revoke = sorted(want), list[str]()
    else:
        group_id = keep.id
        rules = {
            r["SecurityGroupRuleId"]: rule_from_sdk(r) for r in keep.rules if not r.get("IsEgress")
        }
        add, revoke = rule_diff(want, rules)
        tag_diff = user_tag_diff(desired.tags, keep.tags)
        if tag_diff:
            phases.attributes.append(tags_change(key, name, "ec2", keep.id, tag_diff))
    label = keep.id if keep is not None else name
    for rule in add:
        phases.groups.append(
            authorize(key, label, group_id, rule, tags=None, reason="source range")
        )
    for rule_id in revoke:
        phases.groups.append(
            Change(
                action=Action.DELETE,
                type="security-group-rule",
                name=f"{label} {rule_id}",
                owner=key,
                reason="source range or port no longer desired",
                params={"GroupId": group_id, "SecurityGroupRuleIds": [rule_id]},
            )
        )
    return [group_id]


def authorize(
    key: str,
    label: str,
    group_id: Any,
    rule: Rule,
    *,
    tags: dict[str, str] | None,
    reason: str,
    source: Any = None,
) -> Change:
    params: dict[str, Any] = {
        "GroupId": group_id,
        "protocol": rule.protocol,
        "port": rule.port,
        "source": source if source is not None else rule.source,
        "source_kind": "group" if isinstance(source, dict) else rule.source_kind,
    }
    if tags is not None:
        params["tags"] = tags
    return Change(
        action=Action.CREATE,
        type="security-group-rule",
        name=rule_name(label, rule),
        owner=key,
        reason=reason,
        params=params,
    )


def plan_backend_rules(
    ctx: Context,
    phases: Phases,
    options: d.AwsOptions,
    frontend: list[Any],
    *,
    kept_ports: frozenset[int] = frozenset(),
) -> None:
    """Rules on the node group; `kept_ports` stay open for target groups of frozen Ingresses."""
    key = ctx.desired.key
    observed = {r["SecurityGroupRuleId"]: r for r in ctx.observed.backend_rules}
    want: set[tuple[str, Rule]] = set()
    source = frontend[0] if frontend else None
    if options.manage_backend_rules and source is not None:
        text = source if isinstance(source, str) else "$" + SG_REF
        rules = d.backend_rules(ctx.desired, source=text)
        rules |= {Rule(protocol="tcp", port=port, source=text) for port in kept_ports}
        for group in ctx.network.node_security_groups():
            want |= {(group, rule) for rule in rules}
    shapes: dict[str, tuple[str, Rule] | None] = {}
    for rule_id, sdk in observed.items():
        shape = rule_from_sdk(sdk)
        shapes[rule_id] = (sdk["GroupId"], shape) if shape is not None else None
    add, revoke = rule_diff(want, shapes)
    for group, rule in add:
        role = m.BACKEND_RULE
        label_rule = rule if isinstance(source, str) else Rule(rule.protocol, rule.port, SG_REF)
        phases.groups.append(
            authorize(
                key,
                group,
                group,
                label_rule,
                tags=ctx.marks.tags(key, role, ctx.desired.tags),
                reason="lets the load balancer reach the nodes",
                source=source,
            )
        )
    phases.stale_rules.extend(
        revoke_backend_rules(key, ctx.observed.backend_rules, "no longer needed", set(revoke))
    )
