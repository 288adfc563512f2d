"""A moto server in its own process, with moto's request recorder on.

The recorder sees every request the server receives, so the call counts the tests assert
are independent of the provider's own counter.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path
from urllib.parse import parse_qs

READ_PREFIXES = ("Describe", "Get", "List")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _operation(entry: dict[str, object]) -> str:
    headers = entry.get("headers") or {}
    assert isinstance(headers, dict)
    target = headers.get("X-Amz-Target") or headers.get("x-amz-target")
    if isinstance(target, str):
        return target.rsplit(".", 1)[-1]
    body = entry.get("body") or ""
    assert isinstance(body, str)
    if entry.get("body_encoded"):
        body = base64.b64decode(body).decode("utf-8", "replace")
    action = parse_qs(body).get("Action")
    return action[0] if action else f"{entry.get('method')} {entry.get('url')}"


class MotoServer:
    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.recording = directory / "moto-recording.jsonl"
        env = dict(os.environ)
        env.update(
            MOTO_ENABLE_RECORDING="True",
            MOTO_RECORDER_FILEPATH=str(self.recording),
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
        )
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(self.url + "/moto-api/", timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.stop()
                    raise RuntimeError("moto server did not start") from None
                time.sleep(0.05)

    def env(self, region: str = "us-east-1") -> dict[str, str]:
        return {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_DEFAULT_REGION": region,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
        }

    def clear_recording(self) -> None:
        self.recording.write_text("")

    def calls(self) -> list[str]:
        if not self.recording.exists():
            return []
        calls = []
        for line in self.recording.read_text().splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue  # the server is still writing this line
            calls.append(_operation(entry))
        return calls

    def mutating(self) -> Counter[str]:
        return Counter(op for op in self.calls() if not op.startswith(READ_PREFIXES))

    def reset(self) -> None:
        request = urllib.request.Request(self.url + "/moto-api/reset", method="POST")
        urllib.request.urlopen(request, timeout=10).close()
        self.clear_recording()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
