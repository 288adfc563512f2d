"""Carrying out a plan: one handler per (resource type, action), each safe to run twice.

Apply is re-run after crashes and lost responses, so every handler tolerates the world being
a step ahead of the plan: a delete of something already gone succeeds; a create whose
resource already exists with our marks adopts it (AWS returns the existing target group on an
identical create, moto raises DuplicateTargetGroupName; moto even creates a second load
balancer or listener with the same name or port, so those are looked up before creating);
anything existing without our marks is an `OwnershipConflict` and is left alone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from providers.aws import marks as m
from providers.aws.client import Clients
from providers.aws.errors import error_code
from providers.aws.execute_rules import RULE_HANDLERS
from providers.aws.match import batches
from providers.base import (
    Change,
    Conflict,
    NotFound,
    OwnershipConflict,
    Plan,
    ProviderError,
    Status,
    resolve_refs,
)

TARGET_BATCH = 200

Handler = Callable[["Executor", Change, dict[str, Any]], None]


class Executor:
    """Runs one plan's changes in order, resolving refs to the ids created on the way."""

    def __init__(self, clients: Clients, marks: m.Marks) -> None:
        self.clients = clients
        self.marks = marks
        self.resolved: dict[str, str] = {}
        self.dns_name = ""
        self.fresh: set[str] = set()
        """Load balancers created by this apply: they cannot have listeners yet."""
        self.listener_ports: dict[str, dict[int, str]] = {}
        """Per load balancer: listener ARN by port, as created or read during this apply."""

    def run(self, plan: Plan) -> Status:
        observed_lb = plan.observed.get("load_balancer") or {}
        self.dns_name = str(observed_lb.get("dns_name", ""))
        pending = list(plan.changes)
        while pending:
            change = pending.pop(0)
            params = resolve_refs(change.params, self.resolved)
            if change.type == "security-group-rule":
                batch = [(change, params)]
                while pending and _same_rule_batch(change, params, pending[0], self):
                    batch.append((pending[0], resolve_refs(pending.pop(0).params, self.resolved)))
                if len(batch) > 1:
                    RULE_BATCHES[change.action.value](self, batch)
                    continue
            HANDLERS[(change.type, change.action.value)](self, change, params)
        if plan.deleting:
            return Status(holds_resources=False)
        hostnames = (self.dns_name,) if self.dns_name else ()
        detail = {
            "name": plan.observed.get("load_balancer_name", ""),
            "target_groups": dict(plan.observed.get("target_groups", {})),
        }
        return Status(hostnames=hostnames, holds_resources=True, detail=detail)

    def owned(self, tags: Mapping[str, str], owner: str) -> bool:
        return self.marks.owns(tags, owner)


def _conflict(kind: str, name: str, tags: Mapping[str, str], key: str) -> OwnershipConflict:
    return OwnershipConflict(
        f"{kind} {name} already exists and is not owned by {key} ({m.describe_marks(tags)}); "
        "it is left untouched"
    )


def _elb_tags(ex: Executor, arn: str) -> dict[str, str]:
    items = ex.clients.elbv2.call("DescribeTags", ResourceArns=[arn])["TagDescriptions"]
    return m.tag_dict(items[0].get("Tags")) if items else {}


def _find_lb(ex: Executor, name: str) -> dict[str, Any] | None:
    try:
        found = ex.clients.elbv2.call("DescribeLoadBalancers", Names=[name])["LoadBalancers"]
    except NotFound:
        return None
    return dict(found[0]) if found else None


