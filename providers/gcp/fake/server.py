"""The HTTP side: a stdlib ThreadingHTTPServer speaking Compute's JSON, plus admin paths.

Admin endpoints (not part of the Compute API, never in the call log):

- ``POST /_fake/reset``: forget every project, the call log and the pending switch;
- ``GET /_fake/calls``: ``{"calls": [{"method", "path", "operation", "project", "status"}]}``;
- ``DELETE /_fake/calls``: clear the call log;
- ``POST /_fake/pending`` with ``{"polls": N}``: operations started afterwards stay RUNNING
  for N polls (0 = DONE at once);
- ``POST /_fake/health`` with ``{"instance": <link or path>, "state": "UNHEALTHY"}``: what
  backendServices.getHealth reports for that instance.
"""

from __future__ import annotations

import json
import socket
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from providers.gcp.fake.api import RouteError, handle
from providers.gcp.fake.errors import ApiError, Invalid, NotFound
from providers.gcp.fake.store import Call, Store


def _failure(err: BaseException) -> tuple[int, object]:
    """An ApiError as itself; anything else as a 500 the client shows with its message."""
    if isinstance(err, ApiError):
        return err.status, err.body()
    message = f"The fake failed on this request: {err!r}"
    return 500, {
        "error": {
            "code": 500,
            "message": message,
            "errors": [{"message": message, "domain": "global", "reason": "backendError"}],
        }
    }


class ComputeServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], store: Store) -> None:
        super().__init__(address, ComputeHandler)
        self.store = store


class ComputeHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: ComputeServer

    def setup(self) -> None:
        """Headers and body go out in two writes; without TCP_NODELAY, Nagle's algorithm and
        the client's delayed ACK hold every response back ~40 ms on a kept-alive connection."""
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the call log is the record."""

    def _send(self, status: int, payload: object) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw.strip():
            return {}
        try:
            return json.loads(raw)
        except ValueError:
            raise Invalid("Invalid JSON payload received.") from None

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        store = self.server.store
        if parts.path.startswith("/_fake/"):
            self._admin(parts.path)
            return
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        operation, project, status = "", "", 200
        try:
            body = self._body()
            if not isinstance(body, dict):
                raise Invalid("Invalid JSON payload received: expected an object.")
            route, result = handle(store, self.command, parts.path, query, body)
            operation, project = route.operation, route.project
            payload: object = result
        except RouteError as err:
            operation, project = err.route.operation, err.route.project
            status, payload = _failure(err.error)
        except Exception as err:  # every failure must reach the client as a Google error
            status, payload = _failure(err)
        store.record(Call(self.command, parts.path, operation, project, status))
        self._send(status, payload)

    def _admin(self, path: str) -> None:
        store = self.server.store
        body = self._body()
        if path == "/_fake/reset" and self.command == "POST":
            store.reset()
            self._send(200, {})
        elif path == "/_fake/calls" and self.command == "GET":
            with store.lock:
                calls = [c.to_json() for c in store.call_log]
            self._send(200, {"calls": calls})
        elif path == "/_fake/calls" and self.command == "DELETE":
            with store.lock:
                store.call_log.clear()
            self._send(200, {})
        elif path == "/_fake/pending" and self.command == "POST":
            polls = body.get("polls")
            if not isinstance(polls, int) or polls < 0:
                self._send(400, Invalid("'polls' must be a whole number >= 0").body())
                return
            with store.lock:
                store.pending_polls = polls
            self._send(200, {"polls": polls})
        elif path == "/_fake/health" and self.command == "POST":
            try:
                store.set_health(str(body.get("instance", "")), str(body.get("state", "")))
            except ApiError as err:
                self._send(err.status, err.body())
                return
            self._send(200, {})
        else:
            self._send(404, NotFound(f"No admin endpoint {self.command} {path}").body())

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()
