"""The simulated control plane: scheduling, deployments and EndpointSlices."""

from __future__ import annotations

from typing import Any

from kubernetes import client

from provisioner.devcluster import DevCluster, NodeSpec, start


def _deployment(name: str, replicas: int) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "containers": [
                        {
                            "name": "main",
                            "image": "example",
                            "ports": [{"name": "web", "containerPort": 8080}],
                        }
                    ]
                },
            },
        },
    }


def _service(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "type": "LoadBalancer",
            "selector": {"app": name},
            "ports": [{"name": "http", "port": 80, "targetPort": "web"}],
        },
    }


def _endpoints(cluster: DevCluster, service: str) -> list[dict[str, Any]]:
    slices = cluster.list(
        "endpointslices",
        namespace="default",
        group="discovery.k8s.io",
        label_selector=f"kubernetes.io/service-name={service}",
    )
    return [e for s in slices for e in s.get("endpoints") or []]


def test_endpoint_slices_follow_deployment(cluster: DevCluster) -> None:
    cluster.create(_deployment("web", 3))
    cluster.create(_service("web"))
    endpoints = cluster.wait_until(
        lambda: (found := _endpoints(cluster, "web")) and len(found) == 3 and found
    )
    slices = cluster.list("endpointslices", namespace="default", group="discovery.k8s.io")
    web = next(s for s in slices if s["metadata"]["labels"]["kubernetes.io/service-name"] == "web")
    assert web["addressType"] == "IPv4"
    assert web["ports"] == [{"name": "http", "protocol": "TCP", "port": 8080}]
    assert web["metadata"]["labels"]["endpointslice.kubernetes.io/managed-by"] == (
        "endpointslice-controller.k8s.io"
    )
    assert web["metadata"]["ownerReferences"][0]["kind"] == "Service"
    assert {e["nodeName"] for e in endpoints} == {"node-1", "node-2", "node-3"}
    assert {e["zone"] for e in endpoints} == {"us-east-1a", "us-east-1b", "us-east-1c"}
    for endpoint in endpoints:
        assert endpoint["conditions"] == {"ready": True, "serving": True, "terminating": False}
        assert endpoint["targetRef"]["kind"] == "Pod"
        pod = cluster.get("pods", endpoint["targetRef"]["name"], namespace="default")
        assert endpoint["addresses"] == [pod["status"]["podIP"]]
        assert pod["spec"]["nodeName"] == endpoint["nodeName"]
        assert pod["status"]["phase"] == "Running"

    # Scale down: the removed pods terminate first (visible as terminating endpoints), then go.
    deploy = cluster.get("deployments", "web", namespace="default", group="apps")
    deploy["spec"]["replicas"] = 1
    cluster.registry.update(cluster.resource("deployments", group="apps"), "default", "web", deploy)
    terminating = cluster.wait_until(
        lambda: [e for e in _endpoints(cluster, "web") if e["conditions"]["terminating"]]
    )
    assert all(not e["conditions"]["ready"] for e in terminating)
    cluster.wait_until(lambda: len(_endpoints(cluster, "web")) == 1)
    # Deleting the service garbage-collects its slices.
    cluster.registry.delete(cluster.resource("services"), "default", "web")
    cluster.wait_until(
        lambda: (
            not _endpoints(cluster, "web")
            and not cluster.list(
                "endpointslices",
                namespace="default",
                group="discovery.k8s.io",
                label_selector="kubernetes.io/service-name=web",
            )
        )
    )


