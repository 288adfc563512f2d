"""What the API server itself does to Services: defaults and address allocation.

A load-balancer controller reads nodePorts and healthCheckNodePort and wires
cloud target groups to them, so allocation must behave like the real
allocator: requested ports honoured, duplicates refused with 422, ports
released when a Service goes away or stops needing them. Allocation state is
derived from the stored Services rather than kept separately, so it survives
restarts of the server and can never drift from what is stored.
"""

from __future__ import annotations

import ipaddress
import random
from typing import Any

from provisioner.devcluster.errors import ApiError, field_cause, invalid

Obj = dict[str, Any]

SERVICE_CIDR = ipaddress.ip_network("10.96.0.0/12")
KUBERNETES_SERVICE_IP = "10.96.0.1"
NODE_PORT_MIN = 30000
NODE_PORT_MAX = 32767
# Like the real allocator, dynamic ports come from above a small band kept for static use.
_STATIC_BAND = min(max(16, (NODE_PORT_MAX - NODE_PORT_MIN + 1) // 32), 128)

_rng = random.Random()


def _used(services: list[Obj], name: str, namespace: str) -> tuple[set[str], set[int]]:
    ips: set[str] = set()
    ports: set[int] = set()
    for svc in services:
        meta = svc.get("metadata", {})
        if meta.get("name") == name and meta.get("namespace") == namespace:
            continue
        spec = svc.get("spec", {})
        ips.update(ip for ip in spec.get("clusterIPs") or [spec.get("clusterIP")] if ip)
        ports.update(p["nodePort"] for p in spec.get("ports") or [] if p.get("nodePort"))
        if spec.get("healthCheckNodePort"):
            ports.add(spec["healthCheckNodePort"])
    return ips, ports


def _allocate_port(used: set[int]) -> int:
    preferred = [p for p in range(NODE_PORT_MIN + _STATIC_BAND, NODE_PORT_MAX + 1) if p not in used]
    fallback = [p for p in range(NODE_PORT_MIN, NODE_PORT_MIN + _STATIC_BAND) if p not in used]
    pool = preferred or fallback
    if not pool:
        raise ApiError(500, "range is full: no node ports left", reason="InternalError")
    return _rng.choice(pool)


def _allocate_ip(used: set[str]) -> str:
    for offset in range(11, SERVICE_CIDR.num_addresses - 1):
        candidate = str(SERVICE_CIDR.network_address + offset)
        if candidate not in used:
            return candidate
    raise ApiError(500, "range is full: no cluster IPs left", reason="InternalError")


def admit_service(new: Obj, old: Obj | None, services: list[Obj]) -> None:
    """Default and allocate ``new`` in place, or raise 422 like the real server."""
    meta = new["metadata"]
    name = meta.get("name", "")
    spec: Obj = new.setdefault("spec", {})
    old_spec: Obj = (old or {}).get("spec", {})
    used_ips, used_ports = _used(services, name, meta.get("namespace", ""))
    causes: list[dict[str, str]] = []
    svc_type = spec.setdefault("type", "ClusterIP")
    if svc_type not in ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName"):
        causes.append(
            field_cause(
                "spec.type",
                f'Unsupported value: "{svc_type}": supported values: "ClusterIP", '
                '"ExternalName", "LoadBalancer", "NodePort"',
                reason="FieldValueNotSupported",
            )
        )
    spec.setdefault("sessionAffinity", "None")
    ports: list[Obj] = spec.setdefault("ports", []) or []
    if svc_type != "ExternalName":
        _admit_cluster_ip(spec, old_spec, used_ips, causes)
        spec.setdefault("internalTrafficPolicy", "Cluster")
    needs_node_ports = svc_type == "NodePort" or (
        svc_type == "LoadBalancer" and spec.setdefault("allocateLoadBalancerNodePorts", True)
    )
    if svc_type != "LoadBalancer":
        spec.pop("allocateLoadBalancerNodePorts", None)
    if svc_type in ("NodePort", "LoadBalancer"):
        spec.setdefault("externalTrafficPolicy", "Cluster")
    else:
        spec.pop("externalTrafficPolicy", None)
    old_ports = {
        (p.get("port"), p.get("protocol", "TCP")): p.get("nodePort")
        for p in old_spec.get("ports") or []
    }
    claimed: set[tuple[int, str]] = set()
    for index, port in enumerate(ports):
        path = f"spec.ports[{index}]"
        port.setdefault("protocol", "TCP")
        if not isinstance(port.get("port"), int):
            causes.append(
                field_cause(f"{path}.port", "Required value", reason="FieldValueRequired")
            )
            continue
        port.setdefault("targetPort", port["port"])
        if not needs_node_ports:
            port.pop("nodePort", None)
            continue
        wanted = port.get("nodePort") or old_ports.get((port["port"], port["protocol"]))
        if wanted:
            problem = _node_port_problem(wanted, used_ports, claimed, port["protocol"])
            if problem:
                causes.append(
                    field_cause(f"{path}.nodePort", f"Invalid value: {wanted}: {problem}")
                )
                continue
        else:
            # Like the real allocator: one port number served over TCP and UDP gets one
            # nodePort, which load balancers that merge the two (AWS TCP_UDP) rely on.
            twin = next(
                (
                    other.get("nodePort")
                    for other in ports[:index]
                    if other.get("port") == port["port"] and other.get("nodePort")
                ),
                None,
            )
            wanted = twin or _allocate_port(used_ports | {p for p, _ in claimed})
        port["nodePort"] = wanted
        claimed.add((wanted, port["protocol"]))
    if svc_type == "LoadBalancer" and spec.get("externalTrafficPolicy") == "Local":
        wanted = spec.get("healthCheckNodePort") or old_spec.get("healthCheckNodePort")
        taken = used_ports | {p for p, _ in claimed}
        if wanted and wanted in taken:
            causes.append(
                field_cause(
                    "spec.healthCheckNodePort",
                    f"Invalid value: {wanted}: provided port is already allocated",
                )
            )
        spec["healthCheckNodePort"] = wanted or _allocate_port(taken)
    else:
        spec.pop("healthCheckNodePort", None)
    if causes:
        raise invalid("Service", name, causes)
    if old is None:
        new["status"] = {"loadBalancer": {}}


def _node_port_problem(
    port: Any, used: set[int], claimed: set[tuple[int, str]], protocol: str
) -> str | None:
    if not isinstance(port, int) or not NODE_PORT_MIN <= port <= NODE_PORT_MAX:
        return (
            "provided port is not in the valid range. The range of valid ports is "
            f"{NODE_PORT_MIN}-{NODE_PORT_MAX}"
        )
    if port in used or (port, protocol) in claimed:
        return "provided port is already allocated"
    return None


def _admit_cluster_ip(
    spec: Obj, old_spec: Obj, used: set[str], causes: list[dict[str, str]]
) -> None:
    wanted = spec.get("clusterIP") or old_spec.get("clusterIP")
    if old_spec.get("clusterIP") and wanted != old_spec.get("clusterIP"):
        causes.append(
            field_cause("spec.clusterIP", f'Invalid value: "{wanted}": field is immutable')
        )
        return
    if wanted == "None":
        spec["clusterIP"] = "None"
        spec["clusterIPs"] = ["None"]
    elif wanted:
        if not old_spec.get("clusterIP"):
            try:
                inside = ipaddress.ip_address(wanted) in SERVICE_CIDR
            except ValueError:
                inside = False
            if not inside:
                causes.append(
                    field_cause(
                        "spec.clusterIPs[0]",
                        f'Invalid value: "{wanted}": failed to allocate IP {wanted}: the provided '
                        f"IP ({wanted}) is not in the valid range. The range of valid IPs is "
                        f"{SERVICE_CIDR}",
                    )
                )
                return
            if wanted in used:
                causes.append(
                    field_cause(
                        "spec.clusterIPs[0]",
                        f'Invalid value: "{wanted}": failed to allocate IP {wanted}: '
                        "provided IP is already allocated",
                    )
                )
                return
        spec["clusterIP"] = wanted
        spec["clusterIPs"] = [wanted]
    else:
        ip = _allocate_ip(used | {KUBERNETES_SERVICE_IP})
        spec["clusterIP"] = ip
        spec["clusterIPs"] = [ip]
    spec.setdefault("ipFamilies", ["IPv4"])
    spec.setdefault("ipFamilyPolicy", "SingleStack")
