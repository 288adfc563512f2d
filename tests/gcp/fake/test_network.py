"""Geography, networks, subnetworks, instances, addresses, firewalls; names; projects."""

from __future__ import annotations

import pytest
from google.api_core import exceptions
from google.cloud import compute_v1

from providers.gcp.fake import FakeCompute
from providers.gcp.seed import SeededCluster, SeedNode, seed_cluster
from tests.gcp.fake.builders import PROJECT, REGION, ZONE, Clients, wait


def test_zones_and_regions_are_a_fixed_plausible_set(clients: Clients) -> None:
    zones = [z.name for z in clients.ZonesClient.list(project=PROJECT)]
    assert {"us-central1-a", "us-central1-f", "europe-west1-d", "us-east1-b"} <= set(zones)
    region = clients.RegionsClient.get(project="any-project", region="us-central1")
    assert region.kind == "compute#region"
    assert [z.rsplit("/", 1)[-1] for z in region.zones] == [f"us-central1-{z}" for z in "abcf"]
    zone = clients.ZonesClient.get(project=PROJECT, zone="europe-west1-c")
    assert zone.region.endswith("/regions/europe-west1")
    with pytest.raises(exceptions.NotFound):
        clients.ZonesClient.get(project=PROJECT, zone="mars-north1-a")


def test_seeded_cluster_has_network_subnetwork_and_instances(
    clients: Clients, cluster: SeededCluster
) -> None:
    network = clients.NetworksClient.get(project=PROJECT, network="cluster-network")
    assert network.kind == "compute#network"
    assert network.auto_create_subnetworks is False
    assert list(network.subnetworks) == [cluster.subnetworks[REGION]]
    subnet = clients.SubnetworksClient.get(
        project=PROJECT, region=REGION, subnetwork="cluster-network-us-central1"
    )
    assert subnet.gateway_address == "10.0.0.1"
    assert subnet.network == network.self_link
    names = sorted(i.name for i in cluster.instances)
    assert names == ["node-1", "node-2", "node-3"]
    node = clients.InstancesClient.get(project=PROJECT, zone=ZONE, instance="node-1")
    assert node.status == "RUNNING"
    assert node.network_interfaces[0].network_i_p.startswith("10.0.")
    assert list(node.tags.items) == ["cluster-node"]
    assert node.id > 0
    assert node.creation_timestamp[:4].isdigit() and "T" in node.creation_timestamp
    assert cluster.instances[2].provider_id == f"gce://{PROJECT}/{REGION}-b/node-3"
    assert SeedNode.from_provider_id("gce://p/us-east1-b/n") == SeedNode("n", "us-east1-b")


def test_auto_mode_network_gets_a_subnetwork_per_region(clients: Clients) -> None:
    wait(
        clients.NetworksClient.insert(
            project=PROJECT,
            network_resource=compute_v1.Network(name="auto", auto_create_subnetworks=True),
        )
    )
    subnet = clients.SubnetworksClient.get(
        project=PROJECT, region="europe-west1", subnetwork="auto"
    )
    assert subnet.ip_cidr_range == "10.132.0.0/20"
    wait(clients.NetworksClient.delete(project=PROJECT, network="auto"))
    with pytest.raises(exceptions.NotFound):
        clients.SubnetworksClient.get(project=PROJECT, region="europe-west1", subnetwork="auto")


def test_network_in_use_by_subnetwork_cannot_be_deleted(
    clients: Clients, cluster: SeededCluster
) -> None:
    with pytest.raises(exceptions.BadRequest, match="subnetworks/cluster-network-us-central1"):
        clients.NetworksClient.delete(project=PROJECT, network="cluster-network")


def test_overlapping_subnetwork_is_refused(clients: Clients, cluster: SeededCluster) -> None:
    body = compute_v1.Subnetwork(name="other", network=cluster.network, ip_cidr_range="10.0.8.0/24")
    with pytest.raises(exceptions.BadRequest, match="ipCidrRange"):
        clients.SubnetworksClient.insert(project=PROJECT, region=REGION, subnetwork_resource=body)


