"""A local GCP for the demo: the Compute fake in-process, seeded to match the demo's Nodes.

The provider under demonstration is the real one, talking HTTP to the fake through the
environment the factory reads (`PROVISIONER_GCP_ENDPOINT`, `GOOGLE_CLOUD_PROJECT`,
`CLOUDSDK_COMPUTE_REGION`), exactly as it would talk to Compute Engine.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from providers.gcp import ENDPOINT_ENV, PROJECT_ENV, REGION_ENV

PROJECT = "demo-project"
REGION = "us-central1"
ZONES = ("us-central1-a", "us-central1-b", "us-central1-c")


@dataclass
class DemoCloud:
    env: dict[str, str]
    nodes: list[dict[str, Any]]
    summary: list[str] = field(default_factory=list)


def _rewrite(node: Mapping[str, Any], *, provider_id: str, zone: str, ip: str) -> dict[str, Any]:
    body = copy.deepcopy(dict(node))
    body.setdefault("spec", {})["providerID"] = provider_id
    labels = body.setdefault("metadata", {}).setdefault("labels", {})
    labels["topology.kubernetes.io/zone"] = zone
    status = body.setdefault("status", {})
    others = [a for a in status.get("addresses") or [] if a.get("type") != "InternalIP"]
    status["addresses"] = [{"type": "InternalIP", "address": ip}, *others]
    return body


@contextmanager
def demo_cloud(nodes: Sequence[Mapping[str, Any]], *, cluster_name: str) -> Iterator[DemoCloud]:
    """Start the fake, seed one VM per Node spread over three zones, yield the env to use."""
    from providers.gcp.fake import start
    from providers.gcp.seed import SeedNode, seed_cluster

    with start() as fake:
        names = [
            str((n.get("metadata") or {}).get("name") or f"node-{i}") for i, n in enumerate(nodes)
        ]
        wanted = [SeedNode(name=name, zone=ZONES[i % len(ZONES)]) for i, name in enumerate(names)]
        seeded = seed_cluster(fake.url, project=PROJECT, nodes=wanted)
        rewritten = [
            _rewrite(node, provider_id=vm.provider_id, zone=vm.zone, ip=vm.internal_ip)
            for node, vm in zip(nodes, seeded.instances, strict=True)
        ]
        env = {ENDPOINT_ENV: fake.url, PROJECT_ENV: PROJECT, REGION_ENV: REGION}
        summary = [
            f"local GCP (Compute fake) at {fake.url}, project {PROJECT}, region {REGION}",
            f"  network {seeded.network}",
            *(f"  subnetwork {link}" for link in seeded.subnetworks.values()),
        ]
        summary += [
            f"  node {vm.name} -> {vm.provider_id} ({vm.internal_ip})" for vm in seeded.instances
        ]
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            yield DemoCloud(env=env, nodes=rewritten, summary=summary)
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
