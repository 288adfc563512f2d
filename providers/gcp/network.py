"""Where the load balancer lives: project, region, network, subnetwork, and the node VMs.

Compute resources refer to each other by URL, given as full URLs (`https://.../compute/v1/
projects/...`) or partial paths (`projects/p/zones/z/instances/n`). We write partial paths and
compare by path, so a link the API returns in full form equals the one we sent.

Nodes are VMs named by their providerID, `gce://<project>/<zone>/<instance>`. The network
and the default subnetwork (for internal load balancers) come from the first node's
interface unless `--network` or a subnet annotation says otherwise; the same read (one
aggregated list of the node instances) tells which VMs a firewall rule for the nodes can
target (`NodeTarget`). Both are cached per set of nodes, because they rarely change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from providers.base import InvalidSpec
from providers.gcp.client import Compute
from provisioner.model import Node

PROBE_RANGES = ("35.191.0.0/16", "209.85.152.0/22", "209.85.204.0/22")
"""Where Google's health checks for passthrough load balancers come from."""
NAMES_PER_READ = 100
"""Node names per instances read: the filter travels in the URL, which must stay short."""


def path_of(link: str) -> str:
    """`projects/...` from a full URL or a partial path; other text is returned as is."""
    index = link.find("projects/")
    return link[index:] if index >= 0 else link


def name_of(link: str) -> str:
    return link.rstrip("/").rsplit("/", 1)[-1]


def zone_of_link(link: str) -> str:
    parts = path_of(link).split("/")
    return parts[3] if len(parts) > 3 and parts[2] == "zones" else ""


def global_path(project: str, collection: str, name: str) -> str:
    return f"projects/{project}/global/{collection}/{name}"


def regional_path(project: str, region: str, collection: str, name: str) -> str:
    return f"projects/{project}/regions/{region}/{collection}/{name}"


def zonal_path(project: str, zone: str, collection: str, name: str) -> str:
    return f"projects/{project}/zones/{zone}/{collection}/{name}"


def network_path(project: str, value: str) -> str:
    """A network given as a name, a partial path or a URL."""
    return path_of(value) if "/" in value else global_path(project, "networks", value)


def subnetwork_path(project: str, region: str, value: str) -> str:
    if "/" in value:
        path = path_of(value)
        parts = path.split("/")
        if len(parts) != 6 or parts[2] != "regions" or parts[4] != "subnetworks":
            raise InvalidSpec(
                f"subnets: {value!r} is not a subnetwork; accepted: a subnetwork name or "
                "projects/<p>/regions/<r>/subnetworks/<name>",
                field="subnets",
                value=value,
            )
        if parts[3] != region:
            raise InvalidSpec(
                f"subnets: subnetwork {value!r} is in region {parts[3]}, not {region}; "
                "accepted: a subnetwork of the cluster's region",
                field="subnets",
                value=value,
            )
        return path
    return regional_path(project, region, "subnetworks", value)


@dataclass(frozen=True)
class NodeVm:
    """A node as Compute knows it."""

    name: str
    zone: str
    path: str


def node_vm(node: Node, *, project: str, region: str) -> NodeVm:
    """Check a node's providerID and turn it into the VM it names."""
    raw = node.provider_id
    parts = raw.removeprefix("gce://").split("/")
    if not raw.startswith("gce://") or len(parts) != 3 or not all(parts):
        raise InvalidSpec(
            f"nodes: node {node.name} has providerID {raw!r}; accepted on gcp: "
            "gce://<project>/<zone>/<instance>",
            field="nodes",
            value=raw,
        )
    owner, zone, name = parts
    if owner != project:
        raise InvalidSpec(
            f"nodes: node {node.name} is in project {owner}, not {project} (--project)",
            field="nodes",
            value=raw,
        )
    if not zone.startswith(region + "-"):
        raise InvalidSpec(
            f"nodes: node {node.name} is in zone {zone}, outside region {region} (--region); "
            "a regional load balancer can only reach nodes of its region",
            field="nodes",
            value=raw,
        )
    return NodeVm(name=name, zone=zone, path=zonal_path(project, zone, "instances", name))


