"""The README's first command: the live demo, and its `--serve` form driven with kubectl."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest

from tests.e2e.controller import wait_for

pytestmark = pytest.mark.e2e


def test_demo_provisions_examples_looks_again_and_cleans_up() -> None:
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
    for key in ("Service/default/web", "Service/default/dns", "Service/default/api"):
        assert f"{key} provisioned" in out, out
        assert f"{key} deleted" in out, out
    for key in ("Ingress/default/storefront", "IngressGroup/shared"):
        assert f"{key} provisioned" in out, out
        assert f"{key} deleted" in out, out
    # Every status line says how long it took; the group's two members share one ALB.
    assert out.count(".elb.amazonaws.com (") == 6, out
    site = out.split("Ingress/default/site: ")[1].split(" ")[0]
    assert site == out.split("Ingress/shop/cart: ")[1].split(" ")[0]
    second_look = out.split("cloud calls for the second look:")[1].splitlines()[0]
    assert "0 changing anything" in second_look
    assert "load balancers left in the cloud for this cluster: 0" in out


def test_demo_json_reports_each_object_and_the_calls() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "provisioner.cli", "demo", "-o", "json"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    names = sorted(o["name"] for o in body["objects"] if o["kind"] == "Service")
    assert names == ["api", "dns", "web"]
    ingresses = sorted(o["name"] for o in body["objects"] if o["kind"] == "Ingress")
    assert ingresses == ["cart", "site", "storefront"]
    for entry in body["objects"]:
        assert entry["status"]["loadBalancer"]["ingress"][0]["hostname"]
    writes = {
        op: n
        for op, n in body["calls"]["second_look"].items()
        if not op.startswith(("Describe", "Get", "List"))
    }
    assert writes == {}
    assert body["calls"]["provisioning"]["CreateLoadBalancer"] == 5  # 3 NLBs, 2 ALBs
    assert body["left"] == []


def _read_env(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        name, _, value = line.partition("=")
        assert name and "export" not in name and not value.startswith(('"', "'")), line
        values[name] = value
    return values


def test_demo_serve_with_kubectl(tmp_path: Path) -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.fail("kubectl is required for this test but was not found on PATH")
    env_file = tmp_path / "demo.env"
    log = (tmp_path / "demo.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "provisioner.cli", "demo", "--serve", "--env-file", str(env_file)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(env_file.exists, timeout=120, what="the env file")
        values = _read_env(env_file)
        for name in (
            "KUBECONFIG",
            "AWS_ENDPOINT_URL",
            "AWS_DEFAULT_REGION",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
        ):
            assert values.get(name), (name, values)
        env = {**os.environ, **values}

        def run(*args: str) -> str:
            done = subprocess.run(
                [kubectl, *args], capture_output=True, text=True, env=env, timeout=60, check=False
            )
            assert done.returncode == 0, done.stderr
            return done.stdout

        # The examples are already provisioned when the env file appears.
        jsonpath = "jsonpath={.status.loadBalancer.ingress[0].hostname}"
        assert run("get", "service", "web", "-o", jsonpath)
        manifest = tmp_path / "mine.yaml"
        manifest.write_text(
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: mine\n"
            "  annotations: {provisioner.io/scheme: internet-facing}\n"
            "spec:\n  type: LoadBalancer\n  loadBalancerClass: provisioner.io/nlb\n"
            "  selector: {app: mine}\n  ports: [{port: 8080, targetPort: 8080}]\n"
        )
        started = time.monotonic()
        run("apply", "-f", str(manifest))
        host = wait_for(lambda: run("get", "service", "mine", "-o", jsonpath), what="hostname")
        assert time.monotonic() - started < 20
        elbv2 = boto3.client(
            "elbv2",
            endpoint_url=values["AWS_ENDPOINT_URL"],
            region_name=values["AWS_DEFAULT_REGION"],
            aws_access_key_id=values["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=values["AWS_SECRET_ACCESS_KEY"],
        )
        found = [
            lb for lb in elbv2.describe_load_balancers()["LoadBalancers"] if lb["DNSName"] == host
        ]
        assert found and found[0]["Scheme"] == "internet-facing"
        run("delete", "-f", str(manifest), "--wait=true", "--timeout=60s")
        names = {lb["DNSName"] for lb in elbv2.describe_load_balancers()["LoadBalancers"]}
        assert host not in names
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=60)
        log.close()
    assert code == 0, (tmp_path / "demo.log").read_text()
    assert not env_file.exists()
