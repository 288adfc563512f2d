"""From desired and observed to an ordered list of changes, without calling AWS.

The order is the design's: security groups and their rules, target groups, targets of new
target groups, the load balancer, attributes, listeners, target changes of existing groups,
deletion of target groups nothing routes to, then deletion of the rest in reverse (old load
balancer, its target groups, our node rules, the frontend group). Changes refer to resources
created earlier in the same plan by `ref`; apply resolves them as it goes.
"""

from __future__ import annotations

from typing import Any

from providers.aws import alb_plan
from providers.aws import desired as d
from providers.aws import marks as m
from providers.aws.changes import (
    LB_REF,
    SG_REF,
    Context,
    Phases,
    attributes_change,
    delete_group,
    delete_lb,
    delete_listener,
    delete_tg,
    listeners_by_port,
    ref,
    revoke_backend_rules,
    tags_change,
    targets_change,
    tg_ref,
)
from providers.aws.match import (
    LB_ATTRIBUTE_DEFAULTS,
    TG_ATTRIBUTE_DEFAULTS,
    attribute_diff,
    health_check_diff,
    listener_diff,
    load_balancer_diff,
    load_balancer_replacement,
    target_diff,
    user_tag_diff,
)
from providers.aws.observe import Observed, ObservedLoadBalancer, ObservedTargetGroup
from providers.aws.security import plan_backend_rules, plan_groups
from providers.base import Action, Change
from provisioner.model import Kind


def plan_delete(marks: m.Marks, key: str, observed: Observed) -> tuple[Change, ...]:
    """Everything the key owns, in reverse order of creation."""
    changes: list[Change] = []
    for lb in observed.load_balancers:
        changes.append(delete_lb(key, lb, reason="no longer desired"))
    changes += [delete_tg(key, tg, "no longer desired") for tg in observed.target_groups]
    changes += revoke_backend_rules(key, observed.backend_rules, "no longer desired")
    for group in observed.security_groups:
        changes.append(delete_group(key, group.id, group.sdk["GroupName"], "no longer desired"))
    return tuple(changes)


def plan_desired(ctx: Context) -> tuple[tuple[Change, ...], dict[str, Any]]:
    """The changes that turn the observed resources into the desired ones."""
    desired = ctx.desired
    key = desired.key
    options = d.aws_options(desired)
    phases = Phases()
    lb_name = d.lb_name(desired)

    keep, stale = _pick_load_balancer(ctx, lb_name)
    delete_first = any(lb.name == lb_name for lb, _ in stale) or (
        desired.name is not None and bool(stale)
    )
    replace_reason = next((r[0] for _, r in stale if r), "a second load balancer of this key")
    stale_changes = [
        delete_lb(key, lb, reason=(reasons[0] if reasons else replace_reason), replace=True)
        for lb, reasons in stale
    ]

    frontend = plan_groups(ctx, phases, options)
    tg_ids = _plan_target_groups(ctx, phases, lb_name=lb_name, keep=keep)

    if delete_first:
        phases.load_balancer += stale_changes
    lb_id: Any
    if keep is None:
        lb_id = ref(LB_REF)
        phases.load_balancer.append(
            Change(
                action=Action.CREATE,
                type="load-balancer",
                name=lb_name,
                owner=key,
                replace=bool(stale),
                reason=replace_reason if stale else "does not exist",
                diff={"scheme": desired.scheme.value, "subnets": list(ctx.subnets)},
                params={
                    "Name": lb_name,
                    "Type": desired.kind.value,
                    "Scheme": desired.scheme.value,
                    "IpAddressType": desired.ip_family.value,
                    "Subnets": list(ctx.subnets),
                    "SecurityGroups": frontend,
                    "tags": ctx.marks.tags(key, m.LOAD_BALANCER, desired.tags),
                },
                ref=LB_REF,
            )
        )
    else:
        lb_id = keep.arn
        _update_load_balancer(ctx, phases, keep, frontend)
    observed_attrs = keep.attributes if keep is not None else {}
    attrs = attribute_diff(
        d.lb_attributes(desired, options), observed_attrs, defaults=LB_ATTRIBUTE_DEFAULTS
    )
    if attrs:
        phases.attributes.insert(0, attributes_change(key, lb_name, "load-balancer", lb_id, attrs))
    if desired.kind is Kind.APPLICATION:
        alb_plan.plan_listeners(ctx, phases, keep=keep, lb_id=lb_id, lb_name=lb_name, tg_ids=tg_ids)
    else:
        _plan_listeners(ctx, phases, keep=keep, lb_id=lb_id, lb_name=lb_name, tg_ids=tg_ids)

    if not delete_first:
        phases.rest += stale_changes
        stale_arns = {lb.arn for lb, _ in stale}
        late = [item for item in phases.unused_target_groups if item[1] & stale_arns]
        phases.unused_target_groups = [i for i in phases.unused_target_groups if i not in late]
        phases.rest += [c for c, _ in late]
    plan_backend_rules(ctx, phases, options, frontend, kept_ports=_frozen_ports(ctx, keep))
    observed = {
        "vpc_id": ctx.network.vpc_id,
        "subnets": list(ctx.subnets),
        "load_balancer": (
            {"name": keep.name, "arn": keep.arn, "dns_name": keep.sdk.get("DNSName", "")}
            if keep is not None
            else None
        ),
    }
    return phases.changes(), observed


