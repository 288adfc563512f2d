"""A small GCP project for tests and the demo, created through the real Compute client.

The provider finds nodes' instances from their providerIDs (``gce://PROJECT/ZONE/NAME``)
and puts them in per-zone instance groups, so a usable project needs what a real cluster
has: a custom-mode network, a subnetwork in each region the nodes use, and one instance
per node, named after it, tagged so firewall rules can target the nodes. `seed_cluster`
builds exactly that against any endpoint (the fake in-process or as a process) and waits
for every operation with the operations clients built from the same options, so it works
whether operations finish at once or stay pending for a few polls.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials, Credentials
from google.cloud import compute_v1

CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"


@dataclass(frozen=True)
class SeedNode:
    name: str
    zone: str
    tags: tuple[str, ...] | None = None
    """The instance's network tags; None: the cluster's `node_tag`."""

    @classmethod
    def from_provider_id(cls, provider_id: str) -> SeedNode:
        """``gce://PROJECT/ZONE/NAME`` -> SeedNode(NAME, ZONE)."""
        scheme, _, rest = provider_id.partition("://")
        parts = rest.split("/")
        if scheme != "gce" or len(parts) != 3 or not all(parts):
            raise ValueError(f"not a GCE providerID: {provider_id!r}")
        return cls(name=parts[2], zone=parts[1])


@dataclass(frozen=True)
class SeededInstance:
    name: str
    zone: str
    self_link: str
    internal_ip: str
    provider_id: str


@dataclass(frozen=True)
class SeededCluster:
    project: str
    network: str
    """selfLink of the network."""
    subnetworks: dict[str, str]
    """Region -> selfLink of its subnetwork."""
    instances: tuple[SeededInstance, ...]
    node_tag: str
    """The network tag every node instance carries."""


def client_kwargs(endpoint: str, credentials: Credentials | None = None) -> dict[str, Any]:
    """What every compute_v1 client needs to talk REST to `endpoint`."""
    return {
        "credentials": credentials or AnonymousCredentials(),  # type: ignore[no-untyped-call]
        "transport": "rest",
        "client_options": ClientOptions(api_endpoint=endpoint),
    }


def wait(operation: compute_v1.Operation, project: str, kwargs: dict[str, Any]) -> None:
    """Poll `operation` with an operations client of the same endpoint until it is DONE."""
    for _ in range(600):
        if operation.status == compute_v1.Operation.Status.DONE:
            break
        if operation.zone:
            zone = operation.zone.rsplit("/", 1)[-1]
            operation = compute_v1.ZoneOperationsClient(**kwargs).wait(
                project=project, zone=zone, operation=operation.name
            )
        elif operation.region:
            region = operation.region.rsplit("/", 1)[-1]
            operation = compute_v1.RegionOperationsClient(**kwargs).wait(
                project=project, region=region, operation=operation.name
            )
        else:
            operation = compute_v1.GlobalOperationsClient(**kwargs).wait(
                project=project, operation=operation.name
            )
    else:
        raise TimeoutError(f"operation {operation.name} did not finish")
    if operation.error and operation.error.errors:
        raise RuntimeError(f"operation {operation.name} failed: {operation.error.errors}")


def region_of(zone: str) -> str:
    return zone.rsplit("-", 1)[0]


def seed_cluster(
    endpoint: str,
    *,
    project: str,
    nodes: Sequence[SeedNode],
    network: str = "cluster-network",
    node_tag: str = "cluster-node",
    machine_type: str = "e2-standard-2",
    service_account: str | None = None,
    credentials: Credentials | None = None,
) -> SeededCluster:
    """A custom-mode network, a /20 subnetwork per region used, one instance per node
    (running as `service_account` when given, as GKE nodes run as their node pool's)."""
    kwargs = client_kwargs(endpoint, credentials)
    networks = compute_v1.NetworksClient(**kwargs)
    subnetworks = compute_v1.SubnetworksClient(**kwargs)
    instances = compute_v1.InstancesClient(**kwargs)
    body = compute_v1.Network(name=network, auto_create_subnetworks=False)
    wait(networks.insert_unary(project=project, network_resource=body), project, kwargs)
    network_link = networks.get(project=project, network=network).self_link
    subnet_links: dict[str, str] = {}
    for index, region in enumerate(sorted({region_of(n.zone) for n in nodes})):
        subnet = compute_v1.Subnetwork(
            name=f"{network}-{region}", network=network_link, ip_cidr_range=f"10.{index}.0.0/20"
        )
        wait(
            subnetworks.insert_unary(project=project, region=region, subnetwork_resource=subnet),
            project,
            kwargs,
        )
        subnet_links[region] = subnetworks.get(
            project=project, region=region, subnetwork=subnet.name
        ).self_link
    created: list[SeededInstance] = []
    accounts = (
        [compute_v1.ServiceAccount(email=service_account, scopes=[CLOUD_PLATFORM])]
        if service_account
        else []
    )
    for node in nodes:
        instance = compute_v1.Instance(
            name=node.name,
            machine_type=f"zones/{node.zone}/machineTypes/{machine_type}",
            network_interfaces=[
                compute_v1.NetworkInterface(subnetwork=subnet_links[region_of(node.zone)])
            ],
            disks=[
                compute_v1.AttachedDisk(
                    boot=True,
                    auto_delete=True,
                    initialize_params=compute_v1.AttachedDiskInitializeParams(
                        source_image="projects/debian-cloud/global/images/family/debian-12"
                    ),
                )
            ],
            tags=compute_v1.Tags(items=list(node.tags if node.tags is not None else [node_tag])),
            service_accounts=accounts,
        )
        wait(
            instances.insert_unary(project=project, zone=node.zone, instance_resource=instance),
            project,
            kwargs,
        )
        seen = instances.get(project=project, zone=node.zone, instance=node.name)
        created.append(
            SeededInstance(
                name=node.name,
                zone=node.zone,
                self_link=seen.self_link,
                internal_ip=seen.network_interfaces[0].network_i_p,
                provider_id=f"gce://{project}/{node.zone}/{node.name}",
            )
        )
    return SeededCluster(
        project=project,
        network=network_link,
        subnetworks=subnet_links,
        instances=tuple(created),
        node_tag=node_tag,
    )
