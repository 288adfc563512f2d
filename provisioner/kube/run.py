"""`provisioner run`: the controller process, from flags to a clean exit.

Start order matters for the promises made to operators: informers first (a standby replica
keeps a warm cache so it can take over quickly), then leader election, and only the leader's
workers touch the cloud. SIGTERM stops the intake of keys, lets in-flight reconciles finish
within the grace period, releases the lease so a standby takes over at once, and exits 0.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import signal
import socket
import sys
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType

from providers.base import Provider
from provisioner.kube import logs
from provisioner.kube.api import Api, ApiError, ConfigurationError, load_configuration
from provisioner.kube.controller import Controller, ControllerConfig, OutcomeHook
from provisioner.kube.leader import LeaderElector, LeaseConfig
from provisioner.kube.metrics import Metrics, health_routes, metrics_routes, parse_addr, serve
from provisioner.reconcile import Selection

log = logging.getLogger(__name__)

_DURATION = re.compile(r"^(?:(\d+(?:\.\d+)?)(ms|s|m|h)?)$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def duration(raw: str) -> float:
    """`15s`, `500ms`, `2m` or plain seconds, as controller flags are usually written."""
    match = _DURATION.match(raw.strip())
    if not match:
        raise argparse.ArgumentTypeError(
            f"{raw!r}: expected a duration such as 15s, 500ms, 2m or a number of seconds"
        )
    return float(match.group(1)) * _UNITS[match.group(2)]


def address(raw: str) -> str:
    try:
        parse_addr(raw)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    return raw


def positive_int(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{raw!r}: expected a whole number of 1 or more")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("controller")
    group.add_argument("--kubeconfig", help="kubeconfig file (default: in-cluster, $KUBECONFIG)")
    group.add_argument("--namespace", help="watch only this namespace (default: all)")
    group.add_argument(
        "--workers", type=positive_int, default=2, help="parallel reconciles (default 2)"
    )
    group.add_argument(
        "--resync",
        type=duration,
        default=300.0,
        metavar="SECONDS",
        help="look at every key again this often, to correct drift (default 300s, ±10%%)",
    )
    group.add_argument("--metrics-addr", type=address, default=":8080", help="0 turns it off")
    group.add_argument("--health-addr", type=address, default=":8081", help="0 turns it off")
    group.add_argument(
        "--leader-elect",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="elect a leader on a Lease so that replicas do not race (default on)",
    )
    group.add_argument("--leader-elect-lease-duration", type=duration, default=15.0)
    group.add_argument("--leader-elect-renew-deadline", type=duration, default=10.0)
    group.add_argument("--leader-elect-retry-period", type=duration, default=2.0)
    group.add_argument(
        "--leader-elect-namespace",
        help="namespace of the Lease (default: the pod's namespace, else kube-system)",
    )
    group.add_argument("--leader-elect-id", default="provisioner", help="name of the Lease")
    group.add_argument(
        "--shutdown-grace",
        type=duration,
        default=25.0,
        help="on SIGTERM, how long in-flight reconciles may take (default 25s)",
    )
    group.add_argument("--log-level", default="info", choices=("debug", "info", "warning"))


def _pod_namespace() -> str:
    path = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"
    try:
        with open(path) as handle:
            return handle.read().strip() or "kube-system"
    except OSError:
        return "kube-system"


@dataclass
class Running:
    """A started controller with its elector and servers, for the CLI and the demo."""

    controller: Controller
    elector: LeaderElector | None
    api: Api
    servers: list[object]

    def ready(self) -> bool:
        return self.controller.synced()

    def stop(self, grace: float) -> bool:
        finished = self.controller.shutdown(grace)
        if self.elector is not None:
            self.elector.stop()
            self.elector.release()
        for server in self.servers:
            shutdown = getattr(server, "shutdown", None)
            if callable(shutdown):
                shutdown()
        self.api.close()
        return finished


def start_controller(
    args: argparse.Namespace,
    provider: Provider,
    selection: Selection,
    *,
    on_outcome: OutcomeHook | None = None,
) -> Running:
    api = Api(load_configuration(args.kubeconfig))
    metrics = Metrics()
    controller = Controller(
        api,
        provider,
        ControllerConfig(
            selection=selection,
            namespace=args.namespace,
            workers=args.workers,
            resync=args.resync,
        ),
        metrics=metrics,
        on_outcome=on_outcome,
    )
    elector: LeaderElector | None = None
    if args.leader_elect:
        identity = f"{socket.gethostname()}_{uuid.uuid4().hex[:8]}"
        lease = LeaseConfig(
            namespace=args.leader_elect_namespace or _pod_namespace(),
            name=args.leader_elect_id,
            identity=identity,
            lease_duration=args.leader_elect_lease_duration,
            renew_deadline=args.leader_elect_renew_deadline,
            retry_period=args.leader_elect_retry_period,
        )
        elector = LeaderElector(
            api, lease, on_started=controller.start_leading, on_stopped=controller.stop_leading
        )
    servers: list[object] = []

    def ready() -> bool:
        return controller.synced()

    metrics_addr = parse_addr(args.metrics_addr)
    health_addr = parse_addr(args.health_addr)
    if metrics_addr is not None:
        servers.append(serve(metrics_addr, metrics_routes(metrics)))
    if health_addr is not None:
        servers.append(serve(health_addr, health_routes(lambda: True, ready)))
    controller.start()
    if elector is not None:
        elector.start()
    else:
        controller.start_leading()
    return Running(controller=controller, elector=elector, api=api, servers=servers)


def run(
    args: argparse.Namespace,
    make: Callable[[], tuple[Provider, Selection]],
) -> int:
    """The `run` command; returns the exit code."""
    logs.configure(args.log_level)
    if args.leader_elect:
        try:
            LeaseConfig(
                namespace="x",
                name="x",
                identity="x",
                lease_duration=args.leader_elect_lease_duration,
                renew_deadline=args.leader_elect_renew_deadline,
                retry_period=args.leader_elect_retry_period,
            ).check()
        except ValueError as err:
            log.error("invalid flags", extra={"error": str(err)})
            return 2
    provider, selection = make()
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_signal)
    try:
        running = start_controller(args, provider, selection)
    except ConfigurationError as err:
        print(f"provisioner: error: {err}", file=sys.stderr)
        return 2
    except (ApiError, OSError) as err:
        log.error("could not start", extra={"error": str(err)})
        print(f"provisioner: error: could not start: {err}", file=sys.stderr)
        return 1
    log.info(
        "controller started",
        extra={"pid": os.getpid(), "workers": args.workers, "namespace": args.namespace or ""},
    )
    while not stop.wait(0.5):
        pass
    log.info("shutting down", extra={"grace_seconds": args.shutdown_grace})
    finished = running.stop(args.shutdown_grace)
    log.info("stopped", extra={"in_flight_finished": finished})
    return 0
