"""Small builders for raw Kubernetes bodies, so each test states only what it is about."""

from __future__ import annotations

from typing import Any


def service(
    name: str = "web",
    *,
    namespace: str = "default",
    annotations: dict[str, str] | None = None,
    ports: list[dict[str, Any]] | None = None,
    **spec: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "LoadBalancer",
        "loadBalancerClass": "provisioner.io/nlb",
        "selector": {"app": name},
        "ports": ports
        if ports is not None
        else [{"name": "http", "port": 80, "targetPort": 8080, "nodePort": 30080}],
    }
    body.update(spec)
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace, "annotations": annotations or {}},
        "spec": body,
    }


def node(
    name: str,
    *,
    zone: str = "us-east-1a",
    instance: str | None = None,
    labels: dict[str, str] | None = None,
    taints: list[dict[str, str]] | None = None,
    provider_id: str | None = "",
) -> dict[str, Any]:
    pid = provider_id if provider_id != "" else f"aws:///{zone}/{instance or 'i-' + name}"
    spec: dict[str, Any] = {}
    if pid is not None:
        spec["providerID"] = pid
    if taints:
        spec["taints"] = taints
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {"topology.kubernetes.io/zone": zone, **(labels or {})},
        },
        "spec": spec,
        "status": {"addresses": [{"type": "InternalIP", "address": "10.0.0.1"}]},
    }


def endpoint_slice(
    service_name: str,
    *,
    ports: list[dict[str, Any]],
    endpoints: list[dict[str, Any]],
    namespace: str = "default",
    name: str | None = None,
) -> dict[str, Any]:
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "name": name or f"{service_name}-abc",
            "namespace": namespace,
            "labels": {"kubernetes.io/service-name": service_name},
        },
        "addressType": "IPv4",
        "ports": ports,
        "endpoints": endpoints,
    }


def endpoint(
    ip: str,
    *,
    ready: bool | None = True,
    serving: bool | None = None,
    terminating: bool | None = None,
    zone: str = "us-east-1a",
) -> dict[str, Any]:
    conditions: dict[str, bool] = {}
    if ready is not None:
        conditions["ready"] = ready
    if serving is not None:
        conditions["serving"] = serving
    if terminating is not None:
        conditions["terminating"] = terminating
    return {"addresses": [ip], "conditions": conditions, "zone": zone}


def pod(
    name: str,
    ip: str,
    *,
    labels: dict[str, str],
    ready: bool = True,
    ports: list[dict[str, Any]] | None = None,
    namespace: str = "default",
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {"containers": [{"name": "main", "ports": ports or []}]},
        "status": {
            "phase": "Running",
            "podIP": ip,
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        },
    }


def backend(service: str, port: int | str = 80) -> dict[str, Any]:
    key = "number" if isinstance(port, int) else "name"
    return {"service": {"name": service, "port": {key: port}}}


def path(
    value: str | None, service: str = "web", *, kind: str = "Prefix", port: int | str = 80
) -> dict[str, Any]:
    item: dict[str, Any] = {"pathType": kind, "backend": backend(service, port)}
    if value is not None:
        item["path"] = value
    return item


def rule(host: str | None, *paths: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {"http": {"paths": list(paths)}} if paths else {}
    if host is not None:
        body["host"] = host
    return body


def ingress(
    name: str = "site",
    *,
    namespace: str = "default",
    annotations: dict[str, str] | None = None,
    rules: list[dict[str, Any]] | None = None,
    default: dict[str, Any] | None = None,
    class_name: str | None = "alb",
    created: str | None = None,
) -> dict[str, Any]:
    spec: dict[str, Any] = {"rules": rules if rules is not None else [rule(None, path("/"))]}
    if class_name is not None:
        spec["ingressClassName"] = class_name
    if default is not None:
        spec["defaultBackend"] = default
    metadata: dict[str, Any] = {
        "name": name,
        "namespace": namespace,
        "annotations": annotations or {},
    }
    if created is not None:
        metadata["creationTimestamp"] = created
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": metadata,
        "spec": spec,
    }


def ingress_class(
    name: str = "alb",
    *,
    controller: str = "provisioner.io/alb",
    default: bool = False,
    params: str | None = None,
) -> dict[str, Any]:
    annotations = {"ingressclass.kubernetes.io/is-default-class": "true"} if default else {}
    spec: dict[str, Any] = {"controller": controller}
    if params is not None:
        spec["parameters"] = {
            "apiGroup": "provisioner.io",
            "kind": "IngressClassParams",
            "name": params,
        }
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "IngressClass",
        "metadata": {"name": name, "annotations": annotations},
        "spec": spec,
    }


def class_params(name: str = "params", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "provisioner.io/v1",
        "kind": "IngressClassParams",
        "metadata": {"name": name},
        "spec": spec,
    }


def node_port_service(
    name: str = "web", *, namespace: str = "default", annotations: dict[str, str] | None = None
) -> dict[str, Any]:
    return service(
        name,
        namespace=namespace,
        annotations=annotations,
        type="NodePort",
        ports=[{"name": "http", "port": 80, "targetPort": 8080, "nodePort": 30080}],
    )
