"""Pure comparisons of desired AWS resources with what elbv2 and ec2 returned.

Nothing here calls AWS, so every rule that decides "create, update, replace or leave alone"
is tested by table without a cloud. Observed values are the SDK's own dict shapes; desired
values come from `providers.aws.desired`. A diff maps a field to `[observed, desired]`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from providers.aws.marks import tag_dict

TG_ATTRIBUTE_DEFAULTS: Mapping[str, str] = {"proxy_protocol_v2.enabled": "false"}
"""What AWS reports for attributes a fresh target group has not had set (moto omits some)."""

LB_ATTRIBUTE_DEFAULTS: Mapping[str, str] = {
    "deletion_protection.enabled": "false",
    "load_balancing.cross_zone.enabled": "false",
}

HEALTH_FIELDS = (
    "HealthCheckProtocol",
    "HealthCheckPort",
    "HealthCheckPath",
    "Matcher",
    "HealthyThresholdCount",
    "UnhealthyThresholdCount",
    "HealthCheckTimeoutSeconds",
    "HealthCheckIntervalSeconds",
    "HealthCheckEnabled",
)


def attribute_diff(
    desired: Mapping[str, str],
    observed: Mapping[str, str],
    *,
    defaults: Mapping[str, str] = TG_ATTRIBUTE_DEFAULTS,
) -> dict[str, list[str]]:
    """Only desired keys whose observed value differs (a missing key counts as its default)."""
    diff: dict[str, list[str]] = {}
    for key in sorted(desired):
        current = observed.get(key, defaults.get(key))
        if current != desired[key]:
            diff[key] = [current if current is not None else "", desired[key]]
    return diff


def attributes_from_sdk(items: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    return {str(a["Key"]): str(a.get("Value", "")) for a in items}


def health_check_diff(
    desired: Mapping[str, Any], observed: Mapping[str, Any]
) -> dict[str, list[Any]]:
    """Fields of a target group's health check that differ; `Path`/`Matcher` only for HTTP(S)."""
    diff: dict[str, list[Any]] = {}
    http = str(desired.get("HealthCheckProtocol", "")).startswith("HTTP")
    for field in HEALTH_FIELDS:
        if field not in desired:
            continue
        if field in ("HealthCheckPath", "Matcher") and not http:
            continue
        if field == "Matcher" and field not in observed:
            # AWS always reports the matcher of an HTTP check; moto never does.
            continue
        if observed.get(field) != desired[field]:
            diff[field] = [observed.get(field), desired[field]]
    return diff


TargetKey = tuple[str, int]


def target_key_text(target: TargetKey) -> str:
    return f"{target[0]}:{target[1]}"


def target_diff(
    desired: Iterable[TargetKey], observed: Iterable[TargetKey]
) -> tuple[list[TargetKey], list[TargetKey]]:
    """(register, deregister), each sorted so plans are stable."""
    want, have = set(desired), set(observed)
    return sorted(want - have), sorted(have - want)


def targets_from_health(descriptions: Iterable[Mapping[str, Any]]) -> frozenset[TargetKey]:
    out: set[TargetKey] = set()
    for item in descriptions:
        target = item["Target"]
        state = item.get("TargetHealth", {}).get("State")
        if state == "draining":
            continue
        out.add((str(target["Id"]), int(target.get("Port", 0))))
    return frozenset(out)


def batches(items: Sequence[Any], size: int) -> list[list[Any]]:
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


@dataclass(frozen=True, order=True)
class Rule:
    """One ingress permission: protocol, a single port, and a CIDR or a source group."""

    protocol: str
    port: int
    source: str

    @property
    def source_kind(self) -> str:
        if self.source.startswith("sg-") or self.source.startswith("$"):
            return "group"
        return "cidr6" if ":" in self.source else "cidr"

    def text(self) -> str:
        return f"{self.protocol}/{self.port} from {self.source}"


RuleT = TypeVar("RuleT", Rule, tuple[str, Rule])


def rule_from_sdk(rule: Mapping[str, Any]) -> Rule | None:
    """A single-port, single-source ingress rule as a `Rule`; other shapes are not ours."""
    if rule.get("IsEgress"):
        return None
    start, end = rule.get("FromPort"), rule.get("ToPort")
    if start is None or start != end:
        return None
    source = (
        rule.get("CidrIpv4")
        or rule.get("CidrIpv6")
        or (rule.get("ReferencedGroupInfo") or {}).get("GroupId")
    )
    if not source:
        return None
    return Rule(
        protocol=str(rule.get("IpProtocol", "")).lower(), port=int(start), source=str(source)
    )


