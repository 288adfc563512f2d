"""The shared per-zone instance groups, as every key's plan sees them.

A VM can be in only one load-balanced unmanaged instance group, so every Service and
Ingress of the cluster uses the same group per zone, owned by `Shared/gcp/instance-group:
<zone>`. Whichever key is planned first creates a missing group; every plan brings the
members in line with the nodes. Application Load Balancers also need named ports (the
backend service names the port, the group maps the name to the node port): a plan adds the
ones it needs, keeping every other, in one `setNamedPorts` carrying the fingerprint read
while planning, so two keys racing get a `Conflict` and plan again. Named ports are never
removed (another key may use them; an unused one costs nothing).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from providers.base import Action, Change
from providers.gcp import marks as m
from providers.gcp.changes import change
from providers.gcp.desired import GroupSpec, group_path
from providers.gcp.match import membership_diff
from providers.gcp.network import path_of, zone_of_link

Resource = dict[str, Any]


def observed_group(groups: Sequence[Resource], zone: str) -> Resource | None:
    found = sorted(
        (g for g in groups if zone_of_link(str(g.get("zone", ""))) == zone),
        key=lambda g: str(g.get("name")),
    )
    return found[0] if found else None


def _missing_ports(group: Resource, wanted: Mapping[str, int]) -> list[dict[str, Any]]:
    have = {(str(p.get("name")), int(p.get("port", 0))) for p in group.get("namedPorts") or []}
    return [{"name": n, "port": p} for n, p in sorted(wanted.items()) if (n, p) not in have]


def plan_groups(
    specs: Sequence[GroupSpec],
    *,
    observed: Sequence[Resource],
    members: Mapping[str, frozenset[str]],
    marks: m.Marks,
    project: str,
    network: str,
    named_ports: Mapping[str, int] | None = None,
) -> tuple[dict[str, str], list[Change]]:
    """(zone -> group path, changes owned by the groups' shared keys)."""
    wanted_ports = dict(named_ports or {})
    paths: dict[str, str] = {}
    out: list[Change] = []
    for group in specs:
        scope = {"zone": group.zone}
        current = observed_group(observed, group.zone)
        if current is None:
            paths[group.zone] = group_path(project, group)
            body: dict[str, Any] = {
                "name": group.name,
                "network": network,
                "description": marks.description(group.key, m.INSTANCE_GROUP),
            }
            if wanted_ports:
                body["namedPorts"] = [
                    {"name": n, "port": p} for n, p in sorted(wanted_ports.items())
                ]
            out.append(
                change(
                    Action.CREATE,
                    "instance-group",
                    f"{group.zone}/{group.name}",
                    group.key,
                    reason=f"nodes in {group.zone} need a load-balanced instance group",
                    diff={"add": sorted(i.rsplit("/", 1)[-1] for i in group.instances)},
                    params={
                        **scope,
                        "name": group.name,
                        "body": body,
                        "add": sorted(group.instances),
                    },
                )
            )
            continue
        path = path_of(str(current["selfLink"]))
        paths[group.zone] = path
        add, remove = membership_diff(group.instances, members.get(path, frozenset()))
        missing = _missing_ports(current, wanted_ports)
        if not (add or remove or missing):
            continue
        params: dict[str, Any] = {
            **scope,
            "name": str(current["name"]),
            "add": add,
            "remove": remove,
        }
        diff: dict[str, Any] = {}
        if add or remove:
            diff["add"] = [i.rsplit("/", 1)[-1] for i in add]
            diff["remove"] = [i.rsplit("/", 1)[-1] for i in remove]
        if missing:
            params["named_ports"] = [*(current.get("namedPorts") or []), *missing]
            params["fingerprint"] = current.get("fingerprint", "")
            diff["namedPorts"] = {"add": [f"{p['name']}:{p['port']}" for p in missing]}
        out.append(
            change(
                Action.UPDATE,
                "instance-group",
                f"{group.zone}/{current['name']}",
                group.key,
                reason="nodes differ" if add or remove else "named ports missing",
                diff=diff,
                params=params,
            )
        )
    return paths, out
