"""Reading what one key owns in AWS: found by marks, and by the names we would create.

The cloud is the record: the tagging API finds load balancers and target groups carrying the
key's marks, ec2 tag filters find its security groups and node rules. The deterministic
names we would create are looked up as well, so a resource created just before a crash is
adopted even while tag search lags, and a same-named resource with other marks is an
`OwnershipConflict` before anything is written. Reads are batched; the number of calls
depends on the number of resources, not on the number of targets.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from providers.aws import marks as m
from providers.aws.client import AwsClient, Clients
from providers.aws.match import attributes_from_sdk, batches, targets_from_health
from providers.base import NotFound, OwnershipConflict

LB_TYPE = "elasticloadbalancing:loadbalancer"
TG_TYPE = "elasticloadbalancing:targetgroup"


@dataclass
class ObservedRule:
    """A non-default listener rule of an ALB, with its tags (ours or not)."""

    sdk: dict[str, Any]
    tags: dict[str, str]

    @property
    def arn(self) -> str:
        return str(self.sdk["RuleArn"])

    @property
    def priority(self) -> int:
        return int(self.sdk["Priority"])


@dataclass
class ObservedLoadBalancer:
    sdk: dict[str, Any]
    tags: dict[str, str]
    attributes: dict[str, str] = field(default_factory=dict)
    listeners: list[dict[str, Any]] = field(default_factory=list)
    certificates: dict[str, list[str]] = field(default_factory=dict)
    """Listener ARN -> every certificate on it (default and SNI)."""
    rules: dict[str, list[ObservedRule]] = field(default_factory=dict)
    """Listener ARN -> its non-default rules by priority (application load balancers)."""

    @property
    def arn(self) -> str:
        return str(self.sdk["LoadBalancerArn"])

    @property
    def name(self) -> str:
        return str(self.sdk["LoadBalancerName"])


@dataclass
class ObservedTargetGroup:
    sdk: dict[str, Any]
    tags: dict[str, str]
    attributes: dict[str, str] = field(default_factory=dict)
    targets: frozenset[tuple[str, int]] = frozenset()

    @property
    def arn(self) -> str:
        return str(self.sdk["TargetGroupArn"])

    @property
    def name(self) -> str:
        return str(self.sdk["TargetGroupName"])


@dataclass
class ObservedGroup:
    sdk: dict[str, Any]
    tags: dict[str, str]
    rules: list[dict[str, Any]] = field(default_factory=list)

    @property
    def id(self) -> str:
        return str(self.sdk["GroupId"])


@dataclass
class Observed:
    load_balancers: list[ObservedLoadBalancer] = field(default_factory=list)
    target_groups: list[ObservedTargetGroup] = field(default_factory=list)
    security_groups: list[ObservedGroup] = field(default_factory=list)
    backend_rules: list[dict[str, Any]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (
            self.load_balancers or self.target_groups or self.security_groups or self.backend_rules
        )


@dataclass(frozen=True)
class Lookup:
    """Names we would create, checked even when tag search does not show them."""

    load_balancer: str | None = None
    target_groups: tuple[str, ...] = ()
    security_group: str | None = None
    vpc_id: str | None = None
    details: bool = True


def observe(clients: Clients, marks: m.Marks, key: str, lookup: Lookup) -> Observed:
    tagged = _tagged_elb(clients.tagging, marks, key)
    observed = Observed()
    observed.load_balancers = _load_balancers(
        clients.elbv2,
        marks,
        key,
        [a for a, t in tagged.items() if ":loadbalancer/" in a],
        tagged,
        lookup.load_balancer,
    )
    observed.target_groups = _target_groups(
        clients.elbv2,
        marks,
        key,
        [a for a, t in tagged.items() if ":targetgroup/" in a],
        tagged,
        lookup.target_groups,
    )
    observed.security_groups = _security_groups(clients.ec2, marks, key, lookup)
    observed.backend_rules = _backend_rules(clients.ec2, marks, key)
    for lb in observed.load_balancers:
        lb.attributes = attributes_from_sdk(
            clients.elbv2.call("DescribeLoadBalancerAttributes", LoadBalancerArn=lb.arn)[
                "Attributes"
            ]
        )
        if lookup.details:
            _listeners(clients.elbv2, lb)
    if lookup.details:
        for tg in observed.target_groups:
            tg.attributes = attributes_from_sdk(
                clients.elbv2.call("DescribeTargetGroupAttributes", TargetGroupArn=tg.arn)[
                    "Attributes"
                ]
            )
            tg.targets = targets_from_health(
                clients.elbv2.call("DescribeTargetHealth", TargetGroupArn=tg.arn)[
                    "TargetHealthDescriptions"
                ]
            )
        group_ids = [g.id for g in observed.security_groups]
        if group_ids:
            filters = [{"Name": "group-id", "Values": group_ids}]
            rules = _rules(clients.ec2, filters)
            for group in observed.security_groups:
                group.rules = [r for r in rules if r["GroupId"] == group.id]
    return observed


def _tagged_elb(tagging: AwsClient, marks: m.Marks, key: str | None) -> dict[str, dict[str, str]]:
    filters = [{"Key": k, "Values": [v]} for k, v in marks.search_filters(key).items()]
    found: dict[str, dict[str, str]] = {}
    for page in tagging.pages(
        "GetResources",
        token="PaginationToken",
        TagFilters=filters,
        ResourceTypeFilters=[LB_TYPE, TG_TYPE],
    ):
        for item in page.get("ResourceTagMappingList", []):
            found[item["ResourceARN"]] = m.tag_dict(item.get("Tags"))
    return found


def owned_keys(clients: Clients, marks: m.Marks) -> set[str]:
    """Every owner key with an LB, target group, security group or node rule of ours."""
    keys = {t.get(m.OWNER, "") for t in _tagged_elb(clients.tagging, marks, None).values()}
    filters = _ec2_tag_filters(marks, None)
    for page in clients.ec2.pages("DescribeSecurityGroups", token="NextToken", Filters=filters):
        for group in page.get("SecurityGroups", []):
            keys.add(m.tag_dict(group.get("Tags")).get(m.OWNER, ""))
    for rule in _rules(clients.ec2, filters):
        keys.add(m.tag_dict(rule.get("Tags")).get(m.OWNER, ""))
    keys.discard("")
    return keys


def _describe_by_arns(
    elbv2: AwsClient, operation: str, arg: str, result: str, arns: Sequence[str]
) -> list[dict[str, Any]]:
    """Describe by ARN in batches of 20; an ARN gone since tag search is skipped."""
    out: list[dict[str, Any]] = []
    for batch in batches(sorted(arns), 20):
        try:
            args: dict[str, Any] = {arg: batch}
            out += elbv2.call(operation, **args)[result]
        except NotFound:
            for arn in batch:
                try:
                    one: dict[str, Any] = {arg: [arn]}
                    out += elbv2.call(operation, **one)[result]
                except NotFound:
                    continue
    return out


def _by_name(elbv2: AwsClient, operation: str, result: str, name: str) -> dict[str, Any] | None:
    try:
        items: list[dict[str, Any]] = elbv2.call(operation, Names=[name])[result]
    except NotFound:
        return None
    return items[0] if items else None


def _tags_of(elbv2: AwsClient, arns: Sequence[str]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for batch in batches(list(arns), 20):
        for item in elbv2.call("DescribeTags", ResourceArns=batch)["TagDescriptions"]:
            out[item["ResourceArn"]] = m.tag_dict(item.get("Tags"))
    return out


def _conflict(kind: str, name: str, tags: dict[str, str], key: str) -> OwnershipConflict:
    return OwnershipConflict(
        f"{kind} {name} already exists and is not owned by {key} ({m.describe_marks(tags)}); "
        "it is left untouched: delete or rename it, or choose another name"
    )


def _load_balancers(
    elbv2: AwsClient,
    marks: m.Marks,
    key: str,
    arns: list[str],
    tagged: dict[str, dict[str, str]],
    name: str | None,
) -> list[ObservedLoadBalancer]:
    sdk_lbs = _describe_by_arns(
        elbv2, "DescribeLoadBalancers", "LoadBalancerArns", "LoadBalancers", arns
    )
    found = [ObservedLoadBalancer(sdk=lb, tags=tagged[lb["LoadBalancerArn"]]) for lb in sdk_lbs]
    if name is not None and all(lb.name != name for lb in found):
        sdk = _by_name(elbv2, "DescribeLoadBalancers", "LoadBalancers", name)
        if sdk is not None:
            tags = _tags_of(elbv2, [sdk["LoadBalancerArn"]]).get(sdk["LoadBalancerArn"], {})
            if not marks.owns(tags, key):
                raise _conflict("load balancer", name, tags, key)
            found.append(ObservedLoadBalancer(sdk=sdk, tags=tags))
    return [lb for lb in found if m.role(lb.tags) == m.LOAD_BALANCER]


def _target_groups(
    elbv2: AwsClient,
    marks: m.Marks,
    key: str,
    arns: list[str],
    tagged: dict[str, dict[str, str]],
    names: Iterable[str],
) -> list[ObservedTargetGroup]:
    sdk_tgs = _describe_by_arns(
        elbv2, "DescribeTargetGroups", "TargetGroupArns", "TargetGroups", arns
    )
    found = [ObservedTargetGroup(sdk=tg, tags=tagged[tg["TargetGroupArn"]]) for tg in sdk_tgs]
    have = {tg.name for tg in found}
    extra: list[dict[str, Any]] = []
    for name in names:
        if name not in have:
            sdk = _by_name(elbv2, "DescribeTargetGroups", "TargetGroups", name)
            if sdk is not None:
                extra.append(sdk)
    if extra:
        tags = _tags_of(elbv2, [tg["TargetGroupArn"] for tg in extra])
        for sdk in extra:
            sdk_tags = tags.get(sdk["TargetGroupArn"], {})
            if not marks.owns(sdk_tags, key):
                raise _conflict("target group", sdk["TargetGroupName"], sdk_tags, key)
            found.append(ObservedTargetGroup(sdk=sdk, tags=sdk_tags))
    return found


def _ec2_tag_filters(marks: m.Marks, key: str | None) -> list[dict[str, Any]]:
    return [{"Name": f"tag:{k}", "Values": [v]} for k, v in marks.search_filters(key).items()]


def _security_groups(
    ec2: AwsClient, marks: m.Marks, key: str, lookup: Lookup
) -> list[ObservedGroup]:
    filters = _ec2_tag_filters(marks, key)
    groups = [
        ObservedGroup(sdk=g, tags=m.tag_dict(g.get("Tags")))
        for g in ec2.call("DescribeSecurityGroups", Filters=filters)["SecurityGroups"]
    ]
    name = lookup.security_group
    if name is not None and lookup.vpc_id and all(g.sdk["GroupName"] != name for g in groups):
        by_name = [
            {"Name": "vpc-id", "Values": [lookup.vpc_id]},
            {"Name": "group-name", "Values": [name]},
        ]
        for sdk in ec2.call("DescribeSecurityGroups", Filters=by_name)["SecurityGroups"]:
            tags = m.tag_dict(sdk.get("Tags"))
            if not marks.owns(tags, key):
                raise _conflict("security group", f"{name} ({sdk['GroupId']})", tags, key)
            groups.append(ObservedGroup(sdk=sdk, tags=tags))
    return [g for g in groups if m.role(g.tags) == m.SECURITY_GROUP]


def _rules(ec2: AwsClient, filters: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = []
    for page in ec2.pages("DescribeSecurityGroupRules", token="NextToken", Filters=filters):
        rules += page.get("SecurityGroupRules", [])
    return rules


def _backend_rules(ec2: AwsClient, marks: m.Marks, key: str) -> list[dict[str, Any]]:
    return [
        r
        for r in _rules(ec2, _ec2_tag_filters(marks, key))
        if m.role(m.tag_dict(r.get("Tags"))) == m.BACKEND_RULE
    ]


def _listeners(elbv2: AwsClient, lb: ObservedLoadBalancer) -> None:
    lb.listeners = []
    for page in elbv2.pages(
        "DescribeListeners", token="Marker", next_token="NextMarker", LoadBalancerArn=lb.arn
    ):
        lb.listeners += page.get("Listeners", [])
    for listener in lb.listeners:
        if listener.get("Protocol") in ("TLS", "HTTPS"):
            arn = listener["ListenerArn"]
            certs = elbv2.call("DescribeListenerCertificates", ListenerArn=arn)["Certificates"]
            lb.certificates[arn] = [c["CertificateArn"] for c in certs]
    if lb.sdk.get("Type") == "application":
        _listener_rules(elbv2, lb)


def _listener_rules(elbv2: AwsClient, lb: ObservedLoadBalancer) -> None:
    """Every listener's rules (one paged read each) and their tags (batches of 20)."""
    found: dict[str, list[dict[str, Any]]] = {}
    for listener in lb.listeners:
        arn = str(listener["ListenerArn"])
        found[arn] = []
        for page in elbv2.pages(
            "DescribeRules", token="Marker", next_token="NextMarker", ListenerArn=arn
        ):
            found[arn] += [r for r in page.get("Rules", []) if not r.get("IsDefault")]
    tags = _tags_of(elbv2, [r["RuleArn"] for rules in found.values() for r in rules])
    lb.rules = {
        arn: sorted(
            (ObservedRule(sdk=r, tags=tags.get(r["RuleArn"], {})) for r in rules),
            key=lambda rule: rule.priority,
        )
        for arn, rules in found.items()
    }