def create_load_balancer(ex: Executor, change: Change, p: dict[str, Any]) -> None:
    """Looked up first: moto would create a second LB with the same name, AWS would refuse."""
    existing = _find_lb(ex, p["Name"])
    if existing is None:
        args = {
            "Name": p["Name"],
            "Type": p["Type"],
            "Scheme": p["Scheme"],
            "IpAddressType": p["IpAddressType"],
            "Subnets": p["Subnets"],
            "SecurityGroups": p["SecurityGroups"],
            "Tags": m.tag_list(p["tags"]),
        }
        try:
            created = ex.clients.elbv2.call("CreateLoadBalancer", retry=False, **args)
        except ProviderError as err:
            if not (err.retryable or isinstance(err, Conflict)):
                raise
            existing = _find_lb(ex, p["Name"])
            if existing is None:
                if isinstance(err, Conflict):
                    raise
                created = ex.clients.elbv2.call("CreateLoadBalancer", **args)
        if existing is None:
            existing = created["LoadBalancers"][0]
            ex.fresh.add(str(existing["LoadBalancerArn"]))
            _adopt_lb(ex, change, existing)
            return
    tags = _elb_tags(ex, existing["LoadBalancerArn"])
    if not ex.owned(tags, change.owner):
        raise _conflict("load balancer", p["Name"], tags, change.owner)
    _adopt_lb(ex, change, existing)


def _adopt_lb(ex: Executor, change: Change, sdk: Mapping[str, Any]) -> None:
    ex.resolved[change.ref] = str(sdk["LoadBalancerArn"])
    ex.dns_name = str(sdk.get("DNSName", ""))


def update_load_balancer(ex: Executor, change: Change, p: dict[str, Any]) -> None:
    arn = p["LoadBalancerArn"]
    if "Subnets" in p:
        ex.clients.elbv2.call("SetSubnets", LoadBalancerArn=arn, Subnets=p["Subnets"])
    if "SecurityGroups" in p:
        ex.clients.elbv2.call(
            "SetSecurityGroups", LoadBalancerArn=arn, SecurityGroups=p["SecurityGroups"]
        )
    if "IpAddressType" in p:
        ex.clients.elbv2.call(
            "SetIpAddressType", LoadBalancerArn=arn, IpAddressType=p["IpAddressType"]
        )


def delete_load_balancer(ex: Executor, change: Change, p: dict[str, Any]) -> None:
    try:
        ex.clients.elbv2.call("DeleteLoadBalancer", LoadBalancerArn=p["LoadBalancerArn"])
    except NotFound:
        return


def create_target_group(ex: Executor, change: Change, p: dict[str, Any]) -> None:
    args = {k: v for k, v in p.items() if k != "tags"}
    try:
        created = ex.clients.elbv2.call("CreateTargetGroup", Tags=m.tag_list(p["tags"]), **args)
        arn = created["TargetGroups"][0]["TargetGroupArn"]
    except Conflict as err:
        if error_code(err) != "DuplicateTargetGroupName":
            raise
        found = ex.clients.elbv2.call("DescribeTargetGroups", Names=[p["Name"]])["TargetGroups"]
        arn = found[0]["TargetGroupArn"]
        tags = _elb_tags(ex, arn)
        if not ex.owned(tags, change.owner):
            raise _conflict("target group", p["Name"], tags, change.owner) from err
    ex.resolved[change.ref] = str(arn)


def update_target_group(ex: Executor, change: Change, p: dict[str, Any]) -> None:
    ex.clients.elbv2.call("ModifyTargetGroup", **p)


def delete_target_group(ex: Executor, change: Change, p: dict[str, Any]) -> None:
    try:
        ex.clients.elbv2.call("DeleteTargetGroup", TargetGroupArn=p["TargetGroupArn"])
    except NotFound:
        return


def update_targets(ex: Executor, change: Change, p: dict[str, Any]) -> None:
    arn = p["TargetGroupArn"]
    for batch in batches(p["register"], TARGET_BATCH):
        ex.clients.elbv2.call("RegisterTargets", TargetGroupArn=arn, Targets=batch)
    for batch in batches(p["deregister"], TARGET_BATCH):
        try:
            ex.clients.elbv2.call("DeregisterTargets", TargetGroupArn=arn, Targets=batch)
        except NotFound:
            continue