def test_not_ready_pod_leaves_ready_endpoints(cluster: DevCluster, api: Any) -> None:
    cluster.create(_deployment("app", 2))
    cluster.create(_service("app"))
    cluster.wait_until(
        lambda: sum(e["conditions"]["ready"] for e in _endpoints(cluster, "app")) == 2
    )
    pod = cluster.ready_pods("default", "app=app")[0]
    name = pod["metadata"]["name"]
    core = client.CoreV1Api(api)
    body = core.read_namespaced_pod_status(name, "default")
    for condition in body.status.conditions:
        if condition.type == "Ready":
            condition.status = "False"
    core.replace_namespaced_pod_status(name, "default", body)

    def not_ready() -> list[dict[str, Any]]:
        return [
            e
            for e in _endpoints(cluster, "app")
            if e["targetRef"]["name"] == name and not e["conditions"]["ready"]
        ]

    endpoint = cluster.wait_until(not_ready)[0]
    assert endpoint["conditions"] == {"ready": False, "serving": False, "terminating": False}
    deploy = cluster.wait_until(
        lambda: (
            (d := cluster.get("deployments", "app", namespace="default", group="apps"))[
                "status"
            ].get("readyReplicas")
            == 1
            and d
        )
    )
    assert deploy["status"]["replicas"] == 2
    cluster.set_pod_ready("default", name, True)
    cluster.wait_until(lambda: not not_ready())


def test_pods_scheduled_round_robin_with_pod_cidrs() -> None:
    nodes = [
        NodeSpec(name="a", zone="eu-west-1a", pod_cidr="10.1.0.0/24", internal_ip="10.9.0.1"),
        NodeSpec(name="b", zone="eu-west-1b", pod_cidr="10.2.0.0/24", provider_id="aws:///x/i-b"),
    ]
    with start(nodes) as cluster:
        node_b = cluster.get("nodes", "b")
        assert node_b["spec"]["providerID"] == "aws:///x/i-b"
        assert node_b["metadata"]["labels"]["topology.kubernetes.io/zone"] == "eu-west-1b"
        assert node_b["metadata"]["labels"]["topology.kubernetes.io/region"] == "eu-west-1"
        assert cluster.get("nodes", "a")["status"]["addresses"][0] == {
            "type": "InternalIP",
            "address": "10.9.0.1",
        }
        for index in range(4):
            cluster.create(
                {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "metadata": {"name": f"p{index}", "labels": {"x": "y"}},
                    "spec": {"containers": [{"name": "c", "image": "i"}]},
                }
            )
        cluster.wait_until(lambda: len(cluster.ready_pods("default", "x=y")) == 4)
        pods = cluster.list("pods", namespace="default")
        by_node: dict[str, list[str]] = {}
        for pod in pods:
            by_node.setdefault(pod["spec"]["nodeName"], []).append(pod["status"]["podIP"])
        assert sorted(len(ips) for ips in by_node.values()) == [2, 2]
        assert all(ip.startswith("10.1.0.") for ip in by_node["a"])
        assert all(ip.startswith("10.2.0.") for ip in by_node["b"])
        assert len({ip for ips in by_node.values() for ip in ips}) == 4


def test_graceful_pod_deletion(cluster: DevCluster, api: Any) -> None:
    core = client.CoreV1Api(api)
    core.create_namespaced_pod(
        "default",
        {
            "metadata": {"name": "slow"},
            "spec": {
                "terminationGracePeriodSeconds": 1,
                "containers": [{"name": "c", "image": "i"}],
            },
        },
    )
    cluster.wait_until(lambda: cluster.ready_pods("default", ""))
    core.delete_namespaced_pod("slow", "default")
    terminating = core.read_namespaced_pod("slow", "default")
    assert terminating.metadata.deletion_timestamp is not None
    assert terminating.metadata.deletion_grace_period_seconds == 1
    cluster.wait_until(lambda: not cluster.list("pods", namespace="default"), timeout=5)
    core.create_namespaced_pod(
        "default", {"metadata": {"name": "fast"}, "spec": {"containers": [{"name": "c"}]}}
    )
    cluster.wait_until(lambda: cluster.ready_pods("default", ""))
    core.delete_namespaced_pod("fast", "default", grace_period_seconds=0)
    assert not cluster.list("pods", namespace="default")


def test_node_not_ready_gets_no_pods() -> None:
    with start([NodeSpec(name="up"), NodeSpec(name="down", ready=False)]) as cluster:
        for index in range(3):
            cluster.create(
                {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "metadata": {"name": f"p{index}", "labels": {"x": "y"}},
                    "spec": {"containers": [{"name": "c"}]},
                }
            )
        cluster.wait_until(lambda: len(cluster.ready_pods("default", "x=y")) == 3)
        assert {p["spec"]["nodeName"] for p in cluster.list("pods", namespace="default")} == {"up"}
