"""The cluster's Nodes, described by the caller so a cloud fake can match them.

A load-balancer controller registers instances by providerID and spreads
targets by zone, so tests need to know exactly which nodes exist. A
:class:`NodeSpec` says what a node looks like; anything left out is generated
the same way every time from the node's position.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

Obj = dict[str, Any]

DEFAULT_ZONES = ("us-east-1a", "us-east-1b", "us-east-1c")


@dataclass(frozen=True)
class NodeSpec:
    """One node; every field is optional and defaults from the node's index.

    Defaults for the n-th node (1-based): name ``node-n``, zone cycling
    through us-east-1a/b/c, providerID ``aws:///<zone>/i-<17 hex>``,
    InternalIP ``10.0.<n // 250>.<n % 250 + 4>``, pod CIDR ``10.244.<n>.0/24``.
    """

    name: str | None = None
    zone: str | None = None
    provider_id: str | None = None
    internal_ip: str | None = None
    pod_cidr: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    ready: bool = True
    instance_type: str = "m5.large"


def _region(zone: str) -> str:
    return zone[:-1] if zone and zone[-1].isalpha() else zone


def resolve(specs: list[NodeSpec]) -> list[NodeSpec]:
    """Fill in every default, so callers can read back what was created."""
    resolved = []
    for index, spec in enumerate(specs, start=1):
        name = spec.name or f"node-{index}"
        zone = spec.zone or DEFAULT_ZONES[(index - 1) % len(DEFAULT_ZONES)]
        instance = "i-" + hashlib.sha256(name.encode()).hexdigest()[:17]
        resolved.append(
            NodeSpec(
                name=name,
                zone=zone,
                provider_id=spec.provider_id or f"aws:///{zone}/{instance}",
                internal_ip=spec.internal_ip or f"10.0.{index // 250}.{index % 250 + 4}",
                pod_cidr=spec.pod_cidr or f"10.244.{index % 256}.0/24",
                labels=dict(spec.labels),
                ready=spec.ready,
                instance_type=spec.instance_type,
            )
        )
    return resolved


def node_object(spec: NodeSpec, *, created: str) -> Obj:
    """The Node as a kubelet and the cloud controller manager would leave it."""
    if not (spec.name and spec.zone and spec.internal_ip and spec.pod_cidr):
        raise ValueError("resolve() the NodeSpec before building its Node")
    labels = {
        "kubernetes.io/hostname": spec.name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux",
        "beta.kubernetes.io/arch": "amd64",
        "topology.kubernetes.io/zone": spec.zone,
        "topology.kubernetes.io/region": _region(spec.zone),
        "node.kubernetes.io/instance-type": spec.instance_type,
        **spec.labels,
    }
    condition_time = created
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": spec.name, "labels": labels},
        "spec": {
            "podCIDR": spec.pod_cidr,
            "podCIDRs": [spec.pod_cidr],
            "providerID": spec.provider_id,
        },
        "status": {
            "addresses": [
                {"type": "InternalIP", "address": spec.internal_ip},
                {"type": "Hostname", "address": spec.name},
            ],
            "capacity": {"cpu": "2", "memory": "8Gi", "pods": "110"},
            "allocatable": {"cpu": "2", "memory": "8Gi", "pods": "110"},
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True" if spec.ready else "False",
                    "reason": "KubeletReady" if spec.ready else "KubeletNotReady",
                    "message": "kubelet is posting ready status",
                    "lastHeartbeatTime": condition_time,
                    "lastTransitionTime": condition_time,
                }
            ],
            "nodeInfo": {
                "architecture": "amd64",
                "operatingSystem": "linux",
                "kubeletVersion": "v1.32.0",
                "kubeProxyVersion": "v1.32.0",
                "containerRuntimeVersion": "containerd://1.7.0",
                "osImage": "Dev Cluster Linux",
                "kernelVersion": "6.1.0",
                "machineID": "",
                "systemUUID": "",
                "bootID": "",
            },
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
        },
    }


def is_ready(node: Obj) -> bool:
    for condition in node.get("status", {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return bool(condition.get("status") == "True")
    return False