@pytest.mark.parametrize(
    "name", ["", "Upper", "1starts-with-digit", "ends-with-dash-", "under_score", "a" * 64]
)
def test_names_are_checked_on_insert(clients: Clients, name: str) -> None:
    with pytest.raises(exceptions.BadRequest, match=r"resource.name"):
        clients.NetworksClient.insert(
            project=PROJECT, network_resource=compute_v1.Network(name=name)
        )


def test_longest_valid_name_is_accepted(clients: Clients) -> None:
    name = "a" + "-b" * 31
    assert len(name) == 63
    wait(
        clients.HealthChecksClient.insert(
            project=PROJECT, health_check_resource=(compute_v1.HealthCheck(name=name, type_="TCP"))
        )
    )


def test_duplicate_insert_is_already_exists(clients: Clients, cluster: SeededCluster) -> None:
    with pytest.raises(exceptions.Conflict, match="networks/cluster-network' already exists"):
        clients.NetworksClient.insert(
            project=PROJECT,
            network_resource=compute_v1.Network(
                name="cluster-network", auto_create_subnetworks=False
            ),
        )


def test_missing_resource_is_not_found(clients: Clients) -> None:
    with pytest.raises(exceptions.NotFound, match="instances/ghost"):
        clients.InstancesClient.get(project=PROJECT, zone=ZONE, instance="ghost")


def test_projects_are_separate_and_reset_forgets_them(
    fake: FakeCompute, clients: Clients, cluster: SeededCluster
) -> None:
    assert list(clients.NetworksClient.list(project="another")) == []
    assert len(list(clients.NetworksClient.list(project=PROJECT))) == 1
    fake.reset()
    assert list(clients.NetworksClient.list(project=PROJECT)) == []


def test_addresses_regional_and_global(clients: Clients, cluster: SeededCluster) -> None:
    wait(
        clients.AddressesClient.insert(
            project=PROJECT, region=REGION, address_resource=compute_v1.Address(name="ext")
        )
    )
    wait(
        clients.AddressesClient.insert(
            project=PROJECT,
            region=REGION,
            address_resource=(
                compute_v1.Address(
                    name="int",
                    address_type="INTERNAL",
                    subnetwork=cluster.subnetworks[REGION],
                    address="10.0.0.50",
                )
            ),
        )
    )
    wait(
        clients.GlobalAddressesClient.insert(
            project=PROJECT, address_resource=(compute_v1.Address(name="glob"))
        )
    )
    ext = clients.AddressesClient.get(project=PROJECT, region=REGION, address="ext")
    assert ext.status == "RESERVED" and ext.address_type == "EXTERNAL" and ext.address
    internal = clients.AddressesClient.get(project=PROJECT, region=REGION, address="int")
    assert internal.address == "10.0.0.50"
    glob = clients.GlobalAddressesClient.get(project=PROJECT, address="glob")
    assert glob.address != ext.address
    assert glob.self_link.endswith(f"projects/{PROJECT}/global/addresses/glob")
    with pytest.raises(exceptions.BadRequest, match=r"resource.address"):
        clients.AddressesClient.insert(
            project=PROJECT,
            region=REGION,
            address_resource=(
                compute_v1.Address(
                    name="clash",
                    address_type="INTERNAL",
                    subnetwork=cluster.subnetworks[REGION],
                    address="10.0.0.50",
                )
            ),
        )


