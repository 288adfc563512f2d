"""The README's first command: the demo provisions examples/ and converges."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.e2e


def test_demo_provisions_every_example_and_a_second_apply_changes_nothing() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "provisioner.cli", "demo"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    out = done.stdout
    for name in ("Service/default/web", "Service/default/dns", "Service/default/api"):
        assert name in out
    assert out.count(".elb.amazonaws.com") >= 3
    assert "TCP_UDP:53" in out
    assert "No changes: the cloud already matches." in out
    assert "cloud calls for apply again:" in out
    assert "0 changing anything" in out.split("cloud calls for apply again:")[1]


def test_demo_json_lists_each_service_with_its_hostname() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "provisioner.cli", "demo", "-o", "json"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    names = [o["name"] for o in body["objects"]]
    assert names == ["api", "dns", "web"]
    for entry in body["objects"]:
        assert entry["status"]["loadBalancer"]["ingress"][0]["hostname"]
