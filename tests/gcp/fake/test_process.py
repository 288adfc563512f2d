"""The fake as a process, and its admin endpoints over plain HTTP."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.request

import pytest
from google.api_core import exceptions
from google.cloud import compute_v1

from providers.gcp.fake import FakeCompute
from providers.gcp.seed import client_kwargs
from tests.gcp.fake.builders import PROJECT, Clients, wait


def http(method: str, url: str, body: object = None) -> object:
    data = json.dumps(body).encode() if body is not None else None
    with urllib.request.urlopen(urllib.request.Request(url, data=data, method=method)) as r:
        return json.load(r)


def test_process_prints_one_line_serves_and_exits_zero_on_sigterm() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "providers.gcp.fake", "--host", "127.0.0.1", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and int(url.rsplit(":", 1)[1]) > 0
        client = compute_v1.NetworksClient(**client_kwargs(url))
        wait(
            client.insert(
                project=PROJECT,
                network_resource=compute_v1.Network(name="net", auto_create_subnetworks=False),
            )
        )
        assert [n.name for n in client.list(project=PROJECT)] == ["net"]
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert out == ""


def test_call_log_and_reset_over_http(fake: FakeCompute, clients: Clients) -> None:
    wait(
        clients.HealthChecksClient.insert(
            project=PROJECT, health_check_resource=(compute_v1.HealthCheck(name="hc", type_="TCP"))
        )
    )
    clients.HealthChecksClient.get(project=PROJECT, health_check="hc")
    calls = http("GET", f"{fake.url}/_fake/calls")
    assert calls == {
        "calls": [
            {
                "method": "POST",
                "path": f"/compute/v1/projects/{PROJECT}/global/healthChecks",
                "operation": "healthChecks.insert",
                "project": PROJECT,
                "status": 200,
            },
            {
                "method": "GET",
                "path": f"/compute/v1/projects/{PROJECT}/global/healthChecks/hc",
                "operation": "healthChecks.get",
                "project": PROJECT,
                "status": 200,
            },
        ]
    }
    assert fake.call_counts()["healthChecks.get"] == 1
    http("DELETE", f"{fake.url}/_fake/calls")
    assert fake.calls() == []
    http("POST", f"{fake.url}/_fake/reset", {})
    assert list(clients.HealthChecksClient.list(project=PROJECT)) == []


def test_unmodelled_method_is_501(fake: FakeCompute, clients: Clients) -> None:

    with pytest.raises(exceptions.MethodNotImplemented, match="not modelled"):
        clients.NetworksClient.switch_to_custom_mode(project=PROJECT, network="n")
    assert fake.calls()[-1].status == 501
