"""Health checks, backend services and instance groups, and their refusals."""

from __future__ import annotations

import pytest
from google.api_core import exceptions
from google.cloud import compute_v1

from providers.gcp.fake import FakeCompute
from providers.gcp.seed import SeededCluster
from tests.gcp.fake.builders import (
    PROJECT,
    REGION,
    ZONE,
    Clients,
    global_check,
    global_service,
    group,
    regional_check,
    regional_service,
    wait,
)


def test_health_checks_defaults_patch_update(clients: Clients) -> None:
    link = regional_check(clients)
    client = clients.RegionHealthChecksClient
    got = client.get(project=PROJECT, region=REGION, health_check="hc")
    assert got.self_link == link and got.kind == "compute#healthCheck"
    assert (got.check_interval_sec, got.timeout_sec, got.healthy_threshold) == (5, 5, 2)
    assert got.http_health_check.request_path == "/healthz"
    wait(
        client.patch(
            project=PROJECT,
            region=REGION,
            health_check="hc",
            health_check_resource=compute_v1.HealthCheck(check_interval_sec=10),
        )
    )
    assert client.get(project=PROJECT, region=REGION, health_check="hc").check_interval_sec == 10
    global_check(clients)
    body = compute_v1.HealthCheck(
        name="ghc", type_="HTTP", http_health_check=compute_v1.HTTPHealthCheck(port=8080)
    )
    wait(
        clients.HealthChecksClient.update(
            project=PROJECT, health_check="ghc", health_check_resource=body
        )
    )
    assert clients.HealthChecksClient.get(project=PROJECT, health_check="ghc").type_ == "HTTP"
    with pytest.raises(exceptions.BadRequest, match=r"resource.timeoutSec"):
        clients.HealthChecksClient.insert(
            project=PROJECT,
            health_check_resource=(
                compute_v1.HealthCheck(
                    name="slow", type_="TCP", timeout_sec=9, check_interval_sec=5
                )
            ),
        )
    with pytest.raises(exceptions.BadRequest, match=r"resource.type"):
        clients.HealthChecksClient.insert(
            project=PROJECT, health_check_resource=(compute_v1.HealthCheck(name="untyped"))
        )


def test_instance_group_membership_and_named_ports(
    clients: Clients, cluster: SeededCluster
) -> None:
    link = group(clients, "ig", ZONE, "node-1")
    client = clients.InstanceGroupsClient
    got = client.get(project=PROJECT, zone=ZONE, instance_group="ig")
    assert got.size == 1 and got.self_link == link and got.network == cluster.network
    add = compute_v1.InstanceGroupsAddInstancesRequest(
        instances=[compute_v1.InstanceReference(instance=cluster.instances[1].self_link)]
    )
    wait(
        client.add_instances(
            project=PROJECT,
            zone=ZONE,
            instance_group="ig",
            instance_groups_add_instances_request_resource=add,
        )
    )
    listed = client.list_instances(
        project=PROJECT,
        zone=ZONE,
        instance_group="ig",
        instance_groups_list_instances_request_resource=(
            compute_v1.InstanceGroupsListInstancesRequest(instance_state="ALL")
        ),
    )
    assert [i.instance.rsplit("/", 1)[-1] for i in listed] == ["node-1", "node-2"]
    with pytest.raises(exceptions.BadRequest, match="already a member"):
        client.add_instances(
            project=PROJECT,
            zone=ZONE,
            instance_group="ig",
            instance_groups_add_instances_request_resource=add,
        )
    remove = compute_v1.InstanceGroupsRemoveInstancesRequest(
        instances=[compute_v1.InstanceReference(instance="zones/us-central1-a/instances/node-1")]
    )
    wait(
        client.remove_instances(
            project=PROJECT,
            zone=ZONE,
            instance_group="ig",
            instance_groups_remove_instances_request_resource=remove,
        )
    )
    assert client.get(project=PROJECT, zone=ZONE, instance_group="ig").size == 1
    stale = got.fingerprint
    ports = compute_v1.InstanceGroupsSetNamedPortsRequest(
        named_ports=[compute_v1.NamedPort(name="http", port=31000)], fingerprint=stale
    )
    wait(
        client.set_named_ports(
            project=PROJECT,
            zone=ZONE,
            instance_group="ig",
            instance_groups_set_named_ports_request_resource=ports,
        )
    )
    changed = client.get(project=PROJECT, zone=ZONE, instance_group="ig")
    assert changed.named_ports[0].port == 31000 and changed.fingerprint != stale
    with pytest.raises(exceptions.PreconditionFailed, match="fingerprint"):
        client.set_named_ports(
            project=PROJECT,
            zone=ZONE,
            instance_group="ig",
            instance_groups_set_named_ports_request_resource=ports,
        )
    ports.fingerprint = ""
    wait(
        client.set_named_ports(
            project=PROJECT,
            zone=ZONE,
            instance_group="ig",
            instance_groups_set_named_ports_request_resource=ports,
        )
    )