def update_attributes(ex: Executor, change: Change, p: dict[str, Any]) -> None:
    attributes = [{"Key": k, "Value": v} for k, v in sorted(p["attributes"].items())]
    if p["resource"] == "load-balancer":
        ex.clients.elbv2.call(
            "ModifyLoadBalancerAttributes", LoadBalancerArn=p["arn"], Attributes=attributes
        )
    else:
        ex.clients.elbv2.call(
            "ModifyTargetGroupAttributes", TargetGroupArn=p["arn"], Attributes=attributes
        )


def update_tags(ex: Executor, change: Change, p: dict[str, Any]) -> None:
    set_tags: dict[str, str] = p.get("set", {})
    remove: list[str] = p.get("remove", [])
    if p["service"] == "elbv2":
        if set_tags:
            ex.clients.elbv2.call("AddTags", ResourceArns=[p["id"]], Tags=m.tag_list(set_tags))
        if remove:
            ex.clients.elbv2.call("RemoveTags", ResourceArns=[p["id"]], TagKeys=remove)
        return
    if set_tags:
        ex.clients.ec2.call("CreateTags", Resources=[p["id"]], Tags=m.tag_list(set_tags))
    if remove:
        ex.clients.ec2.call("DeleteTags", Resources=[p["id"]], Tags=[{"Key": k} for k in remove])


def _listener_args(p: dict[str, Any]) -> dict[str, Any]:
    if "DefaultActions" in p:
        # Application listeners: any default action; HTTPS carries policy and certificate.
        alb: dict[str, Any] = {"Protocol": p["Protocol"], "DefaultActions": p["DefaultActions"]}
        if p["Protocol"] == "HTTPS":
            alb["SslPolicy"] = p["SslPolicy"]
            if p.get("set_certificate", True) and p["certificates"]:
                alb["Certificates"] = [{"CertificateArn": p["certificates"][0]}]
        return alb
    args: dict[str, Any] = {
        "Protocol": p["Protocol"],
        "DefaultActions": [{"Type": "forward", "TargetGroupArn": p["TargetGroupArn"]}],
    }
    if p["Protocol"] == "TLS":
        args["Certificates"] = [{"CertificateArn": p["certificates"][0]}]
        args["SslPolicy"] = p["SslPolicy"]
    return args


def _ports(ex: Executor, lb_arn: str) -> dict[int, str]:
    """Listener ARN by port, read from AWS."""
    listeners = ex.clients.elbv2.call("DescribeListeners", LoadBalancerArn=lb_arn)["Listeners"]
    return {int(x["Port"]): str(x["ListenerArn"]) for x in listeners}


def create_listener(ex: Executor, change: Change, p: dict[str, Any]) -> None:
    """Never a second listener on a port: moto accepts one, AWS would refuse it.

    A load balancer created by this apply has no listeners; an older one is read once.
    """
    lb_arn = p["LoadBalancerArn"]
    if lb_arn not in ex.fresh and lb_arn not in ex.listener_ports:
        ex.listener_ports[lb_arn] = _ports(ex, lb_arn)
    known = ex.listener_ports.get(lb_arn, {})
    if p["Port"] in known:
        if change.ref:
            ex.resolved[change.ref] = known[p["Port"]]
        return
    args = {"LoadBalancerArn": lb_arn, "Port": p["Port"], **_listener_args(p)}
    try:
        created = ex.clients.elbv2.call(
            "CreateListener", retry=False, Tags=m.tag_list(p["tags"]), **args
        )
        arn = created["Listeners"][0]["ListenerArn"]
    except ProviderError as err:
        if not (err.retryable or isinstance(err, Conflict)):
            raise
        existing = _ports(ex, lb_arn)
        if p["Port"] not in existing:
            raise
        arn = existing[p["Port"]]
    ex.listener_ports.setdefault(lb_arn, {})[p["Port"]] = str(arn)
    if change.ref:
        ex.resolved[change.ref] = str(arn)
    extra = p["certificates"][1:]
    if extra:
        ex.clients.elbv2.call(
            "AddListenerCertificates",
            ListenerArn=arn,
            Certificates=[{"CertificateArn": c} for c in extra],
        )


