"""Which nodes receive load-balancer traffic.

Readiness is deliberately not a filter: upstream Kubernetes (KEP-3458) found that dropping
NotReady nodes deregisters a whole fleet during an API partition, so the health check decides.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from provisioner.model import Node
from provisioner.translate.objects import Obj, labels_of, name_of, spec_of, status_of

EXCLUDE_LABEL = "node.kubernetes.io/exclude-from-external-load-balancers"
CONTROL_PLANE_LABELS = ("node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master")
AUTOSCALER_TAINT = "ToBeDeletedByClusterAutoscaler"
ZONE_LABELS = ("topology.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/zone")


def is_eligible(node: Obj) -> bool:
    labels = labels_of(node)
    if EXCLUDE_LABEL in labels or any(label in labels for label in CONTROL_PLANE_LABELS):
        return False
    taints = spec_of(node).get("taints") or []
    if any(isinstance(t, Mapping) and t.get("key") == AUTOSCALER_TAINT for t in taints):
        return False
    return bool(spec_of(node).get("providerID"))


def build_node(node: Obj) -> Node:
    labels = labels_of(node)
    zone = next((labels[label] for label in ZONE_LABELS if label in labels), None)
    address = None
    for item in status_of(node).get("addresses") or []:
        if isinstance(item, Mapping) and item.get("type") == "InternalIP":
            address = str(item.get("address"))
            break
    return Node(
        name=name_of(node),
        provider_id=str(spec_of(node)["providerID"]),
        zone=zone,
        address=address,
    )


def build_nodes(
    nodes: Iterable[Obj], *, labels: Mapping[str, str] | None = None
) -> tuple[Node, ...]:
    """Eligible nodes sorted by name; `labels` narrows them (target-node-labels)."""
    chosen = [
        build_node(node)
        for node in nodes
        if is_eligible(node) and all(labels_of(node).get(k) == v for k, v in (labels or {}).items())
    ]
    return tuple(sorted(chosen, key=lambda n: n.name))