def test_adding_an_instance_from_another_zone_or_missing_is_refused(
    clients: Clients, cluster: SeededCluster
) -> None:
    group(clients, "ig", ZONE)
    client = clients.InstanceGroupsClient
    for ref, error, text in [
        ("zones/us-central1-b/instances/node-3", exceptions.BadRequest, "instances[0].instance"),
        ("zones/us-central1-a/instances/ghost", exceptions.NotFound, "instances/ghost"),
    ]:
        request = compute_v1.InstanceGroupsAddInstancesRequest(
            instances=[compute_v1.InstanceReference(instance=ref)]
        )
        with pytest.raises(error, match=text.replace("[", r"\[").replace("]", r"\]")):
            client.add_instances(
                project=PROJECT,
                zone=ZONE,
                instance_group="ig",
                instance_groups_add_instances_request_resource=request,
            )


def test_backend_service_fingerprint_patch_update(clients: Clients, cluster: SeededCluster) -> None:
    ig = group(clients, "ig", ZONE, "node-1", "node-2")
    regional_service(clients, "bs", regional_check(clients), ig)
    client = clients.RegionBackendServicesClient
    got = client.get(project=PROJECT, region=REGION, backend_service="bs")
    assert got.backends[0].balancing_mode == "CONNECTION" and got.protocol == "TCP"
    assert got.fingerprint and got.timeout_sec == 30
    first = got.fingerprint
    wait(
        client.patch(
            project=PROJECT,
            region=REGION,
            backend_service="bs",
            backend_service_resource=compute_v1.BackendService(timeout_sec=60, fingerprint=first),
        )
    )
    second = client.get(project=PROJECT, region=REGION, backend_service="bs")
    assert second.timeout_sec == 60 and second.fingerprint != first
    with pytest.raises(exceptions.PreconditionFailed, match="fingerprint"):
        client.patch(
            project=PROJECT,
            region=REGION,
            backend_service="bs",
            backend_service_resource=compute_v1.BackendService(timeout_sec=90, fingerprint=first),
        )
    second.session_affinity = "CLIENT_IP"
    wait(
        client.update(
            project=PROJECT, region=REGION, backend_service="bs", backend_service_resource=second
        )
    )
    second.fingerprint = ""
    wait(
        client.update(
            project=PROJECT, region=REGION, backend_service="bs", backend_service_resource=second
        )
    )
    health = client.get_health(
        project=PROJECT,
        region=REGION,
        backend_service="bs",
        resource_group_reference_resource=compute_v1.ResourceGroupReference(group=ig),
    )
    assert {s.health_state for s in health.health_status} == {"HEALTHY"}


def test_get_health_reports_what_the_test_set(
    fake: FakeCompute, clients: Clients, cluster: SeededCluster
) -> None:
    ig = group(clients, "ig", ZONE, "node-1")
    global_service(clients, "web", global_check(clients), ig)
    fake.set_health(cluster.instances[0].self_link, "UNHEALTHY")
    health = clients.BackendServicesClient.get_health(
        project=PROJECT,
        backend_service="web",
        resource_group_reference_resource=compute_v1.ResourceGroupReference(group=ig),
    )
    assert [s.health_state for s in health.health_status] == ["UNHEALTHY"]