def test_firewall_insert_patch_update_and_checks(clients: Clients, cluster: SeededCluster) -> None:
    client = clients.FirewallsClient
    body = compute_v1.Firewall(
        name="allow-lb",
        network=cluster.network,
        source_ranges=["35.191.0.0/16"],
        target_tags=["cluster-node"],
        allowed=[compute_v1.Allowed(I_p_protocol="tcp", ports=["80", "30000-32767"])],
    )
    wait(client.insert(project=PROJECT, firewall_resource=body))
    got = client.get(project=PROJECT, firewall="allow-lb")
    assert got.direction == "INGRESS" and got.priority == 1000
    wait(
        client.patch(
            project=PROJECT,
            firewall="allow-lb",
            firewall_resource=compute_v1.Firewall(source_ranges=["10.0.0.0/8"]),
        )
    )
    assert list(client.get(project=PROJECT, firewall="allow-lb").source_ranges) == ["10.0.0.0/8"]
    body.priority = 900
    wait(client.update(project=PROJECT, firewall="allow-lb", firewall_resource=body))
    assert client.get(project=PROJECT, firewall="allow-lb").priority == 900
    bad = compute_v1.Firewall(
        name="bad",
        network=cluster.network,
        allowed=[compute_v1.Allowed(I_p_protocol="tcp", ports=["0-99999"])],
    )
    with pytest.raises(exceptions.BadRequest, match=r"resource.allowed\[0\].ports"):
        client.insert(project=PROJECT, firewall_resource=bad)
    with pytest.raises(exceptions.NotFound, match="networks/nowhere"):
        client.insert(
            project=PROJECT,
            firewall_resource=compute_v1.Firewall(
                name="lost",
                network="global/networks/nowhere",
                allowed=[compute_v1.Allowed(I_p_protocol="udp")],
            ),
        )
    wait(client.delete(project=PROJECT, firewall="allow-lb"))


def test_firewall_targets_tags_or_service_accounts_not_both(
    clients: Clients, cluster: SeededCluster
) -> None:
    client = clients.FirewallsClient
    both = compute_v1.Firewall(
        name="both",
        network=cluster.network,
        target_tags=["cluster-node"],
        target_service_accounts=["nodes@p.iam.gserviceaccount.com"],
        allowed=[compute_v1.Allowed(I_p_protocol="tcp", ports=["80"])],
    )
    with pytest.raises(exceptions.BadRequest, match=r"resource\.targetServiceAccounts"):
        client.insert(project=PROJECT, firewall_resource=both)
    both.target_tags = []
    wait(client.insert(project=PROJECT, firewall_resource=both))
    got = client.get(project=PROJECT, firewall="both")
    assert list(got.target_service_accounts) == ["nodes@p.iam.gserviceaccount.com"]
    assert list(got.target_tags) == []


def test_instances_keep_tags_and_service_accounts(fake: FakeCompute, clients: Clients) -> None:
    fake.reset()
    seed_cluster(
        fake.url,
        project=PROJECT,
        nodes=[SeedNode("tagged", ZONE, tags=("a", "b")), SeedNode("bare", ZONE, tags=())],
        service_account="nodes@p.iam.gserviceaccount.com",
    )
    tagged = clients.InstancesClient.get(project=PROJECT, zone=ZONE, instance="tagged")
    assert list(tagged.tags.items) == ["a", "b"] and tagged.tags.fingerprint
    assert [a.email for a in tagged.service_accounts] == ["nodes@p.iam.gserviceaccount.com"]
    bare = clients.InstancesClient.get(project=PROJECT, zone=ZONE, instance="bare")
    assert list(bare.tags.items) == []


def test_instance_labels_and_unknown_zone(clients: Clients, cluster: SeededCluster) -> None:
    node = clients.InstancesClient.get(project=PROJECT, zone=ZONE, instance="node-1")
    wait(
        clients.InstancesClient.set_labels(
            project=PROJECT,
            zone=ZONE,
            instance="node-1",
            instances_set_labels_request_resource=compute_v1.InstancesSetLabelsRequest(
                labels={"role": "node"}, label_fingerprint=node.label_fingerprint
            ),
        )
    )
    assert clients.InstancesClient.get(project=PROJECT, zone=ZONE, instance="node-1").labels == {
        "role": "node"
    }
    with pytest.raises(exceptions.BadRequest, match="zone"):
        clients.InstancesClient.list(project=PROJECT, zone="us-central1-z").pages.__next__()