def update_listener(ex: Executor, change: Change, p: dict[str, Any]) -> None:
    if set(change.diff) - {"sni_certificates"}:
        ex.clients.elbv2.call("ModifyListener", ListenerArn=p["ListenerArn"], **_listener_args(p))
    add, remove = p["add_certificates"], p["remove_certificates"]
    if p.get("set_certificate"):
        # A new default certificate may drop or keep SNI ones (moto drops them): read back.
        listed = ex.clients.elbv2.call("DescribeListenerCertificates", ListenerArn=p["ListenerArn"])
        have = {c["CertificateArn"] for c in listed["Certificates"] if not c.get("IsDefault")}
        want = set(p["certificates"][1:]) - set(p["certificates"][:1])
        add, remove = sorted(want - have), sorted(have - want)
    if add:
        ex.clients.elbv2.call(
            "AddListenerCertificates",
            ListenerArn=p["ListenerArn"],
            Certificates=[{"CertificateArn": c} for c in add],
        )
    if remove:
        ex.clients.elbv2.call(
            "RemoveListenerCertificates",
            ListenerArn=p["ListenerArn"],
            Certificates=[{"CertificateArn": c} for c in remove],
        )


def delete_listener(ex: Executor, change: Change, p: dict[str, Any]) -> None:
    try:
        ex.clients.elbv2.call("DeleteListener", ListenerArn=p["ListenerArn"])
    except NotFound:
        return


def create_security_group(ex: Executor, change: Change, p: dict[str, Any]) -> None:
    try:
        created = ex.clients.ec2.call(
            "CreateSecurityGroup",
            GroupName=p["GroupName"],
            Description=p["Description"],
            VpcId=p["VpcId"],
            TagSpecifications=m.tag_specifications("security-group", p["tags"]),
        )
        group_id = created["GroupId"]
    except Conflict as err:
        filters = [
            {"Name": "vpc-id", "Values": [p["VpcId"]]},
            {"Name": "group-name", "Values": [p["GroupName"]]},
        ]
        found = ex.clients.ec2.call("DescribeSecurityGroups", Filters=filters)["SecurityGroups"]
        if not found:
            raise
        tags = m.tag_dict(found[0].get("Tags"))
        if not ex.owned(tags, change.owner):
            raise _conflict("security group", p["GroupName"], tags, change.owner) from err
        group_id = found[0]["GroupId"]
    ex.resolved[change.ref] = str(group_id)


def delete_security_group(ex: Executor, change: Change, p: dict[str, Any]) -> None:
    """DependencyViolation becomes InUse: the LB's interfaces linger; a later pass retries."""
    try:
        ex.clients.ec2.call("DeleteSecurityGroup", GroupId=p["GroupId"])
    except NotFound:
        return


def _same_rule_batch(first: Change, params: dict[str, Any], nxt: Change, ex: Executor) -> bool:
    """Rule changes that one ec2 call can carry: same action, group and tags."""
    if nxt.type != first.type or nxt.action is not first.action or nxt.owner != first.owner:
        return False
    try:
        other = resolve_refs(nxt.params, ex.resolved)
    except ProviderError:
        return False
    return bool(other["GroupId"] == params["GroupId"] and other.get("tags") == params.get("tags"))


def authorize_rules(ex: Executor, batch: list[tuple[Change, dict[str, Any]]]) -> None:
    """One AuthorizeSecurityGroupIngress for several rules; rules are added all or none.

    If any of them already exists the whole call is refused, so fall back to one call per
    rule, which tells ours (adopted) from someone else's (a conflict).
    """
    first = batch[0][1]
    args: dict[str, Any] = {
        "GroupId": first["GroupId"],
        "IpPermissions": [_permission(p) for _, p in batch],
    }
    if first.get("tags"):
        args["TagSpecifications"] = m.tag_specifications("security-group-rule", first["tags"])
    try:
        ex.clients.ec2.call("AuthorizeSecurityGroupIngress", **args)
    except Conflict as err:
        if error_code(err) != "InvalidPermission.Duplicate":
            raise
        for change, params in batch:
            authorize_rule(ex, change, params)


