"""Listeners and listener rules of an Application Load Balancer: from desired to changes.

Per listener: the default action, protocol, default certificate and SSL policy change in
place (ModifyListener); SNI certificates are added and removed by difference only. Rules are
matched with what exists by role (`rule:<route id>[:n]`), so a rule whose conditions or
actions change is modified in place, a new route is one CreateRule, and a reorder is one
SetRulePriorities call. New rules are created before old ones are deleted, at priorities no
rule holds, so no request ever falls in a gap; rules of a frozen Ingress are neither moved
nor changed nor deleted. Nothing here calls AWS.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from providers.aws import marks as m
from providers.aws.actions import canonical_list, target_groups_of, wire
from providers.aws.changes import Context, Phases, delete_listener, listeners_by_port, ref
from providers.aws.desired import DEFAULT_TLS_POLICY
from providers.aws.observe import ObservedLoadBalancer, ObservedRule
from providers.aws.priorities import Slot, assign
from providers.aws.rules import RuleSpec, listener_rules
from providers.base import Action, Change, InvalidSpec
from provisioner.model import Listener, Protocol

FROZEN_WEIGHT = 1000
"""Keeping a frozen Ingress's rule where it is outweighs any number of other moves."""


@dataclass
class _ListenerWork:
    name: str
    listener_id: Any
    specs: list[RuleSpec]
    observed: list[ObservedRule]


def listener_ref(port: int) -> str:
    return f"listener:{port}"


def frozen_target_groups(ctx: Context, keep: ObservedLoadBalancer | None) -> set[str]:
    """Target groups that rules of frozen Ingresses forward to: never deleted meanwhile."""
    if keep is None or not ctx.desired.frozen:
        return set()
    out: set[str] = set()
    for rules in keep.rules.values():
        for rule in rules:
            if _frozen(ctx, rule):
                out |= target_groups_of(rule.sdk.get("Actions", []))
    return out


def _ours(ctx: Context, rule: ObservedRule) -> bool:
    return ctx.marks.owns(rule.tags, ctx.desired.key)


def _frozen(ctx: Context, rule: ObservedRule) -> bool:
    return _ours(ctx, rule) and rule.tags.get(m.INGRESS) in ctx.desired.frozen


def plan_listeners(
    ctx: Context,
    phases: Phases,
    *,
    keep: ObservedLoadBalancer | None,
    lb_id: Any,
    lb_name: str,
    tg_ids: Mapping[str, Any],
) -> None:
    key = ctx.desired.key
    observed = listeners_by_port(key, lb_name, keep, phases)
    work: list[_ListenerWork] = []
    for listener in ctx.desired.listeners:
        current = observed.pop(listener.port, None)
        listener_id = _plan_listener(
            ctx, phases, listener, current, keep=keep, lb_id=lb_id, lb_name=lb_name, tg_ids=tg_ids
        )
        rules = keep.rules.get(current["ListenerArn"], []) if keep and current else []
        specs = listener_rules(
            listener.routes, listener.default, ctx.limits, frozen=ctx.desired.frozen
        )
        work.append(_ListenerWork(f"{lb_name}:{listener.port}", listener_id, specs, rules))
    _check_quota(ctx, work)
    existing = sum(len(w.observed) for w in work)
    new = 0
    for item in work:
        have = {m.role(r.tags) for r in item.observed if _ours(ctx, r) and not _frozen(ctx, r)}
        new += sum(1 for spec in item.specs if spec.role not in have)
    delete_first = existing + new > ctx.limits.rules
    for item in work:
        _plan_rules(ctx, phases, item, tg_ids=tg_ids, delete_first=delete_first)
    for port in sorted(observed):
        phases.listeners.append(delete_listener(key, lb_name, observed[port], "port removed"))


def _check_quota(ctx: Context, work: Sequence[_ListenerWork]) -> None:
    """Refuse, before any write, a load balancer that would need more rules than allowed."""
    owners: Counter[str] = Counter()
    for item in work:
        for spec in item.specs:
            owners[f"Ingress {spec.owner}" if spec.owner else "generated"] += 1
        for rule in item.observed:
            if _frozen(ctx, rule):
                owners[f"Ingress {rule.tags.get(m.INGRESS)} (kept while in error)"] += 1
            elif not _ours(ctx, rule):
                owners["rules not made by this controller"] += 1
    total = sum(owners.values())
    if total > ctx.limits.rules:
        detail = ", ".join(f"{owner}: {n}" for owner, n in owners.most_common())
        raise InvalidSpec(
            f"rules: {ctx.desired.key} needs {total} listener rules ({detail}) but the account "
            f"allows {ctx.limits.rules} per application load balancer "
            "(quota rules-per-application-load-balancer); split the group, merge paths that "
            "share a backend, or raise the quota",
            field="rules",
            value=str(total),
        )