def _frozen_ports(ctx: Context, keep: ObservedLoadBalancer | None) -> frozenset[int]:
    """Ports the target groups of frozen Ingresses use: their node rules stay as they are."""
    protected = alb_plan.frozen_target_groups(ctx, keep)
    ports: set[int] = set()
    for tg in ctx.observed.target_groups:
        if tg.arn in protected:
            ports |= {port for _, port in tg.targets} or {int(tg.sdk["Port"])}
            health = str(tg.sdk.get("HealthCheckPort", "traffic-port"))
            if health.isdigit():
                ports.add(int(health))
    return frozenset(ports)


def _pick_load_balancer(
    ctx: Context, lb_name: str
) -> tuple[ObservedLoadBalancer | None, list[tuple[ObservedLoadBalancer, list[str]]]]:
    keep: ObservedLoadBalancer | None = None
    stale: list[tuple[ObservedLoadBalancer, list[str]]] = []
    ordered = sorted(ctx.observed.load_balancers, key=lambda lb: (lb.name != lb_name, lb.arn))
    for lb in ordered:
        reasons = load_balancer_replacement(
            desired_scheme=ctx.desired.scheme.value,
            desired_name=ctx.desired.name,
            desired_has_groups=True,
            observed=lb.sdk,
            desired_type=ctx.desired.kind.value,
        )
        if keep is None and not reasons:
            keep = lb
        else:
            stale.append((lb, reasons))
    return keep, stale


def _plan_target_groups(
    ctx: Context, phases: Phases, *, lb_name: str, keep: ObservedLoadBalancer | None
) -> dict[str, Any]:
    """Create, update or keep one target group per backend; returns backend id -> arn or ref."""
    desired, key = ctx.desired, ctx.desired.key
    specs = d.target_groups(desired, ctx.network, load_balancer_name=lb_name)
    remaining = list(ctx.observed.target_groups)
    ids: dict[str, Any] = {}
    kept_lb = {keep.arn} if keep is not None else set()
    for spec in specs:
        candidates = [tg for tg in remaining if m.role(tg.tags) == m.backend_role(spec.backend_id)]
        chosen = next((tg for tg in candidates if tg.name == spec.name), None)
        if chosen is None:
            chosen = next((tg for tg in candidates if _adoptable(tg, spec, ctx, kept_lb)), None)
        if chosen is None:
            ids[spec.backend_id] = ref(tg_ref(spec.backend_id))
            _create_tg(ctx, phases, spec)
            continue
        remaining.remove(chosen)
        ids[spec.backend_id] = chosen.arn
        _update_tg(ctx, phases, spec, chosen)
    protected = alb_plan.frozen_target_groups(ctx, keep)
    for tg in remaining:
        if tg.arn in protected:
            continue  # a frozen Ingress's rules still forward to it
        change = delete_tg(key, tg, "nothing routes to it any more")
        attached = frozenset(tg.sdk.get("LoadBalancerArns", []))
        phases.unused_target_groups.append((change, attached))
    return ids


def _adoptable(
    tg: ObservedTargetGroup, spec: d.TargetGroupSpec, ctx: Context, kept_lb: set[str]
) -> bool:
    sdk = tg.sdk
    return (
        sdk.get("Protocol") == spec.protocol
        and sdk.get("Port") == spec.port
        and sdk.get("TargetType") == spec.target_type
        and sdk.get("VpcId") == ctx.network.vpc_id
        and sdk.get("ProtocolVersion") == spec.protocol_version
        and set(sdk.get("LoadBalancerArns", [])) <= kept_lb
    )


def _create_tg(ctx: Context, phases: Phases, spec: d.TargetGroupSpec) -> None:
    key = ctx.desired.key
    tg_id = tg_ref(spec.backend_id)
    phases.target_groups.append(
        Change(
            action=Action.CREATE,
            type="target-group",
            name=spec.name,
            owner=key,
            reason=f"backend {spec.backend_id}",
            diff={"protocol": spec.protocol, "port": spec.port, "target_type": spec.target_type},
            params={
                "Name": spec.name,
                "Protocol": spec.protocol,
                "Port": spec.port,
                "TargetType": spec.target_type,
                "VpcId": ctx.network.vpc_id,
                "IpAddressType": spec.ip_address_type,
                **({"ProtocolVersion": spec.protocol_version} if spec.protocol_version else {}),
                **spec.health,
                "tags": ctx.marks.tags(key, m.backend_role(spec.backend_id), ctx.desired.tags),
            },
            ref=tg_id,
        )
    )
    attrs = attribute_diff(spec.attributes, {}, defaults=TG_ATTRIBUTE_DEFAULTS)
    if attrs:
        phases.target_groups.append(
            attributes_change(key, spec.name, "target-group", ref(tg_id), attrs)
        )
    if spec.targets:
        phases.new_targets.append(
            targets_change(key, spec.name, ref(tg_id), sorted(spec.targets), [])
        )


