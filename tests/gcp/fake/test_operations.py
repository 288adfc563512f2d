"""Operations: DONE at once by default; pending for N polls when switched; requestId."""

from __future__ import annotations

import json
import urllib.request

import pytest
from google.api_core import exceptions
from google.cloud import compute_v1

from providers.gcp.fake import FakeCompute
from providers.gcp.seed import SeededCluster, SeedNode, seed_cluster
from tests.gcp.fake.builders import PROJECT, REGION, ZONE, Clients

DONE = compute_v1.Operation.Status.DONE
RUNNING = compute_v1.Operation.Status.RUNNING


def test_operations_are_done_at_once_by_default(clients: Clients) -> None:
    op = clients.HealthChecksClient.insert_unary(
        project=PROJECT, health_check_resource=(compute_v1.HealthCheck(name="hc", type_="TCP"))
    )
    assert op.status == DONE and op.operation_type == "insert" and op.progress == 100
    assert op.target_link.endswith(f"projects/{PROJECT}/global/healthChecks/hc")
    assert op.target_id > 0 and op.name.startswith("operation-")
    again = clients.GlobalOperationsClient.get(project=PROJECT, operation=op.name)
    assert again.status == DONE and again.kind == "compute#operation"
    listed = [o.name for o in clients.GlobalOperationsClient.list(project=PROJECT)]
    assert listed == [op.name]


def test_pending_regional_operation_needs_polls(fake: FakeCompute, clients: Clients) -> None:
    fake.set_pending_polls(2)
    op = clients.RegionHealthChecksClient.insert_unary(
        project=PROJECT,
        region=REGION,
        health_check_resource=compute_v1.HealthCheck(name="hc", type_="TCP"),
    )
    assert op.status == RUNNING and op.region.endswith(f"/regions/{REGION}")
    operations = clients.RegionOperationsClient
    seen = [
        operations.get(project=PROJECT, region=REGION, operation=op.name).status for _ in range(3)
    ]
    assert seen == [RUNNING, RUNNING, DONE]
    assert operations.get(project=PROJECT, region=REGION, operation=op.name).status == DONE


def test_pending_global_operation_polled_with_wait(fake: FakeCompute, clients: Clients) -> None:
    fake.set_pending_polls(1)
    op = clients.HealthChecksClient.insert_unary(
        project=PROJECT, health_check_resource=(compute_v1.HealthCheck(name="hc", type_="TCP"))
    )
    assert op.status == RUNNING
    operations = clients.GlobalOperationsClient
    first = operations.wait(project=PROJECT, operation=op.name)
    assert first.status == RUNNING
    assert operations.wait(project=PROJECT, operation=op.name).status == DONE
    # the change itself is visible at once; only the operation lags
    assert clients.HealthChecksClient.get(project=PROJECT, health_check="hc").name == "hc"


def test_pending_zonal_operations_and_the_seed_waits(fake: FakeCompute) -> None:
    fake.set_pending_polls(3)
    seeded: SeededCluster = seed_cluster(fake.url, project=PROJECT, nodes=[SeedNode("n", ZONE)])
    assert seeded.instances[0].internal_ip
    waits = [c.operation for c in fake.calls() if c.operation.endswith(".wait")]
    assert waits.count("zoneOperations.wait") == 4
    assert waits.count("globalOperations.wait") == 4
    assert waits.count("regionOperations.wait") == 4


def test_pending_switch_over_http(fake: FakeCompute, clients: Clients) -> None:
    request = urllib.request.Request(
        f"{fake.url}/_fake/pending", data=b'{"polls": 1}', method="POST"
    )
    with urllib.request.urlopen(request) as answer:
        assert json.load(answer) == {"polls": 1}
    op = clients.HealthChecksClient.insert_unary(
        project=PROJECT, health_check_resource=(compute_v1.HealthCheck(name="hc", type_="TCP"))
    )
    assert op.status == RUNNING


def test_a_repeated_request_id_is_applied_once(clients: Clients) -> None:
    request = compute_v1.InsertHealthCheckRequest(
        project=PROJECT,
        request_id="5f0c3b1e-0000-4000-8000-000000000001",
        health_check_resource=compute_v1.HealthCheck(name="hc", type_="TCP"),
    )
    first = clients.HealthChecksClient.insert_unary(request=request)
    second = clients.HealthChecksClient.insert_unary(request=request)
    assert first.name == second.name
    request.request_id = "5f0c3b1e-0000-4000-8000-000000000002"
    with pytest.raises(exceptions.Conflict):
        clients.HealthChecksClient.insert_unary(request=request)


def test_unknown_operation_is_not_found(clients: Clients) -> None:
    with pytest.raises(exceptions.NotFound, match="operations/operation-nope"):
        clients.GlobalOperationsClient.get(project=PROJECT, operation="operation-nope")
