"""Server-side printing: the ``Table`` form of lists that ``kubectl get`` asks for.

kubectl prints whatever columns the server's Table response carries; without
one it can only show NAME and AGE. The demo is read through ``kubectl get``,
so the kinds a load-balancer demo shows get the same columns as on a real
cluster (a Service's EXTERNAL-IP above all); other kinds get Name and Age.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from provisioner.devcluster.resources import ResourceType

Obj = dict[str, Any]
Column = tuple[str, str, Callable[[Obj], Any]]


def _age(obj: Obj) -> str:
    """A short human duration, computed server-side like the real printers do."""
    text = obj.get("metadata", {}).get("creationTimestamp") or ""
    try:
        created = datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return "<unknown>"
    seconds = max(0, int((datetime.now(UTC) - created).total_seconds()))
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 600:
        return f"{seconds // 60}m{seconds % 60}s" if seconds % 60 else f"{seconds // 60}m"
    if seconds < 3 * 3600:
        return f"{seconds // 60}m"
    if seconds < 48 * 3600:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def _service_external(obj: Obj) -> str:
    spec = obj.get("spec", {})
    ingress = obj.get("status", {}).get("loadBalancer", {}).get("ingress") or []
    names = [i.get("ip") or i.get("hostname") or "" for i in ingress]
    if names:
        return ",".join(names)
    if spec.get("externalIPs"):
        return ",".join(spec["externalIPs"])
    if spec.get("type") == "LoadBalancer":
        return "<pending>"
    if spec.get("type") == "ExternalName":
        return str(spec.get("externalName", ""))
    return "<none>"


def _service_ports(obj: Obj) -> str:
    ports = []
    for port in obj.get("spec", {}).get("ports") or []:
        text = f"{port.get('port')}"
        if port.get("nodePort"):
            text += f":{port['nodePort']}"
        ports.append(f"{text}/{port.get('protocol', 'TCP')}")
    return ",".join(ports) or "<none>"


def _pod_ready(obj: Obj) -> str:
    statuses = obj.get("status", {}).get("containerStatuses") or []
    total = len(obj.get("spec", {}).get("containers") or [])
    return f"{sum(1 for s in statuses if s.get('ready'))}/{total}"


def _pod_status(obj: Obj) -> str:
    if obj.get("metadata", {}).get("deletionTimestamp"):
        return "Terminating"
    return str(obj.get("status", {}).get("phase", "Pending"))


def _node_status(obj: Obj) -> str:
    for condition in obj.get("status", {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            ready = "Ready" if condition.get("status") == "True" else "NotReady"
            if obj.get("spec", {}).get("unschedulable"):
                ready += ",SchedulingDisabled"
            return ready
    return "Unknown"


def _internal_ip(obj: Obj) -> str:
    for address in obj.get("status", {}).get("addresses") or []:
        if address.get("type") == "InternalIP":
            return str(address.get("address", ""))
    return "<none>"


def _ingress_address(obj: Obj) -> str:
    ingress = obj.get("status", {}).get("loadBalancer", {}).get("ingress") or []
    return ",".join(i.get("ip") or i.get("hostname") or "" for i in ingress)


def _ingress_hosts(obj: Obj) -> str:
    hosts = [r.get("host") for r in obj.get("spec", {}).get("rules") or [] if r.get("host")]
    return ",".join(hosts) or "*"


def _slice_endpoints(obj: Obj) -> str:
    addresses = [a for e in obj.get("endpoints") or [] for a in e.get("addresses") or []]
    if not addresses:
        return "<unset>"
    shown = ",".join(addresses[:3])
    return shown + (f" + {len(addresses) - 3} more..." if len(addresses) > 3 else "")


COLUMNS: dict[tuple[str, str], list[Column]] = {
    ("", "services"): [
        ("Type", "string", lambda o: o.get("spec", {}).get("type", "")),
        ("Cluster-IP", "string", lambda o: o.get("spec", {}).get("clusterIP", "")),
        ("External-IP", "string", _service_external),
        ("Port(s)", "string", _service_ports),
    ],
    ("", "pods"): [
        ("Ready", "string", _pod_ready),
        ("Status", "string", _pod_status),
        ("Restarts", "string", lambda o: "0"),
        ("IP", "string", lambda o: o.get("status", {}).get("podIP", "<none>")),
        ("Node", "string", lambda o: o.get("spec", {}).get("nodeName", "<none>")),
    ],
    ("", "nodes"): [
        ("Status", "string", _node_status),
        ("Internal-IP", "string", _internal_ip),
        (
            "Zone",
            "string",
            lambda o: o["metadata"].get("labels", {}).get("topology.kubernetes.io/zone", ""),
        ),
    ],
    ("apps", "deployments"): [
        (
            "Ready",
            "string",
            lambda o: (
                f"{o.get('status', {}).get('readyReplicas', 0)}/"
                f"{o.get('spec', {}).get('replicas', 0)}"
            ),
        ),
        ("Up-to-date", "integer", lambda o: o.get("status", {}).get("updatedReplicas", 0)),
        ("Available", "integer", lambda o: o.get("status", {}).get("availableReplicas", 0)),
    ],
    ("networking.k8s.io", "ingresses"): [
        ("Class", "string", lambda o: o.get("spec", {}).get("ingressClassName", "<none>")),
        ("Hosts", "string", _ingress_hosts),
        ("Address", "string", _ingress_address),
    ],
    ("discovery.k8s.io", "endpointslices"): [
        ("AddressType", "string", lambda o: o.get("addressType", "")),
        (
            "Ports",
            "string",
            lambda o: ",".join(str(p.get("port")) for p in o.get("ports") or []) or "<unset>",
        ),
        ("Endpoints", "string", _slice_endpoints),
    ],
    ("", "namespaces"): [("Status", "string", lambda o: o.get("status", {}).get("phase", ""))],
}


def wants_table(accept: str) -> bool:
    return "as=Table" in accept


def _row_object(obj: Obj, include: str) -> Obj | None:
    if include == "None":
        return None
    if include == "Object":
        return obj
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": obj.get("metadata", {}),
    }


def table(rtype: ResourceType, items: list[Obj], *, version: str, include: str) -> Obj:
    """Render objects as a meta.k8s.io/v1 Table, Name first and Age last."""
    extra = COLUMNS.get(rtype.storage, [])
    definitions = [
        {"name": "Name", "type": "string", "format": "name", "description": "", "priority": 0}
    ]
    definitions += [
        {"name": name, "type": kind, "format": "", "description": "", "priority": 0}
        for name, kind, _ in extra
    ]
    definitions.append(
        {"name": "Age", "type": "string", "format": "", "description": "", "priority": 0}
    )
    rows = []
    for obj in items:
        cells: list[Any] = [obj.get("metadata", {}).get("name", "")]
        cells += [render(obj) for _, _, render in extra]
        cells.append(_age(obj))
        row: Obj = {"cells": cells}
        shown = _row_object(obj, include)
        if shown is not None:
            row["object"] = shown
        rows.append(row)
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": version},
        "columnDefinitions": definitions,
        "rows": rows,
    }
