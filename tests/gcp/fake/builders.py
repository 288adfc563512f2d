"""Small builders for the fake's tests: clients and the resources most tests need."""

from __future__ import annotations

from typing import Any

from google.cloud import compute_v1

PROJECT = "test-project"
REGION = "us-central1"
ZONE = "us-central1-a"


class Clients:
    """Every compute_v1 client the tests use, built against the fake once per test."""

    def __init__(self, kw: dict[str, Any]) -> None:
        self.kw = kw
        self._built: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name not in self._built:
            self._built[name] = getattr(compute_v1, name)(**self.kw)
        return self._built[name]


def wait(op: Any) -> Any:
    """ExtendedOperation.result() with the fake's default of DONE-at-once operations."""
    op.result(timeout=5)
    return op


def group(clients: Clients, name: str, zone: str = ZONE, *members: str) -> str:
    client = clients.InstanceGroupsClient
    wait(
        client.insert(
            project=PROJECT,
            zone=zone,
            instance_group_resource=compute_v1.InstanceGroup(
                name=name, named_ports=[compute_v1.NamedPort(name="http", port=30080)]
            ),
        )
    )
    if members:
        request = compute_v1.InstanceGroupsAddInstancesRequest(
            instances=[
                compute_v1.InstanceReference(instance=f"zones/{zone}/instances/{m}")
                for m in members
            ]
        )
        wait(
            client.add_instances(
                project=PROJECT,
                zone=zone,
                instance_group=name,
                instance_groups_add_instances_request_resource=request,
            )
        )
    return str(client.get(project=PROJECT, zone=zone, instance_group=name).self_link)


def regional_check(clients: Clients, name: str = "hc") -> str:
    client = clients.RegionHealthChecksClient
    wait(
        client.insert(
            project=PROJECT,
            region=REGION,
            health_check_resource=compute_v1.HealthCheck(
                name=name,
                type_="HTTP",
                http_health_check=compute_v1.HTTPHealthCheck(port=10256, request_path="/healthz"),
            ),
        )
    )
    return str(client.get(project=PROJECT, region=REGION, health_check=name).self_link)


def global_check(clients: Clients, name: str = "ghc") -> str:
    client = clients.HealthChecksClient
    wait(
        client.insert(
            project=PROJECT,
            health_check_resource=compute_v1.HealthCheck(
                name=name, type_="TCP", tcp_health_check=compute_v1.TCPHealthCheck(port=30080)
            ),
        )
    )
    return str(client.get(project=PROJECT, health_check=name).self_link)


def regional_service(
    clients: Clients,
    name: str,
    check: str,
    *groups: str,
    protocol: str = "TCP",
    scheme: str = "EXTERNAL",
) -> str:
    client = clients.RegionBackendServicesClient
    wait(
        client.insert(
            project=PROJECT,
            region=REGION,
            backend_service_resource=compute_v1.BackendService(
                name=name,
                health_checks=[check],
                protocol=protocol,
                load_balancing_scheme=scheme,
                backends=[compute_v1.Backend(group=g) for g in groups],
            ),
        )
    )
    return str(client.get(project=PROJECT, region=REGION, backend_service=name).self_link)


def global_service(clients: Clients, name: str, check: str, *groups: str) -> str:
    client = clients.BackendServicesClient
    wait(
        client.insert(
            project=PROJECT,
            backend_service_resource=compute_v1.BackendService(
                name=name,
                health_checks=[check],
                protocol="HTTP",
                port_name="http",
                backends=[compute_v1.Backend(group=g) for g in groups],
            ),
        )
    )
    return str(client.get(project=PROJECT, backend_service=name).self_link)
