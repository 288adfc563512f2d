"""The slice of the control plane a load-balancer controller depends on.

There are no kubelets, scheduler or controller-manager here, yet the
controller under test watches what they produce: Pods placed on Nodes with
IPs and readiness, Deployments that keep their replica count, and
EndpointSlices that follow the Pods behind each Service. One reconcile loop,
woken by every change in the store, recomputes all of that from scratch; the
cluster is small, so recomputing is cheaper than being clever and cannot
drift.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import hashlib
import ipaddress
import json
import logging
from typing import Any

from provisioner.devcluster.endpointslices import (
    MANAGED_BY,
    MANAGED_BY_LABEL,
    SERVICE_NAME_LABEL,
    desired_slice,
    endpoint,
    pod_ready,
    resolve_ports,
)
from provisioner.devcluster.errors import ApiError
from provisioner.devcluster.nodes import is_ready
from provisioner.devcluster.registry import (
    Registry,
    now,
    parse_timestamp,
    timestamp,
)
from provisioner.devcluster.resources import ResourceType
from provisioner.devcluster.selectors import match_labels

Obj = dict[str, Any]
log = logging.getLogger(__name__)

_HASH_CHARS = "bcdfghjklmnpqrstvwxz2456789"


def template_hash(template: Obj) -> str:
    digest = hashlib.sha256(json.dumps(template, sort_keys=True).encode()).digest()
    return "".join(_HASH_CHARS[b % len(_HASH_CHARS)] for b in digest[:10])


def _owned_by(obj: Obj, uid: str) -> bool:
    return any(ref.get("uid") == uid for ref in obj["metadata"].get("ownerReferences") or [])


class ControlPlane:
    """Scheduler, kubelet, deployment, endpointslice and garbage collector in one loop."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._next_node = 0
        catalog = registry.catalog

        def rtype(group: str, version: str, plural: str) -> ResourceType:
            found = catalog.lookup(group, version, plural)
            assert found is not None
            return found

        self.pods = rtype("", "v1", "pods")
        self.nodes = rtype("", "v1", "nodes")
        self.services = rtype("", "v1", "services")
        self.deployments = rtype("apps", "v1", "deployments")
        self.slices = rtype("discovery.k8s.io", "v1", "endpointslices")

    async def run(self) -> None:
        store = self.registry.store
        loop = asyncio.get_running_loop()
        watcher, _ = store.watch(None, None, since=store.resource_version, loop=loop)
        try:
            while True:
                delay = self.reconcile()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(watcher.queue.get(), timeout=delay)
                # Let a burst of writes settle into one pass.
                await asyncio.sleep(0.01)
                while not watcher.queue.empty():
                    watcher.queue.get_nowait()
        finally:
            store.unwatch(watcher)

    def reconcile(self) -> float:
        """One pass over everything; returns how long to sleep if nothing changes."""
        delay = 5.0
        for step in (
            self._collect_garbage,
            self._schedule_pods,
            self._sync_deployments,
            self._sync_endpoint_slices,
        ):
            try:
                step()
            except ApiError as error:
                log.debug("reconcile step %s: %s", step.__name__, error.message)
                delay = 0.1
            except Exception:
                log.exception("reconcile step %s failed", step.__name__)
                delay = 0.5
        try:
            delay = min(delay, self._finish_terminating_pods())
        except ApiError:
            delay = 0.1
        return delay

    # Garbage collection ------------------------------------------------------

    def _collect_garbage(self) -> None:
        store = self.registry.store
        uids = {
            obj["metadata"].get("uid")
            for storage in store.storages()
            for obj in store.list(storage)
        }
        for rtype in (self.pods, self.slices):
            for obj in store.list(rtype.storage):
                refs = obj["metadata"].get("ownerReferences") or []
                if refs and not any(ref.get("uid") in uids for ref in refs):
                    meta = obj["metadata"]
                    if not meta.get("deletionTimestamp"):
                        self.registry.delete(rtype, meta["namespace"], meta["name"])

    def _finish_terminating_pods(self) -> float:
        delay = 5.0
        moment = now()
        for pod in self.registry.store.list(self.pods.storage):
            meta = pod["metadata"]
            if not meta.get("deletionTimestamp") or meta.get("finalizers"):
                continue
            due = parse_timestamp(meta["deletionTimestamp"])
            if due <= moment or not meta.get("deletionGracePeriodSeconds"):
                self.registry.finish_deletion(self.pods, meta["namespace"], meta["name"])
            else:
                delay = min(delay, (due - moment).total_seconds() + 0.05)
        return max(delay, 0.05)

    # Scheduler and kubelet -----------------------------------------------------

    def _schedule_pods(self) -> None:
        nodes = [
            n
            for n in self.registry.store.list(self.nodes.storage)
            if is_ready(n) and not n.get("spec", {}).get("unschedulable")
        ]
        all_nodes = {n["metadata"]["name"]: n for n in self.registry.store.list(self.nodes.storage)}
        pods = self.registry.store.list(self.pods.storage)
        used_ips = {p.get("status", {}).get("podIP") for p in pods}
        for pod in pods:
            meta = pod["metadata"]
            if meta.get("deletionTimestamp"):
                continue
            node_name = pod.get("spec", {}).get("nodeName")
            if not node_name:
                if not nodes:
                    continue
                node_name = nodes[self._next_node % len(nodes)]["metadata"]["name"]
                self._next_node += 1
                bound = self.registry.view(self.pods, pod)
                bound["spec"]["nodeName"] = node_name
                pod = self.registry.update(self.pods, meta["namespace"], meta["name"], bound)
            if pod.get("status", {}).get("phase", "Pending") != "Pending":
                continue
            node = all_nodes.get(node_name)
            if node is None:
                continue
            ip = self._pod_ip(node, used_ips)
            used_ips.add(ip)
            self._start_pod(pod, node, ip)

    def _pod_ip(self, node: Obj, used: set[Any]) -> str:
        cidr = ipaddress.ip_network(node.get("spec", {}).get("podCIDR") or "10.244.0.0/24")
        for offset in range(2, cidr.num_addresses - 1):
            candidate = str(cidr.network_address + offset)
            if candidate not in used:
                return candidate
        return str(cidr.network_address + 1)

    def _start_pod(self, pod: Obj, node: Obj, ip: str) -> None:
        """Report the pod the way a kubelet would once its containers are up."""
        started = timestamp()
        host_ip = next(
            (
                a["address"]
                for a in node.get("status", {}).get("addresses") or []
                if a.get("type") == "InternalIP"
            ),
            "",
        )
        conditions = [
            {"type": kind, "status": "True", "lastProbeTime": None, "lastTransitionTime": started}
            for kind in (
                "PodReadyToStartContainers",
                "Initialized",
                "Ready",
                "ContainersReady",
                "PodScheduled",
            )
        ]
        containers = pod.get("spec", {}).get("containers") or []
        status = {
            "phase": "Running",
            "conditions": conditions,
            "hostIP": host_ip,
            "hostIPs": [{"ip": host_ip}],
            "podIP": ip,
            "podIPs": [{"ip": ip}],
            "startTime": started,
            "qosClass": pod.get("status", {}).get("qosClass", "BestEffort"),
            "containerStatuses": [
                {
                    "name": c.get("name", ""),
                    "image": c.get("image", ""),
                    "imageID": "",
                    "containerID": f"containerd://{hashlib.sha256(ip.encode()).hexdigest()}",
                    "ready": True,
                    "started": True,
                    "restartCount": 0,
                    "state": {"running": {"startedAt": started}},
                }
                for c in containers
            ],
        }
        meta = pod["metadata"]
        current = self.registry.view(self.pods, pod)
        current["status"] = status
        self.registry.update(
            self.pods, meta["namespace"], meta["name"], current, subresource="status"
        )

    # Deployments ---------------------------------------------------------------

    def _sync_deployments(self) -> None:
        pods = self.registry.store.list(self.pods.storage)
        for deploy in self.registry.store.list(self.deployments.storage):
            if deploy["metadata"].get("deletionTimestamp"):
                continue
            self._sync_deployment(deploy, pods)

    def _sync_deployment(self, deploy: Obj, pods: list[Obj]) -> None:
        meta = deploy["metadata"]
        spec = deploy.get("spec", {})
        template = spec.get("template", {})
        wanted_hash = template_hash(template)
        owned = [
            p
            for p in pods
            if p["metadata"]["namespace"] == meta["namespace"] and _owned_by(p, meta["uid"])
        ]
        active = [p for p in owned if not p["metadata"].get("deletionTimestamp")]
        current = [
            p
            for p in active
            if p["metadata"].get("labels", {}).get("pod-template-hash") == wanted_hash
        ]
        outdated = [p for p in active if p not in current]
        replicas = int(spec.get("replicas", 1))
        for pod in outdated:
            self.registry.delete(self.pods, meta["namespace"], pod["metadata"]["name"])
        if len(current) > replicas:
            # Like the ReplicaSet controller: drop unready pods first, then the newest.
            ranked = sorted(
                current,
                key=lambda p: (pod_ready(p), p["metadata"].get("creationTimestamp", "")),
            )
            for pod in ranked[: len(current) - replicas]:
                self.registry.delete(self.pods, meta["namespace"], pod["metadata"]["name"])
                current.remove(pod)
        for _ in range(replicas - len(current)):
            current.append(self._create_pod(deploy, wanted_hash))
        self._update_deployment_status(deploy, current, outdated)

    def _create_pod(self, deploy: Obj, pod_hash: str) -> Obj:
        meta = deploy["metadata"]
        template = copy.deepcopy(deploy["spec"].get("template", {}))
        template_meta = template.get("metadata") or {}
        pod: Obj = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "generateName": f"{meta['name']}-{pod_hash}-",
                "namespace": meta["namespace"],
                "labels": {**(template_meta.get("labels") or {}), "pod-template-hash": pod_hash},
                "annotations": template_meta.get("annotations") or {},
                "ownerReferences": [
                    {
                        "apiVersion": "apps/v1",
                        "kind": "Deployment",
                        "name": meta["name"],
                        "uid": meta["uid"],
                        "controller": True,
                        "blockOwnerDeletion": True,
                    }
                ],
            },
            "spec": template.get("spec") or {},
        }
        if not pod["metadata"]["annotations"]:
            del pod["metadata"]["annotations"]
        return self.registry.create(self.pods, meta["namespace"], pod)

    def _update_deployment_status(self, deploy: Obj, current: list[Obj], old: list[Obj]) -> None:
        meta = deploy["metadata"]
        ready = sum(1 for p in current if pod_ready(p))
        replicas = int(deploy.get("spec", {}).get("replicas", 1))
        previous = deploy.get("status") or {}
        available = ready >= replicas
        old_conditions = {c.get("type"): c for c in previous.get("conditions") or []}

        def condition(kind: str, ok: bool, reason: str, message: str) -> Obj:
            before = old_conditions.get(kind) or {}
            status = "True" if ok else "False"
            stamp = before.get("lastTransitionTime") if before.get("status") == status else None
            moment = stamp or timestamp()
            return {
                "type": kind,
                "status": status,
                "reason": reason,
                "message": message,
                "lastUpdateTime": before.get("lastUpdateTime", moment) if stamp else moment,
                "lastTransitionTime": moment,
            }

        status: Obj = {
            "observedGeneration": meta.get("generation", 1),
            "replicas": len(current) + len(old),
            "updatedReplicas": len(current),
            "readyReplicas": ready,
            "availableReplicas": ready,
            "conditions": [
                condition(
                    "Available",
                    available,
                    "MinimumReplicasAvailable" if available else "MinimumReplicasUnavailable",
                    "Deployment has minimum availability."
                    if available
                    else "Deployment does not have minimum availability.",
                ),
                condition(
                    "Progressing",
                    True,
                    "NewReplicaSetAvailable",
                    f'ReplicaSet "{meta["name"]}" has successfully progressed.',
                ),
            ],
        }
        if len(current) + len(old) - ready:
            status["unavailableReplicas"] = len(current) + len(old) - ready
        for key in ("readyReplicas", "availableReplicas"):
            if not status[key]:
                del status[key]
        if status != previous:
            body = self.registry.view(self.deployments, deploy)
            body["status"] = status
            self.registry.update(
                self.deployments, meta["namespace"], meta["name"], body, subresource="status"
            )

    # EndpointSlices --------------------------------------------------------------

    def _sync_endpoint_slices(self) -> None:
        store = self.registry.store
        pods = store.list(self.pods.storage)
        nodes = {n["metadata"]["name"]: n for n in store.list(self.nodes.storage)}
        slices = [
            s
            for s in store.list(self.slices.storage)
            if s["metadata"].get("labels", {}).get(MANAGED_BY_LABEL) == MANAGED_BY
        ]
        for service in store.list(self.services.storage):
            meta = service["metadata"]
            mine = [
                s
                for s in slices
                if s["metadata"]["namespace"] == meta["namespace"]
                and s["metadata"].get("labels", {}).get(SERVICE_NAME_LABEL) == meta["name"]
            ]
            spec = service.get("spec", {})
            if not spec.get("selector") or spec.get("type") == "ExternalName":
                for stale in mine:
                    self._delete_slice(stale)
                continue
            self._sync_service_slices(service, pods, nodes, mine)

    def _delete_slice(self, obj: Obj) -> None:
        meta = obj["metadata"]
        with contextlib.suppress(ApiError):
            self.registry.delete(self.slices, meta["namespace"], meta["name"])

    def _sync_service_slices(
        self, service: Obj, pods: list[Obj], nodes: dict[str, Obj], existing: list[Obj]
    ) -> None:
        meta = service["metadata"]
        spec = service.get("spec", {})
        groups: dict[str, tuple[list[Obj] | None, list[Obj]]] = {}
        ports: list[Obj] | None
        for pod in sorted(pods, key=lambda p: p["metadata"]["name"]):
            if pod["metadata"]["namespace"] != meta["namespace"]:
                continue
            if not match_labels(spec.get("selector"), pod["metadata"].get("labels")):
                continue
            if not pod.get("status", {}).get("podIP"):
                continue
            ports = resolve_ports(spec.get("ports") or [], pod)
            key = json.dumps(ports, sort_keys=True)
            groups.setdefault(key, (ports, []))[1].append(
                endpoint(pod, nodes, publish=bool(spec.get("publishNotReadyAddresses")))
            )
        if not groups:
            groups[json.dumps(None)] = (None, [])
        unmatched = list(existing)
        for ports, endpoints in groups.values():
            match = next((s for s in unmatched if s.get("ports") == ports), None)
            if match is None and unmatched and ports is None:
                match = unmatched[0]
            desired = desired_slice(service, ports, endpoints)
            if match is None:
                self.registry.create(self.slices, meta["namespace"], desired)
                continue
            unmatched.remove(match)
            if (
                match.get("endpoints") != desired["endpoints"]
                or match.get("ports") != desired.get("ports")
                or match["metadata"].get("labels") != desired["metadata"]["labels"]
            ):
                body = self.registry.view(self.slices, match)
                body["endpoints"] = desired["endpoints"]
                body["metadata"]["labels"] = desired["metadata"]["labels"]
                if ports is None:
                    body.pop("ports", None)
                else:
                    body["ports"] = ports
                self.registry.update(
                    self.slices, meta["namespace"], match["metadata"]["name"], body
                )
        for stale in unmatched:
            self._delete_slice(stale)