def _update_tg(
    ctx: Context, phases: Phases, spec: d.TargetGroupSpec, tg: ObservedTargetGroup
) -> None:
    key = ctx.desired.key
    health = health_check_diff(spec.health, tg.sdk)
    if health:
        params = {"TargetGroupArn": tg.arn, **spec.health}
        phases.target_groups.append(
            Change(
                action=Action.UPDATE,
                type="target-group",
                name=tg.name,
                owner=key,
                reason="health check differs",
                diff={"health_check": health},
                params=params,
            )
        )
    attrs = attribute_diff(spec.attributes, tg.attributes, defaults=TG_ATTRIBUTE_DEFAULTS)
    if attrs:
        phases.attributes.append(attributes_change(key, tg.name, "target-group", tg.arn, attrs))
    tag_diff = user_tag_diff(ctx.desired.tags, tg.tags)
    if tag_diff:
        phases.attributes.append(tags_change(key, tg.name, "elbv2", tg.arn, tag_diff))
    register, deregister = target_diff(spec.targets, tg.targets)
    if register or deregister:
        phases.targets.append(targets_change(key, tg.name, tg.arn, register, deregister))


def _update_load_balancer(
    ctx: Context, phases: Phases, lb: ObservedLoadBalancer, frontend: list[Any]
) -> None:
    key = ctx.desired.key
    groups = [g if isinstance(g, str) else "$" + SG_REF for g in frontend]
    diff = load_balancer_diff(
        desired_subnets=ctx.subnets,
        desired_groups=groups,
        desired_ip_type=ctx.desired.ip_family.value,
        observed=lb.sdk,
    )
    if diff:
        params: dict[str, Any] = {"LoadBalancerArn": lb.arn}
        if "subnets" in diff:
            params["Subnets"] = list(ctx.subnets)
        if "security_groups" in diff:
            params["SecurityGroups"] = frontend
        if "ip_address_type" in diff:
            params["IpAddressType"] = ctx.desired.ip_family.value
        phases.load_balancer.append(
            Change(
                action=Action.UPDATE,
                type="load-balancer",
                name=lb.name,
                owner=key,
                reason="changes in place: " + ", ".join(diff),
                diff=diff,
                params=params,
            )
        )
    tag_diff = user_tag_diff(ctx.desired.tags, lb.tags)
    if tag_diff:
        phases.attributes.append(tags_change(key, lb.name, "elbv2", lb.arn, tag_diff))


def _plan_listeners(
    ctx: Context,
    phases: Phases,
    *,
    keep: ObservedLoadBalancer | None,
    lb_id: Any,
    lb_name: str,
    tg_ids: dict[str, Any],
) -> None:
    key = ctx.desired.key
    observed = listeners_by_port(key, lb_name, keep, phases)
    for spec in d.listeners(ctx.desired):
        target = tg_ids[spec.backend_id]
        current = observed.pop(spec.port, None)
        name = f"{lb_name}:{spec.port}"
        if current is None:
            phases.listeners.append(
                Change(
                    action=Action.CREATE,
                    type="listener",
                    name=name,
                    owner=key,
                    reason="port is not served yet",
                    diff={"protocol": spec.protocol},
                    params={
                        "LoadBalancerArn": lb_id,
                        "Port": spec.port,
                        "Protocol": spec.protocol,
                        "TargetGroupArn": target,
                        "certificates": list(spec.certificates),
                        "SslPolicy": spec.ssl_policy,
                        "tags": ctx.marks.tags(key, m.listener_role(spec.port), ctx.desired.tags),
                    },
                )
            )
            continue
        assert keep is not None
        diff = listener_diff(
            desired_protocol=spec.protocol,
            desired_target_group=target if isinstance(target, str) else "(" + target["ref"] + ")",
            desired_certificates=spec.certificates,
            desired_policy=spec.ssl_policy,
            observed=current,
            observed_certificates=keep.certificates.get(current["ListenerArn"], []),
        )
        if diff:
            have = set(keep.certificates.get(current["ListenerArn"], []))
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
                        "Protocol": spec.protocol,
                        "TargetGroupArn": target,
                        "certificates": list(spec.certificates),
                        "SslPolicy": spec.ssl_policy,
                        "add_certificates": sorted(set(spec.certificates[1:]) - have),
                        "remove_certificates": sorted(
                            have - set(spec.certificates) if spec.protocol == "TLS" else have
                        ),
                    },
                )
            )
    for port in sorted(observed):
        phases.listeners.append(delete_listener(key, lb_name, observed[port], "port removed"))