@dataclass(frozen=True)
class NodeTarget:
    """Which VMs a firewall rule meant for the nodes applies to.

    The network tags every node carries (GKE gives each cluster's nodes one), else the one
    service account they all run as, else nothing: the rule then applies to every VM of the
    network, and `untargeted` says why, for the plan and the docs.
    """

    tags: tuple[str, ...] = ()
    service_accounts: tuple[str, ...] = ()
    untargeted: str = ""

    def fields(self) -> dict[str, list[str]]:
        """The firewall fields that scope the rule (none when untargeted)."""
        if self.tags:
            return {"targetTags": list(self.tags)}
        if self.service_accounts:
            return {"targetServiceAccounts": list(self.service_accounts)}
        return {}


def node_target(instances: Sequence[Mapping[str, Any]], missing: Sequence[str]) -> NodeTarget:
    """Tags all node instances share (sorted), else their common service account."""
    if missing or not instances:
        gone = ", ".join(sorted(missing)) or "no node instances"
        return NodeTarget(untargeted=f"node instances not found: {gone}")
    shared = set.intersection(*({str(t) for t in _tags(i)} for i in instances))
    if shared:
        return NodeTarget(tags=tuple(sorted(shared)))
    accounts = {
        tuple(sorted({str(a.get("email", "")) for a in i.get("serviceAccounts") or []}))
        for i in instances
    }
    if len(accounts) == 1 and len(next(iter(accounts))) == 1 and next(iter(accounts))[0]:
        return NodeTarget(service_accounts=next(iter(accounts)))
    return NodeTarget(untargeted="the nodes share no network tag and no single service account")


def _tags(instance: Mapping[str, Any]) -> list[Any]:
    return list((instance.get("tags") or {}).get("items") or [])


@dataclass(frozen=True)
class Network:
    """The network and the default subnetwork of the cluster's nodes."""

    network: str
    subnetwork: str | None
    target: NodeTarget = field(default_factory=lambda: NodeTarget(untargeted="no nodes"))


def read_instances(compute: Compute, vms: Sequence[NodeVm]) -> dict[str, dict[str, Any]]:
    """Instance path -> instance, for the nodes: one aggregated list per hundred names."""
    names = sorted({vm.name for vm in vms})
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(names), NAMES_PER_READ):
        pattern = "|".join(names[start : start + NAMES_PER_READ])
        for item in compute.aggregated(
            "instances", "instances", project=compute.project, filter=f'name eq "({pattern})"'
        ):
            found[path_of(str(item.get("selfLink", "")))] = item
    return found


def discover(compute: Compute, vms: Sequence[NodeVm], *, network: str | None) -> Network:
    """Read the node instances (one call for up to a hundred nodes): the first one's
    interface for what the flags leave open, and all of them for the firewall target."""
    if not vms:
        if network is None:
            raise InvalidSpec(
                "nodes: no eligible nodes, so the network cannot be found; pass --network",
                field="nodes",
            )
        return Network(network=network_path(compute.project, network), subnetwork=None)
    first = vms[0]
    instances = read_instances(compute, vms)
    found = instances.get(first.path)
    if found is None:
        raise InvalidSpec(
            f"nodes: instance {first.name} in zone {first.zone} does not exist in project "
            f"{compute.project}",
            field="nodes",
            value=first.path,
        )
    interfaces = found.get("networkInterfaces") or [{}]
    nic = interfaces[0]
    chosen = network_path(compute.project, network) if network else path_of(nic.get("network", ""))
    subnet = nic.get("subnetwork")
    same = subnet and path_of(nic.get("network", "")) == chosen
    target = node_target(
        [instances[vm.path] for vm in vms if vm.path in instances],
        [vm.name for vm in vms if vm.path not in instances],
    )
    return Network(
        network=chosen, subnetwork=path_of(subnet) if same and subnet else None, target=target
    )