def revoke_rules(ex: Executor, batch: list[tuple[Change, dict[str, Any]]]) -> None:
    ids = [rule_id for _, p in batch for rule_id in p["SecurityGroupRuleIds"]]
    try:
        ex.clients.ec2.call(
            "RevokeSecurityGroupIngress", GroupId=batch[0][1]["GroupId"], SecurityGroupRuleIds=ids
        )
    except NotFound:
        for change, params in batch:
            revoke_rule(ex, change, params)


def _permission(p: dict[str, Any]) -> dict[str, Any]:
    permission: dict[str, Any] = {
        "IpProtocol": p["protocol"],
        "FromPort": p["port"],
        "ToPort": p["port"],
    }
    if p["source_kind"] == "group":
        permission["UserIdGroupPairs"] = [{"GroupId": p["source"]}]
    elif p["source_kind"] == "cidr6":
        permission["Ipv6Ranges"] = [{"CidrIpv6": p["source"]}]
    else:
        permission["IpRanges"] = [{"CidrIp": p["source"]}]
    return permission


def authorize_rule(ex: Executor, change: Change, p: dict[str, Any]) -> None:
    args: dict[str, Any] = {"GroupId": p["GroupId"], "IpPermissions": [_permission(p)]}
    if p.get("tags"):
        args["TagSpecifications"] = m.tag_specifications("security-group-rule", p["tags"])
    try:
        ex.clients.ec2.call("AuthorizeSecurityGroupIngress", **args)
    except Conflict as err:
        if error_code(err) != "InvalidPermission.Duplicate" or not p.get("tags"):
            if error_code(err) == "InvalidPermission.Duplicate":
                return
            raise
        filters = [
            {"Name": "group-id", "Values": [p["GroupId"]]},
            {"Name": f"tag:{m.OWNER}", "Values": [change.owner]},
        ]
        rules = ex.clients.ec2.call("DescribeSecurityGroupRules", Filters=filters)
        for rule in rules.get("SecurityGroupRules", []):
            same_port = rule.get("FromPort") == p["port"] and rule.get("ToPort") == p["port"]
            if same_port and rule.get("IpProtocol") == p["protocol"]:
                return
        raise OwnershipConflict(
            f"security group {p['GroupId']} already has the rule {change.name} without our "
            "marks; it is left untouched (remove it, or disable "
            "manage-backend-security-group-rules)"
        ) from err


def revoke_rule(ex: Executor, change: Change, p: dict[str, Any]) -> None:
    try:
        ex.clients.ec2.call(
            "RevokeSecurityGroupIngress",
            GroupId=p["GroupId"],
            SecurityGroupRuleIds=p["SecurityGroupRuleIds"],
        )
    except NotFound:
        return


RULE_BATCHES: dict[str, Callable[[Executor, list[tuple[Change, dict[str, Any]]]], None]] = {
    "create": authorize_rules,
    "delete": revoke_rules,
}

HANDLERS: dict[tuple[str, str], Handler] = {
    ("load-balancer", "create"): create_load_balancer,
    ("load-balancer", "update"): update_load_balancer,
    ("load-balancer", "delete"): delete_load_balancer,
    ("target-group", "create"): create_target_group,
    ("target-group", "update"): update_target_group,
    ("target-group", "delete"): delete_target_group,
    ("targets", "update"): update_targets,
    ("attributes", "update"): update_attributes,
    ("tags", "update"): update_tags,
    ("listener", "create"): create_listener,
    ("listener", "update"): update_listener,
    ("listener", "delete"): delete_listener,
    ("security-group", "create"): create_security_group,
    ("security-group", "delete"): delete_security_group,
    ("security-group-rule", "create"): authorize_rule,
    ("security-group-rule", "delete"): revoke_rule,
    **RULE_HANDLERS,
}
