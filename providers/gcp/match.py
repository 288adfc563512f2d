"""Pure comparisons of desired GCP resources with what Compute returned.

Nothing here calls GCP, so every rule that decides "create, update, replace or leave alone"
is tested by table without a cloud. Observed values are the REST shapes (camelCase dicts);
desired values come from `providers.gcp.desired`. A diff maps a field to `[observed, desired]`.
Links are compared by path, so a full URL the API returns equals the partial path we sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from providers.gcp.desired import MAX_PORTS_PER_RULE, port_chunks
from providers.gcp.network import path_of

HEALTH_FIELDS = ("type", "checkIntervalSec", "timeoutSec", "healthyThreshold", "unhealthyThreshold")
PROBE_FIELDS = ("httpHealthCheck", "httpsHealthCheck", "tcpHealthCheck")
PROBE_KEYS = ("port", "requestPath")
FIREWALL_TARGETS = ("targetTags", "targetServiceAccounts")
"""The fields that scope a firewall rule to some VMs; absent, it applies to all."""


def _probe(body: Mapping[str, Any], name: str) -> dict[str, Any] | None:
    value = body.get(name)
    if not value:
        return None
    return {k: value[k] for k in PROBE_KEYS if k in value}


def health_check_diff(
    desired: Mapping[str, Any], observed: Mapping[str, Any]
) -> dict[str, list[Any]]:
    diff: dict[str, list[Any]] = {}
    for name in HEALTH_FIELDS:
        if observed.get(name) != desired.get(name):
            shown = "protocol" if name == "type" else name  # `type` is the change's own key
            diff[shown] = [observed.get(name), desired.get(name)]
    kind = {"HTTP": "httpHealthCheck", "HTTPS": "httpsHealthCheck", "TCP": "tcpHealthCheck"}
    wanted = kind.get(str(desired.get("type")), "")
    have, want = _probe(observed, wanted), _probe(desired, wanted)
    if have != want:
        diff[wanted] = [have, want]
    return diff


def _groups(backends: Iterable[Mapping[str, Any]]) -> list[str]:
    return sorted(path_of(str(b.get("group", ""))) for b in backends)


def backend_service_replacement(
    desired: Mapping[str, Any], observed: Mapping[str, Any]
) -> list[str]:
    """Why the observed backend service cannot become the desired one in place."""
    reasons = []
    for name in ("loadBalancingScheme", "protocol"):
        if observed.get(name) != desired.get(name):
            reasons.append(f"{name} {observed.get(name)} -> {desired.get(name)}")
    if "network" in desired and path_of(str(observed.get("network", ""))) != desired["network"]:
        reasons.append(f"network {observed.get('network')} -> {desired['network']}")
    return reasons


def backend_service_diff(
    desired: Mapping[str, Any], observed: Mapping[str, Any]
) -> dict[str, list[Any]]:
    """In-place differences: instance groups, health checks, session affinity."""
    diff: dict[str, list[Any]] = {}
    have, want = _groups(observed.get("backends") or []), _groups(desired["backends"])
    if have != want:
        diff["backends"] = [have, want]
    modes = sorted({str(b.get("balancingMode", "")) for b in observed.get("backends") or []})
    if have == want and modes and modes != ["CONNECTION"]:
        diff["balancingMode"] = [modes, ["CONNECTION"]]
    checks = sorted(path_of(str(c)) for c in observed.get("healthChecks") or [])
    if checks != sorted(desired["healthChecks"]):
        diff["healthChecks"] = [checks, sorted(desired["healthChecks"])]
    affinity = observed.get("sessionAffinity", "NONE")
    if affinity != desired.get("sessionAffinity", "NONE"):
        diff["sessionAffinity"] = [affinity, desired.get("sessionAffinity")]
    return diff


def _allowed(items: Iterable[Mapping[str, Any]]) -> list[tuple[str, tuple[str, ...]]]:
    return sorted(
        (str(a.get("IPProtocol", "")).lower(), tuple(sorted(str(p) for p in a.get("ports") or [])))
        for a in items
    )


def firewall_diff(desired: Mapping[str, Any], observed: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Fields a firewall update changes: sources, destinations, targets, allowed ports,
    priority."""
    diff: dict[str, list[Any]] = {}
    for name in ("sourceRanges", "destinationRanges", *FIREWALL_TARGETS):
        have = sorted(observed.get(name) or [])
        want = sorted(desired.get(name) or [])
        if have != want:
            diff[name] = [have, want]
    have_allowed, want_allowed = (
        _allowed(observed.get("allowed") or []),
        _allowed(desired["allowed"]),
    )
    if have_allowed != want_allowed:
        diff["allowed"] = [
            [f"{p}:{','.join(ps)}" for p, ps in have_allowed],
            [f"{p}:{','.join(ps)}" for p, ps in want_allowed],
        ]
    if observed.get("priority", 1000) != desired.get("priority", 1000):
        diff["priority"] = [observed.get("priority"), desired.get("priority")]
    if observed.get("disabled"):
        diff["disabled"] = [True, False]
    return diff


