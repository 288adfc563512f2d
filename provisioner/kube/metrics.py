"""Prometheus metrics and the health endpoints.

The metrics answer the questions an operator asks of a load-balancer controller: is it
keeping up (queue depth and latency), is it succeeding (reconciles by result), and what is it
costing the cloud account (API calls by operation and outcome, the figure that hits rate
limits first). A private registry keeps the process's metrics separate from anything else
that imports prometheus_client.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.reconciles = Counter(
            "provisioner_reconciles",
            "Reconciles by result (success, invalid, error).",
            ["result"],
            registry=self.registry,
        )
        self.reconcile_seconds = Histogram(
            "provisioner_reconcile_duration_seconds",
            "Time one reconcile took, cloud calls included.",
            registry=self.registry,
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
        )
        self.queue_depth = Gauge(
            "provisioner_queue_depth", "Keys waiting for a worker.", registry=self.registry
        )
        self.queue_latency = Histogram(
            "provisioner_queue_latency_seconds",
            "Time a key waited in the queue before a worker took it.",
            registry=self.registry,
            buckets=(0.001, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60),
        )
        self.cloud_calls = Counter(
            "provisioner_cloud_api_calls",
            "Cloud API calls attempted, by service, operation and outcome.",
            ["service", "operation", "outcome"],
            registry=self.registry,
        )
        self.leader = Gauge(
            "provisioner_leader", "1 while this replica holds the lease.", registry=self.registry
        )
        self._seen: dict[tuple[str, str, str], int] = {}
        self._lock = threading.Lock()

    def record_calls(self, counts: Mapping[tuple[str, str, str], int]) -> None:
        """Add what the provider's cumulative counters gained since the last look."""
        with self._lock:
            for labels, total in counts.items():
                gained = total - self._seen.get(labels, 0)
                if gained > 0:
                    self.cloud_calls.labels(*labels).inc(gained)
                    self._seen[labels] = total

    def render(self) -> bytes:
        return generate_latest(self.registry)


def parse_addr(value: str) -> tuple[str, int] | None:
    """`:8080`, `127.0.0.1:8080` or `0` (off), as the flag is written for controllers."""
    value = value.strip()
    if value in ("0", ""):
        return None
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"{value!r}: expected HOST:PORT, :PORT or 0 to turn it off")
    return (host or "0.0.0.0", int(port))


Route = Callable[[], tuple[int, str, bytes]]


def serve(addr: tuple[str, int], routes: Mapping[str, Route]) -> ThreadingHTTPServer:
    """Serve GET on the given paths from a daemon thread; returns the server (port bound)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            route = routes.get(self.path.split("?", 1)[0])
            if route is None:
                code, content_type, body = 404, "text/plain", b"not found\n"
            else:
                code, content_type, body = route()
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(addr, Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="http", daemon=True).start()
    return server


def metrics_routes(metrics: Metrics) -> dict[str, Route]:
    return {"/metrics": lambda: (200, CONTENT_TYPE_LATEST, metrics.render())}


def health_routes(healthy: Callable[[], bool], ready: Callable[[], bool]) -> dict[str, Route]:
    def check(probe: Callable[[], bool]) -> Route:
        return lambda: (200, "text/plain", b"ok\n") if probe() else (503, "text/plain", b"no\n")

    return {"/healthz": check(healthy), "/readyz": check(ready)}
