"""IP-mode targets: the endpoints that may receive traffic for one Service port.

EndpointSlices are the source of truth in a cluster. Manifest files rarely carry them, so
when a Service has none, Pods matching its selector stand in, resolved the way the
EndpointSlice controller would resolve them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from provisioner.model import Target
from provisioner.translate.objects import (
    Obj,
    is_deleting,
    labels_of,
    matches_selector,
    name_of,
    namespace_of,
    spec_of,
    status_of,
)

SERVICE_NAME_LABEL = "kubernetes.io/service-name"


def slices_for(service: Obj, slices: Iterable[Obj]) -> list[Obj]:
    name, namespace = name_of(service), namespace_of(service)
    return [
        s
        for s in slices
        if namespace_of(s) == namespace and labels_of(s).get(SERVICE_NAME_LABEL) == name
    ]


def _condition(conditions: Mapping[str, Any], name: str, default: bool) -> bool:
    value = conditions.get(name)
    return default if value is None else bool(value)


def from_slices(port: Mapping[str, Any], slices: Iterable[Obj]) -> frozenset[Target]:
    """Ready, serving, non-terminating endpoints on the slice port named like `port`."""
    wanted_name = port.get("name") or ""
    wanted_protocol = port.get("protocol") or "TCP"
    targets: set[Target] = set()
    for item in slices:
        number = None
        for slice_port in item.get("ports") or []:
            if (slice_port.get("name") or "") == wanted_name and (
                slice_port.get("protocol") or "TCP"
            ) == wanted_protocol:
                number = slice_port.get("port")
        if not isinstance(number, int):
            continue
        for endpoint in item.get("endpoints") or []:
            conditions = endpoint.get("conditions") or {}
            ready = _condition(conditions, "ready", True)
            serving = _condition(conditions, "serving", ready)
            terminating = _condition(conditions, "terminating", False)
            if not (ready and serving) or terminating:
                continue
            for address in endpoint.get("addresses") or []:
                targets.add(Target(address=str(address), port=number, zone=endpoint.get("zone")))
    return frozenset(targets)


def _pod_ready(pod: Obj) -> bool:
    status = status_of(pod)
    if status.get("phase") != "Running" or not status.get("podIP") or is_deleting(pod):
        return False
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in status.get("conditions") or []
    )


def resolve_target_port(port: Mapping[str, Any], pod: Obj) -> int | None:
    """The pod's port for a Service port: a number as given, a name looked up by protocol."""
    target = port.get("targetPort", port.get("port"))
    if isinstance(target, int):
        return target
    if isinstance(target, str) and target.isdigit():
        return int(target)
    protocol = port.get("protocol") or "TCP"
    for container in spec_of(pod).get("containers") or []:
        for container_port in container.get("ports") or []:
            if (
                container_port.get("name") == target
                and (container_port.get("protocol") or "TCP") == protocol
            ):
                value = container_port.get("containerPort")
                return value if isinstance(value, int) else None
    return None


def from_pods(service: Obj, port: Mapping[str, Any], pods: Iterable[Obj]) -> frozenset[Target]:
    selector = spec_of(service).get("selector") or {}
    namespace = namespace_of(service)
    targets: set[Target] = set()
    for pod in pods:
        if namespace_of(pod) != namespace or not matches_selector(labels_of(pod), selector):
            continue
        if not _pod_ready(pod):
            continue
        number = resolve_target_port(port, pod)
        if number is not None:
            targets.add(Target(address=str(status_of(pod)["podIP"]), port=number))
    return frozenset(targets)


def ip_backend_port(port: Mapping[str, Any], targets: frozenset[Target]) -> int:
    """The port an IP-mode backend is created with: the target port when it is a number,
    else the lowest port the endpoints resolved to (a named port may differ per pod)."""
    target = port.get("targetPort", port.get("port"))
    if isinstance(target, int):
        return target
    if isinstance(target, str) and target.isdigit():
        return int(target)
    if targets:
        return min(t.port for t in targets)
    return int(port["port"])
