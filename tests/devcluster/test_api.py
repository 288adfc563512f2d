"""REST semantics through the official Python client."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from provisioner.devcluster import DevCluster


def _service(name: str, **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {"selector": {"app": name}, "ports": [{"port": 80}], **spec},
    }
    return body


def _status_of(error: ApiException) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(error.body)
    return body


def test_discovery_documents(cluster: DevCluster) -> None:
    def get(path: str) -> Any:
        with urllib.request.urlopen(cluster.url + path) as reply:
            return json.loads(reply.read())

    assert get("/version")["major"] == "1"
    assert get("/api")["versions"] == ["v1"]
    groups = {g["name"] for g in get("/apis")["groups"]}
    assert {"apps", "discovery.k8s.io", "events.k8s.io", "coordination.k8s.io"} <= groups
    core = {r["name"]: r for r in get("/api/v1")["resources"]}
    assert core["services"]["shortNames"] == ["svc"]
    assert core["services"]["namespaced"] is True
    assert "services/status" in core
    apps = {r["name"]: r for r in get("/apis/apps/v1")["resources"]}
    assert apps["deployments/scale"]["kind"] == "Scale"
    assert "apis/apps/v1" in get("/openapi/v3")["paths"]


def test_errors_are_status_objects(cluster: DevCluster, core: Any) -> None:
    with pytest.raises(ApiException) as missing:
        core.read_namespaced_service("nope", "default")
    assert missing.value.status == 404
    status = _status_of(missing.value)
    assert status["kind"] == "Status"
    assert status["reason"] == "NotFound"
    assert status["message"] == 'services "nope" not found'
    with pytest.raises(ApiException) as no_namespace:
        core.create_namespaced_config_map("ghost", {"metadata": {"name": "x"}})
    assert no_namespace.value.status == 404
    assert _status_of(no_namespace.value)["message"] == 'namespaces "ghost" not found'
    core.create_namespaced_config_map("default", {"metadata": {"name": "x"}})
    with pytest.raises(ApiException) as duplicate:
        core.create_namespaced_config_map("default", {"metadata": {"name": "x"}})
    assert duplicate.value.status == 409
    assert _status_of(duplicate.value)["reason"] == "AlreadyExists"
    request = urllib.request.Request(
        cluster.url + "/api/v1/namespaces/default/configmaps",
        data=b"{not json",
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as bad:
        urllib.request.urlopen(request)
    assert bad.value.code == 400
    assert json.loads(bad.value.read())["reason"] == "BadRequest"
    request = urllib.request.Request(cluster.url + "/api/v1/namespaces/default/pods", method="PUT")
    with pytest.raises(urllib.error.HTTPError) as not_allowed:
        urllib.request.urlopen(request)
    assert not_allowed.value.code == 405
    assert json.loads(not_allowed.value.read())["reason"] == "MethodNotAllowed"


def test_metadata_and_generate_name(core: Any) -> None:
    created = core.create_namespaced_config_map(
        "default", {"metadata": {"generateName": "cfg-"}, "data": {"a": "1"}}
    )
    meta = created.metadata
    assert meta.name.startswith("cfg-")
    assert len(meta.name) == len("cfg-") + 5
    assert meta.uid
    assert meta.creation_timestamp is not None
    second = core.create_namespaced_config_map("default", {"metadata": {"name": "b"}})
    assert int(second.metadata.resource_version) > int(meta.resource_version)
    listing = core.list_namespaced_config_map("default")
    assert int(listing.metadata.resource_version) >= int(second.metadata.resource_version)


def test_stale_update_is_a_conflict(core: Any) -> None:
    created = core.create_namespaced_config_map("default", {"metadata": {"name": "c"}})
    fresh = core.read_namespaced_config_map("c", "default")
    fresh.data = {"k": "v"}
    core.replace_namespaced_config_map("c", "default", fresh)
    created.data = {"k": "stale"}
    with pytest.raises(ApiException) as stale:
        core.replace_namespaced_config_map("c", "default", created)
    assert stale.value.status == 409
    assert _status_of(stale.value)["reason"] == "Conflict"
    assert core.read_namespaced_config_map("c", "default").data == {"k": "v"}


def test_finalizers_hold_deletion(core: Any) -> None:
    core.create_namespaced_config_map(
        "default", {"metadata": {"name": "held", "finalizers": ["example.com/cleanup"]}}
    )
    core.delete_namespaced_config_map("held", "default")
    held = core.read_namespaced_config_map("held", "default")
    assert held.metadata.deletion_timestamp is not None
    assert held.metadata.finalizers == ["example.com/cleanup"]
    core.patch_namespaced_config_map("held", "default", {"metadata": {"finalizers": None}})
    with pytest.raises(ApiException) as gone:
        core.read_namespaced_config_map("held", "default")
    assert gone.value.status == 404


def test_status_subresource_and_generation(core: Any) -> None:
    created = core.create_namespaced_service("default", _service("gen", type="LoadBalancer"))
    assert created.metadata.generation == 1
    # Status written on the main resource is ignored.
    core.patch_namespaced_service(
        "gen", "default", {"status": {"loadBalancer": {"ingress": [{"ip": "1.2.3.4"}]}}}
    )
    after = core.read_namespaced_service("gen", "default")
    assert not after.status.load_balancer.ingress
    assert after.metadata.generation == 1
    # Status written through /status sticks, spec changes there are ignored, generation holds.
    core.patch_namespaced_service_status(
        "gen",
        "default",
        {
            "spec": {"sessionAffinity": "ClientIP"},
            "status": {"loadBalancer": {"ingress": [{"hostname": "lb.example.com"}]}},
        },
    )
    after = core.read_namespaced_service("gen", "default")
    assert after.status.load_balancer.ingress[0].hostname == "lb.example.com"
    assert after.spec.session_affinity == "None"
    assert after.metadata.generation == 1
    # Metadata-only changes do not bump generation; spec changes do.
    core.patch_namespaced_service("gen", "default", {"metadata": {"labels": {"x": "y"}}})
    assert core.read_namespaced_service("gen", "default").metadata.generation == 1
    core.patch_namespaced_service("gen", "default", {"spec": {"sessionAffinity": "ClientIP"}})
    assert core.read_namespaced_service("gen", "default").metadata.generation == 2


def test_service_defaults_and_node_ports(core: Any) -> None:
    svc = core.create_namespaced_service(
        "default",
        _service(
            "lb",
            type="LoadBalancer",
            externalTrafficPolicy="Local",
            ports=[{"name": "a", "port": 80}, {"name": "b", "port": 443, "nodePort": 30443}],
        ),
    )
    spec = svc.spec
    assert spec.cluster_ip.startswith("10.")
    assert spec.ip_families == ["IPv4"]
    assert spec.session_affinity == "None"
    assert spec.allocate_load_balancer_node_ports is True
    assert spec.ports[0].protocol == "TCP"
    assert spec.ports[0].target_port == 80
    assert 30000 <= spec.ports[0].node_port <= 32767
    assert spec.ports[1].node_port == 30443
    assert spec.health_check_node_port
    with pytest.raises(ApiException) as taken:
        core.create_namespaced_service(
            "default", _service("dup", type="NodePort", ports=[{"port": 81, "nodePort": 30443}])
        )
    assert taken.value.status == 422
    status = _status_of(taken.value)
    assert status["reason"] == "Invalid"
    assert "provided port is already allocated" in status["message"]
    assert status["details"]["causes"][0]["field"] == "spec.ports[0].nodePort"
    # Switching to ClusterIP releases the ports; the port can then be taken.
    core.patch_namespaced_service(
        "lb", "default", {"spec": {"type": "ClusterIP", "externalTrafficPolicy": None}}
    )
    released = core.read_namespaced_service("lb", "default")
    assert all(p.node_port is None for p in released.spec.ports)
    assert released.spec.health_check_node_port is None
    core.create_namespaced_service(
        "default", _service("dup", type="NodePort", ports=[{"port": 81, "nodePort": 30443}])
    )
    core.delete_namespaced_service("dup", "default")
    core.create_namespaced_service(
        "default", _service("again", type="NodePort", ports=[{"port": 81, "nodePort": 30443}])
    )


def test_leases_for_leader_election(api: Any) -> None:
    leases = client.CoordinationV1Api(api)
    body = {
        "metadata": {"name": "provisioner-leader"},
        "spec": {"holderIdentity": "a", "leaseDurationSeconds": 15, "leaseTransitions": 0},
    }
    created = leases.create_namespaced_lease("kube-system", body)
    created.spec.holder_identity = "b"
    updated = leases.replace_namespaced_lease("provisioner-leader", "kube-system", created)
    assert updated.spec.holder_identity == "b"
    created.spec.holder_identity = "c"
    with pytest.raises(ApiException) as lost:
        leases.replace_namespaced_lease("provisioner-leader", "kube-system", created)
    assert lost.value.status == 409


def test_events_in_both_apis(api: Any, core: Any) -> None:
    core.create_namespaced_event(
        "default",
        {
            "metadata": {"name": "svc.1"},
            "involvedObject": {"kind": "Service", "name": "web", "namespace": "default"},
            "reason": "Synced",
            "message": "core event",
            "type": "Normal",
        },
    )
    events = client.EventsV1Api(api)
    events.create_namespaced_event(
        "default",
        {
            "metadata": {"name": "svc.2"},
            "regarding": {"kind": "Service", "name": "web", "namespace": "default"},
            "reason": "Provisioned",
            "note": "events.k8s.io event",
            "type": "Normal",
            "action": "Provision",
            "reportingController": "provisioner",
            "reportingInstance": "provisioner-0",
            "eventTime": "2025-01-01T00:00:00.000000Z",
        },
    )
    core_view = core.list_namespaced_event(
        "default", field_selector="involvedObject.name=web"
    ).items
    assert sorted(e.message for e in core_view) == ["core event", "events.k8s.io event"]
    new_view = events.list_namespaced_event("default").items
    assert sorted(e.note for e in new_view) == ["core event", "events.k8s.io event"]
    assert {e.regarding.name for e in new_view} == {"web"}


def test_deployment_scale_subresource(api: Any, cluster: DevCluster) -> None:
    apps = client.AppsV1Api(api)
    apps.create_namespaced_deployment(
        "default",
        {
            "metadata": {"name": "s"},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": "s"}},
                "template": {
                    "metadata": {"labels": {"app": "s"}},
                    "spec": {"containers": [{"name": "c", "image": "i"}]},
                },
            },
        },
    )
    scale = apps.read_namespaced_deployment_scale("s", "default")
    assert scale.spec.replicas == 1
    assert scale.status.selector == "app=s"
    apps.patch_namespaced_deployment_scale("s", "default", {"spec": {"replicas": 3}})
    cluster.wait_until(lambda: len(cluster.ready_pods("default", "app=s")) == 3)
    deploy = cluster.wait_until(
        lambda: (
            (d := apps.read_namespaced_deployment("s", "default")).status.ready_replicas == 3 and d
        )
    )
    assert deploy.status.available_replicas == 3
    assert deploy.status.observed_generation == deploy.metadata.generation
    pod = cluster.ready_pods("default", "app=s")[0]
    assert pod["metadata"]["ownerReferences"][0]["kind"] == "Deployment"
    assert pod["metadata"]["labels"]["app"] == "s"
    assert pod["metadata"]["name"].startswith("s-")
    assert len(pod["metadata"]["name"].split("-")) == 3
    with pytest.raises(ApiException) as bad:
        apps.patch_namespaced_deployment("s", "default", {"spec": {"replicas": -1}})
    assert bad.value.status == 422


def test_patch_flavours(api: Any, core: Any, cluster: DevCluster) -> None:
    core.create_namespaced_pod(
        "default",
        {
            "metadata": {"name": "p", "labels": {"a": "1"}},
            "spec": {
                "containers": [
                    {"name": "one", "image": "x", "env": [{"name": "A", "value": "1"}]},
                    {"name": "two", "image": "y"},
                ]
            },
        },
    )

    def patch(content_type: str, body: Any) -> dict[str, Any]:
        request = urllib.request.Request(
            cluster.url + "/api/v1/namespaces/default/pods/p",
            data=json.dumps(body).encode(),
            method="PATCH",
            headers={"Content-Type": content_type},
        )
        with urllib.request.urlopen(request) as reply:
            result: dict[str, Any] = json.loads(reply.read())
            return result

    merged = patch(
        "application/strategic-merge-patch+json",
        {"spec": {"containers": [{"name": "two", "image": "z"}]}},
    )
    assert [(c["name"], c["image"]) for c in merged["spec"]["containers"]] == [
        ("one", "x"),
        ("two", "z"),
    ]
    replaced = patch(
        "application/merge-patch+json", {"metadata": {"labels": {"a": None, "b": "2"}}}
    )
    assert replaced["metadata"]["labels"] == {"b": "2"}
    json_patched = patch(
        "application/json-patch+json",
        [{"op": "add", "path": "/metadata/labels/c", "value": "3"}],
    )
    assert json_patched["metadata"]["labels"] == {"b": "2", "c": "3"}


def test_tcp_and_udp_on_one_port_share_a_node_port(core: Any) -> None:
    svc = core.create_namespaced_service(
        "default",
        _service(
            "dns",
            type="LoadBalancer",
            ports=[
                {"name": "udp", "port": 53, "protocol": "UDP"},
                {"name": "tcp", "port": 53, "protocol": "TCP"},
                {"name": "other", "port": 54, "protocol": "TCP"},
            ],
        ),
    )
    udp, tcp, other = (p.node_port for p in svc.spec.ports)
    assert udp == tcp
    assert other != udp