def _certificate_params(
    listener: Listener, current: Mapping[str, Any] | None, attached: Sequence[str]
) -> tuple[list[str], str | None, list[str], list[str]]:
    """(certificates, policy, SNI to add, SNI to remove) for an HTTPS listener."""
    if listener.protocol is not Protocol.HTTPS or listener.tls is None:
        return [], None, [], []
    certs = list(listener.tls.certificates)
    policy = listener.tls.policy or DEFAULT_TLS_POLICY
    default = [c["CertificateArn"] for c in (current or {}).get("Certificates") or []][:1]
    have = set(attached) - set(default)
    want = set(certs[1:]) - {certs[0]}
    return certs, policy, sorted(want - have), sorted(have - want)


def _plan_listener(
    ctx: Context,
    phases: Phases,
    listener: Listener,
    current: dict[str, Any] | None,
    *,
    keep: ObservedLoadBalancer | None,
    lb_id: Any,
    lb_name: str,
    tg_ids: Mapping[str, Any],
) -> Any:
    """Create or update one listener; returns its ARN, or a ref when it is created."""
    key = ctx.desired.key
    name = f"{lb_name}:{listener.port}"
    actions = [wire(listener.default, tg_ids)]
    attached = keep.certificates.get(current["ListenerArn"], []) if keep and current else []
    certs, policy, add, remove = _certificate_params(listener, current, attached)
    protocol = listener.protocol.value
    if current is None:
        phases.listeners.append(
            Change(
                action=Action.CREATE,
                type="listener",
                name=name,
                owner=key,
                reason="port is not served yet",
                diff={"protocol": protocol, "default_action": actions[0]["Type"]},
                params={
                    "LoadBalancerArn": lb_id,
                    "Port": listener.port,
                    "Protocol": protocol,
                    "DefaultActions": actions,
                    "certificates": certs,
                    "SslPolicy": policy,
                    "tags": ctx.marks.tags(key, m.listener_role(listener.port), ctx.desired.tags),
                },
                ref=listener_ref(listener.port),
            )
        )
        return ref(listener_ref(listener.port))
    diff: dict[str, list[Any]] = {}
    if current.get("Protocol") != protocol:
        diff["protocol"] = [current.get("Protocol"), protocol]
    have_actions = canonical_list(current.get("DefaultActions") or [])
    want_actions = canonical_list(actions)
    if have_actions != want_actions:
        diff["default_action"] = [list(have_actions), list(want_actions)]
    if listener.protocol is Protocol.HTTPS:
        if current.get("SslPolicy") != policy:
            diff["ssl_policy"] = [current.get("SslPolicy"), policy]
        default = [c["CertificateArn"] for c in current.get("Certificates") or []][:1]
        if default != certs[:1]:
            diff["certificate"] = [default[0] if default else None, certs[0]]
        if add or remove:
            diff["sni_certificates"] = [{"remove": remove}, {"add": add}]
    if diff:
        phases.listeners.append(
            Change(
                action=Action.UPDATE,
                type="listener",
                name=name,
                owner=key,
                reason="listener differs: " + ", ".join(diff),
                diff=diff,
                params={
                    "ListenerArn": current["ListenerArn"],
                    "Protocol": protocol,
                    "DefaultActions": actions,
                    "SslPolicy": policy,
                    "certificates": certs,
                    "set_certificate": bool({"certificate", "protocol"} & set(diff))
                    and bool(certs),
                    "add_certificates": add,
                    "remove_certificates": remove,
                },
            )
        )
    return current["ListenerArn"]


def _conditions(conditions: Sequence[Mapping[str, Any]]) -> tuple[Any, ...]:
    """Conditions in a comparable form (host names compare case-insensitively)."""
    out: list[tuple[str, tuple[str, ...]]] = []
    for condition in conditions:
        field = str(condition.get("Field", ""))
        if field in ("host-header", "path-pattern"):
            config = "HostHeaderConfig" if field == "host-header" else "PathPatternConfig"
            values = (condition.get(config) or {}).get("Values") or condition.get("Values") or []
            if field == "host-header":
                values = [v.lower() for v in values]
            out.append((field, tuple(sorted(values))))
        else:
            out.append((field, (repr(sorted(condition.items())),)))
    return tuple(sorted(out))