def firewall_replacement(desired: Mapping[str, Any], observed: Mapping[str, Any]) -> list[str]:
    reasons = []
    if path_of(str(observed.get("network", ""))) != desired["network"]:
        reasons.append(f"network {observed.get('network')} -> {desired['network']}")
    if observed.get("direction", "INGRESS") != desired.get("direction", "INGRESS"):
        reasons.append("direction cannot change")
    return reasons


def address_replacement(desired: Mapping[str, Any], observed: Mapping[str, Any]) -> list[str]:
    reasons = []
    if observed.get("addressType", "EXTERNAL") != desired["addressType"]:
        reasons.append(f"addressType {observed.get('addressType')} -> {desired['addressType']}")
    want_subnet = desired.get("subnetwork")
    have_subnet = path_of(str(observed["subnetwork"])) if observed.get("subnetwork") else None
    if want_subnet != have_subnet:
        reasons.append(f"subnetwork {have_subnet} -> {want_subnet}")
    if desired.get("purpose") and observed.get("purpose") != desired["purpose"]:
        reasons.append(f"purpose {observed.get('purpose')} -> {desired['purpose']}")
    return reasons


def label_diff(desired: Mapping[str, str], observed: Mapping[str, str] | None) -> dict[str, Any]:
    """Labels to set and to remove; the whole map is written in one setLabels call."""
    have = dict(observed or {})
    out: dict[str, Any] = {}
    changed = {k: v for k, v in sorted(desired.items()) if have.get(k) != v}
    removed = sorted(k for k in have if k not in desired)
    if changed:
        out["set"] = changed
    if removed:
        out["remove"] = removed
    return out


def membership_diff(desired: Iterable[str], observed: Iterable[str]) -> tuple[list[str], list[str]]:
    """(add, remove) of instance paths, sorted so that plans are stable."""
    want = {path_of(i) for i in desired}
    have = {path_of(i) for i in observed}
    return sorted(want - have), sorted(have - want)


@dataclass(frozen=True)
class RuleWanted:
    """What a forwarding rule of one protocol must look like to be kept."""

    protocol: str
    address: str | None
    """The IP; None while the address is still to be created (nothing can be kept then)."""
    backend_service: str
    scheme: str
    subnetwork: str | None
    network: str | None


@dataclass
class RulePlan:
    keep: list[Mapping[str, Any]] = field(default_factory=list)
    create: list[tuple[str, tuple[int, ...]]] = field(default_factory=list)
    delete: list[tuple[Mapping[str, Any], str]] = field(default_factory=list)


def rule_ports(rule: Mapping[str, Any]) -> tuple[int, ...]:
    return tuple(sorted(int(p) for p in rule.get("ports") or []))


def _unkeepable(rule: Mapping[str, Any], wanted: RuleWanted) -> str | None:
    if wanted.address is None or rule.get("IPAddress") != wanted.address:
        return f"address {rule.get('IPAddress')} -> {wanted.address or 'a new address'}"
    if path_of(str(rule.get("backendService", ""))) != wanted.backend_service:
        return f"backend service {path_of(str(rule.get('backendService', '')))} is replaced"
    if rule.get("loadBalancingScheme") != wanted.scheme:
        return f"loadBalancingScheme {rule.get('loadBalancingScheme')} -> {wanted.scheme}"
    subnet = path_of(str(rule["subnetwork"])) if rule.get("subnetwork") else None
    if wanted.subnetwork is not None and subnet != wanted.subnetwork:
        return f"subnetwork {subnet} -> {wanted.subnetwork}"
    if not rule.get("ports") or len(rule["ports"]) > MAX_PORTS_PER_RULE:
        return "ports are not a list of at most 5"
    return None


def plan_rules(
    desired_ports: Mapping[str, Sequence[int]],
    observed: Sequence[Mapping[str, Any]],
    wanted: Mapping[str, RuleWanted],
) -> RulePlan:
    """Keep every observed rule whose ports are all still wanted, cover the rest anew.

    Ports cannot change in place, so a rule that lost a port is replaced; kept rules are
    never reshuffled, so adding a port touches at most one new rule.
    """
    plan = RulePlan()
    covered: dict[str, set[int]] = {p: set() for p in desired_ports}
    for rule in sorted(observed, key=lambda r: str(r.get("name", ""))):
        protocol = str(rule.get("IPProtocol", ""))
        if protocol not in desired_ports:
            plan.delete.append((rule, f"no {protocol} ports any more"))
            continue
        reason = _unkeepable(rule, wanted[protocol])
        ports = set(rule_ports(rule))
        gone = sorted(ports - set(desired_ports[protocol]))
        if reason is None and gone:
            reason = f"ports {','.join(str(p) for p in gone)} removed"
        if reason is None and ports & covered[protocol]:
            reason = "ports served by another rule"
        if reason is not None:
            plan.delete.append((rule, reason))
            continue
        covered[protocol] |= ports
        plan.keep.append(rule)
    for protocol, wanted_ports in desired_ports.items():
        rest = tuple(sorted(set(wanted_ports) - covered[protocol]))
        plan.create += [(protocol, chunk) for chunk in port_chunks(rest)]
    return plan
