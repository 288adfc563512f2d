"""Paging, filters, refused filters and aggregated lists."""

from __future__ import annotations

import pytest
from google.api_core import exceptions
from google.cloud import compute_v1

from providers.gcp.seed import SeededCluster
from tests.gcp.fake.builders import PROJECT, REGION, ZONE, Clients, group, wait


def checks(clients: Clients, count: int) -> None:
    for index in range(count):
        wait(
            clients.HealthChecksClient.insert(
                project=PROJECT,
                health_check_resource=(
                    compute_v1.HealthCheck(
                        name=f"hc-{index:02d}",
                        type_="TCP",
                        description="even" if index % 2 == 0 else "odd",
                    )
                ),
            )
        )


def test_paging_with_max_results(clients: Clients) -> None:
    checks(clients, 7)
    request = compute_v1.ListHealthChecksRequest(project=PROJECT, max_results=3)
    pages = list(clients.HealthChecksClient.list(request=request).pages)
    assert [len(p.items) for p in pages] == [3, 3, 1]
    assert pages[0].next_page_token and not pages[-1].next_page_token
    names = [i.name for p in pages for i in p.items]
    assert names == [f"hc-{i:02d}" for i in range(7)]
    with pytest.raises(exceptions.BadRequest, match="maxResults"):
        next(
            iter(
                clients.HealthChecksClient.list(
                    request=compute_v1.ListHealthChecksRequest(project=PROJECT, max_results=501)
                )
            )
        )
    with pytest.raises(exceptions.BadRequest, match="pageToken"):
        next(
            iter(
                clients.HealthChecksClient.list(
                    request=compute_v1.ListHealthChecksRequest(
                        project=PROJECT, page_token="garbage!"
                    )
                )
            )
        )


def names(clients: Clients, expression: str) -> list[str]:
    request = compute_v1.ListHealthChecksRequest(project=PROJECT, filter=expression)
    return [i.name for i in clients.HealthChecksClient.list(request=request)]


def test_filters(clients: Clients) -> None:
    checks(clients, 4)
    assert names(clients, 'name eq "hc-0[12]"') == ["hc-01", "hc-02"]
    assert names(clients, "name ne hc-0.") == []
    assert names(clients, 'name = "hc-03"') == ["hc-03"]
    assert names(clients, 'name != "hc-03"') == ["hc-00", "hc-01", "hc-02"]
    assert names(clients, 'description = "even" AND name != "hc-00"') == ["hc-02"]
    assert names(clients, '(name = "hc-00") OR (name = "hc-01")') == ["hc-00", "hc-01"]
    assert names(clients, "type = TCP") == ["hc-00", "hc-01", "hc-02", "hc-03"]


def test_label_filters_on_forwarding_rules(clients: Clients, cluster: SeededCluster) -> None:
    wait(
        clients.AddressesClient.insert(
            project=PROJECT,
            region=REGION,
            address_resource=(compute_v1.Address(name="a", labels={"cluster": "one"})),
        )
    )
    wait(
        clients.AddressesClient.insert(
            project=PROJECT,
            region=REGION,
            address_resource=(compute_v1.Address(name="b", labels={"cluster": "two"})),
        )
    )
    request = compute_v1.ListAddressesRequest(
        project=PROJECT, region=REGION, filter='labels.cluster = "two"'
    )
    assert [a.name for a in clients.AddressesClient.list(request=request)] == ["b"]
    request.filter = "labels.cluster:*"
    assert len(list(clients.AddressesClient.list(request=request))) == 2


@pytest.mark.parametrize(
    "expression", ["creationTimestamp > 2020", "NOT name = x", "name", "name = ", 'name ~ "x"']
)
def test_unsupported_filters_are_refused(clients: Clients, expression: str) -> None:
    with pytest.raises(exceptions.BadRequest, match="filter"):
        names(clients, expression)


def test_aggregated_lists(clients: Clients, cluster: SeededCluster) -> None:
    group(clients, "ig-a", ZONE)
    group(clients, "ig-b", "us-central1-b")
    scopes = dict(clients.InstanceGroupsClient.aggregated_list(project=PROJECT))
    assert sorted(scopes) == ["zones/us-central1-a", "zones/us-central1-b"]
    assert [g.name for g in scopes["zones/us-central1-b"].instance_groups] == ["ig-b"]
    instances = dict(
        clients.InstancesClient.aggregated_list(
            request=compute_v1.AggregatedListInstancesRequest(
                project=PROJECT, filter='name = "node-3"'
            )
        )
    )
    assert list(instances) == ["zones/us-central1-b"]
    assert dict(clients.ForwardingRulesClient.aggregated_list(project=PROJECT)) == {}