def _sequence(
    specs: Sequence[RuleSpec],
    matched: Mapping[str, ObservedRule],
    observed: Sequence[ObservedRule],
    frozen: Sequence[ObservedRule],
) -> list[tuple[RuleSpec | None, ObservedRule | None]]:
    """Evaluation order: the desired rules, with each frozen rule kept after the rule that
    preceded it in AWS (or first), so frozen rules keep their relative order."""
    sequence: list[tuple[RuleSpec | None, ObservedRule | None]] = [
        (spec, matched.get(spec.role)) for spec in specs
    ]
    if not frozen:
        return sequence
    frozen_arns = {rule.arn for rule in frozen}
    matched_arns = {rule.arn for rule in matched.values()}
    cursor = 0
    for rule in observed:
        if rule.arn in frozen_arns:
            sequence.insert(cursor, (None, rule))
            cursor += 1
        elif rule.arn in matched_arns:
            cursor = 1 + next(i for i, (_, o) in enumerate(sequence) if o is rule)
    return sequence


def _plan_rules(
    ctx: Context,
    phases: Phases,
    work: _ListenerWork,
    *,
    tg_ids: Mapping[str, Any],
    delete_first: bool,
) -> None:
    key = ctx.desired.key
    frozen = [r for r in work.observed if _frozen(ctx, r)]
    wanted = {spec.role for spec in work.specs}
    matched: dict[str, ObservedRule] = {}
    stale: list[ObservedRule] = []
    for rule in work.observed:
        if not _ours(ctx, rule) or _frozen(ctx, rule):
            continue
        role = m.role(rule.tags)
        if role in wanted and role not in matched:
            matched[role] = rule
        else:
            stale.append(rule)
    sequence = _sequence(work.specs, matched, work.observed, frozen)
    slots = [
        Slot(current=obs.priority if obs else None, weight=1 if spec else FROZEN_WEIGHT)
        for spec, obs in sequence
    ]
    priorities = assign(slots, [rule.priority for rule in work.observed])
    creates: list[Change] = []
    modifies: list[Change] = []
    moves: dict[str, list[int]] = {}
    arns: dict[str, str] = {}
    for (spec, obs), priority in zip(sequence, priorities, strict=True):
        if obs is not None and obs.priority != priority:
            label = spec.role if spec else m.role(obs.tags)
            moves[label] = [obs.priority, priority]
            arns[label] = obs.arn
        if spec is None:
            continue
        actions = [wire(spec.action, tg_ids)]
        conditions = spec.conditions()
        if obs is None:
            creates.append(
                Change(
                    action=Action.CREATE,
                    type="rule",
                    name=f"{work.name} {spec.role}",
                    owner=key,
                    reason=f"route of {_who(spec)} is not routed yet",
                    diff={"priority": priority, "host": spec.host, "paths": list(spec.paths)},
                    params={
                        "ListenerArn": work.listener_id,
                        "Priority": priority,
                        "Conditions": conditions,
                        "Actions": actions,
                        "tags": ctx.marks.tags(
                            key, spec.role, ctx.desired.tags, ingress=spec.owner
                        ),
                    },
                )
            )
            continue
        diff: dict[str, list[Any]] = {}
        have_conditions = _conditions(obs.sdk.get("Conditions") or [])
        if have_conditions != _conditions(conditions):
            diff["conditions"] = [list(have_conditions), list(_conditions(conditions))]
        have_actions = canonical_list(obs.sdk.get("Actions") or [])
        if have_actions != canonical_list(actions):
            diff["actions"] = [list(have_actions), list(canonical_list(actions))]
        if diff:
            modifies.append(
                Change(
                    action=Action.UPDATE,
                    type="rule",
                    name=f"{work.name} {spec.role}",
                    owner=key,
                    reason=f"route of {_who(spec)} changed: " + ", ".join(diff),
                    diff=diff,
                    params={"RuleArn": obs.arn, "Conditions": conditions, "Actions": actions},
                )
            )
    reorder: list[Change] = []
    if moves:
        reorder.append(
            Change(
                action=Action.UPDATE,
                type="rule-priorities",
                name=work.name,
                owner=key,
                reason="rules are out of order",
                diff={"priorities": moves},
                params={
                    "RulePriorities": [
                        {"RuleArn": arns[label], "Priority": moves[label][1]}
                        for label in sorted(moves, key=lambda x: moves[x][1])
                    ]
                },
            )
        )
    deletes = [
        Change(
            action=Action.DELETE,
            type="rule",
            name=f"{work.name} {m.role(rule.tags)}",
            owner=key,
            reason=(
                "no longer desired (deleted first: the rule quota leaves no room for new rules "
                "beside old ones)"
                if delete_first
                else "no longer desired"
            ),
            params={"RuleArn": rule.arn},
        )
        for rule in stale
    ]
    if delete_first:
        phases.rules += deletes + creates + modifies + reorder
    else:
        phases.rules += creates + modifies + reorder + deletes


def _who(spec: RuleSpec) -> str:
    return f"Ingress {spec.owner}" if spec.owner else "the group"
