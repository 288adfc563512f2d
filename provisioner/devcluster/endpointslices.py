"""What an EndpointSlice for a Service looks like, given its Pods and Nodes.

A load-balancer controller registers targets from EndpointSlices, so their
shape has to match what the real EndpointSlice controller writes: the labels
it selects on, ports resolved from named targetPorts, and the
ready/serving/terminating conditions that drive connection draining.
"""

from __future__ import annotations

from typing import Any

Obj = dict[str, Any]

MANAGED_BY = "endpointslice-controller.k8s.io"
SERVICE_NAME_LABEL = "kubernetes.io/service-name"
MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by"


def pod_ready(pod: Obj) -> bool:
    for condition in pod.get("status", {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return bool(condition.get("status") == "True")
    return False


def resolve_ports(service_ports: list[Obj], pod: Obj) -> list[Obj]:
    """Service ports as the pod serves them, named targetPorts looked up on the pod."""
    container_ports = {
        p.get("name"): p.get("containerPort")
        for c in pod.get("spec", {}).get("containers") or []
        for p in c.get("ports") or []
        if p.get("name")
    }
    resolved = []
    for port in service_ports:
        target = port.get("targetPort", port.get("port"))
        number = container_ports.get(target) if isinstance(target, str) else target
        if isinstance(target, str) and target.isdigit():
            number = int(target)
        if number is None:
            continue
        resolved.append(
            {"name": port.get("name", ""), "protocol": port.get("protocol", "TCP"), "port": number}
        )
    return resolved


def endpoint(pod: Obj, nodes: dict[str, Obj], *, publish: bool) -> Obj:
    meta = pod["metadata"]
    terminating = bool(meta.get("deletionTimestamp"))
    serving = pod_ready(pod)
    node_name = pod.get("spec", {}).get("nodeName", "")
    endpoint: Obj = {
        "addresses": [pod["status"]["podIP"]],
        "conditions": {
            "ready": publish or (serving and not terminating),
            "serving": publish or serving,
            "terminating": terminating,
        },
        "targetRef": {
            "kind": "Pod",
            "namespace": meta["namespace"],
            "name": meta["name"],
            "uid": meta["uid"],
        },
    }
    if node_name:
        endpoint["nodeName"] = node_name
        zone = (
            (nodes.get(node_name) or {})
            .get("metadata", {})
            .get("labels", {})
            .get("topology.kubernetes.io/zone")
        )
        if zone:
            endpoint["zone"] = zone
    return endpoint


def desired_slice(service: Obj, ports: list[Obj] | None, endpoints: list[Obj]) -> Obj:
    meta = service["metadata"]
    labels = {
        **(meta.get("labels") or {}),
        SERVICE_NAME_LABEL: meta["name"],
        MANAGED_BY_LABEL: MANAGED_BY,
    }
    body: Obj = {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "generateName": f"{meta['name']}-",
            "namespace": meta["namespace"],
            "labels": labels,
            "ownerReferences": [
                {
                    "apiVersion": "v1",
                    "kind": "Service",
                    "name": meta["name"],
                    "uid": meta["uid"],
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "addressType": "IPv4",
        "endpoints": endpoints,
    }
    if ports is not None:
        body["ports"] = ports
    return body
