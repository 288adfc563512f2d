"""The deploy manifests grant what the controller calls, and no more kinds than that."""

from __future__ import annotations

from pathlib import Path

import yaml

from provisioner.kube.api import PERMISSIONS

DEPLOY = Path(__file__).parents[2] / "deploy" / "controller.yaml"


def _granted() -> set[tuple[str, str, str]]:
    granted: set[tuple[str, str, str]] = set()
    for doc in yaml.safe_load_all(DEPLOY.read_text()):
        if doc and doc["kind"] in ("ClusterRole", "Role"):
            for rule in doc["rules"]:
                for group in rule["apiGroups"]:
                    for resource in rule["resources"]:
                        for verb in rule["verbs"]:
                            granted.add((group, resource, verb))
    return granted


def test_every_call_the_controller_makes_is_granted() -> None:
    missing = sorted(PERMISSIONS - _granted())
    assert missing == []


def test_nothing_beyond_what_the_controller_calls_is_granted() -> None:
    extra = sorted(_granted() - PERMISSIONS)
    assert extra == []


def test_the_deployment_elects_a_leader_and_probes_health() -> None:
    docs = {d["kind"]: d for d in yaml.safe_load_all(DEPLOY.read_text()) if d}
    container = docs["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    assert "--leader-elect" in container["args"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
