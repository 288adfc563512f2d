"""The long-running form: ``python -m provisioner.devcluster --serve --env-file``."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest


def _read_env(path: Path) -> dict[str, str]:
    lines = [line for line in path.read_text().splitlines() if line]
    return dict(line.split("=", 1) for line in lines)


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_serve_writes_env_file_and_cleans_up(tmp_path: Path, stop_signal: int) -> None:
    env_file = tmp_path / "cluster.env"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "provisioner.devcluster",
            "--serve",
            "--env-file",
            str(env_file),
            "--nodes",
            "2",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 20
        while not env_file.exists():
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the env file never appeared"
            time.sleep(0.05)
        env = _read_env(env_file)
        assert Path(env["KUBECONFIG"]).is_file()
        # The file appears only once the server answers.
        with urllib.request.urlopen(env["KUBE_API_URL"] + "/api/v1/nodes", timeout=5) as reply:
            nodes = json.loads(reply.read())
        assert [n["metadata"]["name"] for n in nodes["items"]] == ["node-1", "node-2"]
        process.send_signal(stop_signal)
        assert process.wait(timeout=15) == 0
        assert not env_file.exists()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