def rule_diff(
    desired: Iterable[RuleT], observed: Mapping[str, RuleT | None]
) -> tuple[list[RuleT], list[str]]:
    """(rules to authorize, rule ids to revoke); `observed` maps rule id to its shape.

    A shape we cannot read (None), a rule not desired and a second copy of one desired rule
    are all revoked; the caller only passes rules that are ours to revoke.
    """
    want = set(desired)
    have: dict[RuleT, str] = {}
    revoke: list[str] = []
    for rule_id in sorted(observed):
        shape = observed[rule_id]
        if shape is None or shape not in want or shape in have:
            revoke.append(rule_id)
        else:
            have[shape] = rule_id
    return sorted(want - set(have)), revoke


def load_balancer_replacement(
    *,
    desired_scheme: str,
    desired_name: str | None,
    desired_has_groups: bool,
    observed: Mapping[str, Any],
    desired_type: str = "network",
) -> list[str]:
    """Why the observed load balancer cannot become the desired one in place (empty: it can)."""
    reasons: list[str] = []
    if observed.get("Type", "network") != desired_type:
        reasons.append(f"type {observed.get('Type')} -> {desired_type} cannot change in place")
    if observed.get("Scheme") != desired_scheme:
        reasons.append(
            f"scheme {observed.get('Scheme')} -> {desired_scheme} cannot change in place"
        )
    if desired_name is not None and observed.get("LoadBalancerName") != desired_name:
        reasons.append(
            f"name {observed.get('LoadBalancerName')} -> {desired_name} cannot change in place"
        )
    if desired_type == "network" and desired_has_groups and not observed.get("SecurityGroups"):
        reasons.append("security groups can only be given to an NLB when it is created")
    return reasons


def load_balancer_diff(
    *,
    desired_subnets: Sequence[str],
    desired_groups: Sequence[str],
    desired_ip_type: str,
    observed: Mapping[str, Any],
) -> dict[str, list[Any]]:
    """In-place differences: subnets, security groups, ip address type."""
    diff: dict[str, list[Any]] = {}
    observed_subnets = sorted(z["SubnetId"] for z in observed.get("AvailabilityZones", []))
    if observed_subnets != sorted(desired_subnets):
        diff["subnets"] = [observed_subnets, sorted(desired_subnets)]
    observed_groups = sorted(observed.get("SecurityGroups", []))
    if observed_groups != sorted(desired_groups):
        diff["security_groups"] = [observed_groups, sorted(desired_groups)]
    if observed.get("IpAddressType", "ipv4") != desired_ip_type:
        diff["ip_address_type"] = [observed.get("IpAddressType"), desired_ip_type]
    return diff


def listener_diff(
    *,
    desired_protocol: str,
    desired_target_group: str,
    desired_certificates: Sequence[str],
    desired_policy: str | None,
    observed: Mapping[str, Any],
    observed_certificates: Sequence[str],
) -> dict[str, list[Any]]:
    """What differs on one listener; certificates compare as (default, set of SNI)."""
    diff: dict[str, list[Any]] = {}
    if observed.get("Protocol") != desired_protocol:
        diff["protocol"] = [observed.get("Protocol"), desired_protocol]
    forwards = [
        a.get("TargetGroupArn")
        for a in observed.get("DefaultActions", [])
        if a.get("Type") == "forward"
    ]
    if forwards != [desired_target_group]:
        diff["target_group"] = [forwards[0] if forwards else None, desired_target_group]
    if desired_protocol == "TLS":
        if observed.get("SslPolicy") != desired_policy:
            diff["ssl_policy"] = [observed.get("SslPolicy"), desired_policy]
        default = [c["CertificateArn"] for c in observed.get("Certificates", [])][:1]
        if default != list(desired_certificates[:1]):
            diff["certificate"] = [default[0] if default else None, desired_certificates[0]]
        have_sni = sorted(set(observed_certificates) - set(default))
        want_sni = sorted(set(desired_certificates[1:]))
        if have_sni != want_sni:
            diff["sni_certificates"] = [have_sni, want_sni]
    return diff


def user_tag_diff(
    desired: Mapping[str, str], observed_tags: Iterable[Mapping[str, Any]] | Mapping[str, str]
) -> dict[str, Any]:
    """User tags to add or change and to remove; `provisioner.io/` marks are never touched."""
    have = dict(observed_tags) if isinstance(observed_tags, Mapping) else tag_dict(observed_tags)
    have = {k: v for k, v in have.items() if not k.startswith("provisioner.io/")}
    set_tags = {k: v for k, v in sorted(desired.items()) if have.get(k) != v}
    remove = sorted(k for k in have if k not in desired and not k.startswith("aws:"))
    out: dict[str, Any] = {}
    if set_tags:
        out["set"] = set_tags
    if remove:
        out["remove"] = remove
    return out