def test_backend_service_references_must_exist(clients: Clients, cluster: SeededCluster) -> None:
    check = regional_check(clients)
    with pytest.raises(exceptions.NotFound, match="healthChecks/missing"):
        regional_service(clients, "bs", "regions/us-central1/healthChecks/missing")
    with pytest.raises(exceptions.NotFound, match="instanceGroups/missing"):
        regional_service(clients, "bs", check, "zones/us-central1-a/instanceGroups/missing")
    ig = group(clients, "ig", ZONE)
    with pytest.raises(exceptions.BadRequest, match="healthChecks"):
        clients.RegionBackendServicesClient.insert(
            project=PROJECT,
            region=REGION,
            backend_service_resource=compute_v1.BackendService(
                name="nocheck", backends=[compute_v1.Backend(group=ig)]
            ),
        )
    with pytest.raises(exceptions.BadRequest, match=r"resource.backends\[0\].balancingMode"):
        clients.RegionBackendServicesClient.insert(
            project=PROJECT,
            region=REGION,
            backend_service_resource=compute_v1.BackendService(
                name="rate",
                health_checks=[check],
                backends=[compute_v1.Backend(group=ig, balancing_mode="RATE")],
            ),
        )


def test_deletes_of_referenced_resources_are_refused(
    clients: Clients, cluster: SeededCluster
) -> None:
    ig = group(clients, "ig", ZONE, "node-1")
    regional_service(clients, "bs", regional_check(clients), ig)
    with pytest.raises(exceptions.BadRequest, match="backendServices/bs") as caught:
        clients.RegionHealthChecksClient.delete(project=PROJECT, region=REGION, health_check="hc")
    assert caught.value.errors[0]["reason"] == "resourceInUseByAnotherResource"
    with pytest.raises(exceptions.BadRequest, match="instanceGroups/ig' is already being used"):
        clients.InstanceGroupsClient.delete(project=PROJECT, zone=ZONE, instance_group="ig")
    wait(
        clients.RegionBackendServicesClient.delete(
            project=PROJECT, region=REGION, backend_service="bs"
        )
    )
    wait(clients.InstanceGroupsClient.delete(project=PROJECT, zone=ZONE, instance_group="ig"))
    wait(clients.RegionHealthChecksClient.delete(project=PROJECT, region=REGION, health_check="hc"))


def test_an_instance_is_in_one_load_balanced_group_only(
    clients: Clients, cluster: SeededCluster
) -> None:
    check = regional_check(clients)
    first = group(clients, "first", ZONE, "node-1")
    second = group(clients, "second", ZONE, "node-1")
    regional_service(clients, "bs1", check, first)
    with pytest.raises(exceptions.BadRequest, match="at most one load-balanced instance group"):
        regional_service(clients, "bs2", check, second)
    third = group(clients, "third", ZONE, "node-2")
    regional_service(clients, "bs3", check, third)
    add = compute_v1.InstanceGroupsAddInstancesRequest(
        instances=[compute_v1.InstanceReference(instance="zones/us-central1-a/instances/node-1")]
    )
    with pytest.raises(exceptions.BadRequest, match="instances/node-1"):
        clients.InstanceGroupsClient.add_instances(
            project=PROJECT,
            zone=ZONE,
            instance_group="third",
            instance_groups_add_instances_request_resource=add,
        )
    regional_service(clients, "bs4", check, first)  # one group may back several services


def test_deleting_an_instance_takes_it_out_of_groups(
    clients: Clients, cluster: SeededCluster
) -> None:
    group(clients, "ig", ZONE, "node-1", "node-2")
    wait(clients.InstancesClient.delete(project=PROJECT, zone=ZONE, instance="node-1"))
    assert (
        clients.InstanceGroupsClient.get(project=PROJECT, zone=ZONE, instance_group="ig").size == 1
    )
