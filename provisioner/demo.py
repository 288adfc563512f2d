"""`provisioner demo`: the controller, live, on an embedded default (no account, no cluster).

It starts what a real installation has, each speaking its real protocol: a Kubernetes API
server (the dev cluster, three Nodes), a cloud (the provider's fake, seeded with one instance
per Node, a VPC, tagged subnets and a node security group) and the controller process's
components, then applies `examples/` through the API and prints what the controller does as
it does it. Without `--serve` it then shows that a second look changes nothing and that
deleting the objects leaves no load balancer behind. With `--serve` it keeps everything up
and writes an env file, so `kubectl` and the cloud's own tools can be pointed at it.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

from providers import base
from provisioner.cli import (
    DEFAULT_INGRESS_CONTROLLER,
    DEFAULT_LOAD_BALANCER_CLASS,
    EXIT_ERRORS,
    EXIT_OK,
    UsageError,
    make_provider,
    selection_for,
)
from provisioner.devcluster import start
from provisioner.devcluster.nodes import NodeSpec
from provisioner.kube.api import INGRESSES, SERVICES, Api, ApiError, Obj, Resource
from provisioner.kube.apply import apply_objects
from provisioner.kube.run import Running, start_controller
from provisioner.manifests import load
from provisioner.model import Key
from provisioner.reconcile import Outcome

CLUSTER_NAME = "demo"
READS = ("Describe", "Get", "List")
WAIT_SECONDS = 120.0


def default_examples() -> Path:
    return Path(__file__).resolve().parents[1] / "examples"


def _calls(provider: base.Provider) -> Counter[str]:
    counts: Counter[str] = Counter()
    for (_, operation, _), number in provider.call_counts().items():
        counts[operation] += number
    return counts


def _summary(what: str, calls: Counter[str]) -> str:
    writes = {op: n for op, n in calls.items() if not op.startswith(READS)}
    listed = ", ".join(f"{op} {n}" for op, n in sorted(writes.items())) or "none"
    return (
        f"cloud calls for {what}: {sum(calls.values())} in all, "
        f"{sum(writes.values())} changing anything ({listed})"
    )


def node_specs(nodes: Sequence[Mapping[str, Any]]) -> list[NodeSpec]:
    """Dev-cluster Nodes matching the fake cloud's instances; pod CIDRs inside the VPC, as
    the VPC CNI gives them, so that ip targets are valid."""
    specs = []
    for index, node in enumerate(nodes):
        meta = node.get("metadata") or {}
        addresses = (node.get("status") or {}).get("addresses") or []
        internal = next((a["address"] for a in addresses if a.get("type") == "InternalIP"), None)
        specs.append(
            NodeSpec(
                name=meta.get("name"),
                zone=(meta.get("labels") or {}).get("topology.kubernetes.io/zone"),
                provider_id=(node.get("spec") or {}).get("providerID"),
                internal_ip=internal,
                pod_cidr=f"10.0.{200 + index}.0/24",
                labels={
                    k: v
                    for k, v in (meta.get("labels") or {}).items()
                    if not k.startswith("topology.kubernetes.io/")
                },
            )
        )
    return specs


def write_env_file(path: Path, values: Mapping[str, str]) -> None:
    """`NAME=value` lines, no quotes, written to a temporary file and renamed into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as handle:
        handle.write("".join(f"{name}={value}\n" for name, value in values.items()))
    os.replace(temporary, path)


class Narrator:
    """Prints each reconcile that changed something, as the controller finishes it."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.started = time.monotonic()
        self.first_address: dict[Key, float] = {}
        self._lock = threading.Lock()

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def say(self, text: str) -> None:
        if self.enabled:
            with self._lock:
                print(f"[{self.elapsed():6.2f}s] {text}", flush=True)

    def __call__(self, key: Key, outcome: Outcome, seconds: float) -> None:
        changes = outcome.plan.changes if outcome.plan else ()
        if outcome.error:
            self.say(f"{key}: {outcome.error_kind}: {outcome.error}")
            return
        if not changes:
            return
        kinds = Counter(f"{c.action.value} {c.type}" for c in changes)
        listed = ", ".join(f"{what} x{n}" if n > 1 else what for what, n in sorted(kinds.items()))
        address = ""
        if outcome.status and (outcome.status.hostnames or outcome.status.ips):
            address = " -> " + ", ".join((*outcome.status.hostnames, *outcome.status.ips))
            with self._lock:
                for member in outcome.members or (key,):
                    self.first_address.setdefault(member, self.elapsed())
        verb = "deleted" if outcome.plan and outcome.plan.deleting else "provisioned"
        self.say(f"{key} {verb} in {seconds:.2f}s ({listed}){address}")


def _addresses(obj: Obj) -> list[str]:
    ingress = ((obj.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    return [str(i.get("hostname") or i.get("ip")) for i in ingress]


def _ours(api: Api, running: Running) -> list[Obj]:
    controller = running.controller
    found = []
    for resource in (SERVICES, INGRESSES):
        items, _ = api.list(resource)
        found += [obj for obj in items if controller.is_ours(obj)]
    return found


def _wait(check: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def _settled(running: Running) -> bool:
    return running.controller.queue.pending() == 0


@contextmanager
def _signals() -> Iterator[threading.Event]:
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_demo(args: argparse.Namespace) -> int:
    examples: Path = args.examples or default_examples()
    if not examples.exists():
        raise UsageError(f"--examples {examples}: no such file or directory")
    if args.env_file is not None and not args.serve:
        raise UsageError("--env-file needs --serve (the file describes a running demo)")
    manifests = load([examples])
    if manifests.errors:
        for error in manifests.errors:
            print(f"provisioner: error: {error}", file=sys.stderr)
        return EXIT_ERRORS
    text = args.output == "text"
    narrator = Narrator(enabled=text)
    factory = base.load("aws")
    with (
        _signals() as stop,
        factory.demo_cloud(manifests.list("Node"), cluster_name=CLUSTER_NAME) as cloud,
    ):
        if text:
            print("\n".join(cloud.summary), flush=True)
        with start(node_specs(cloud.nodes)) as cluster:
            narrator.say(f"dev cluster serving at {cluster.url} with {len(cloud.nodes)} Nodes")
            settings = argparse.Namespace(
                provider="aws",
                cluster_name=CLUSTER_NAME,
                load_balancer_class=DEFAULT_LOAD_BALANCER_CLASS,
                ingress_controller=DEFAULT_INGRESS_CONTROLLER,
                legacy_ingress_class=None,
                region=cloud.env["AWS_DEFAULT_REGION"],
                vpc_id=None,
                kubeconfig=str(cluster.kubeconfig),
                namespace=None,
                workers=2,
                resync=300.0,
                metrics_addr="0",
                health_addr="0",
                leader_elect=False,
            )
            factory, provider = make_provider(settings)
            running = start_controller(
                settings, provider, selection_for(settings, factory), on_outcome=narrator
            )
            try:
                return _tour(
                    args,
                    examples,
                    manifests.objects.values(),
                    cloud,
                    cluster,
                    running,
                    provider,
                    narrator,
                    stop,
                )
            finally:
                running.stop(grace=10.0)
                if args.env_file is not None:
                    args.env_file.unlink(missing_ok=True)


def _tour(
    args: argparse.Namespace,
    examples: Path,
    objects: Any,
    cloud: Any,
    cluster: Any,
    running: Running,
    provider: base.Provider,
    narrator: Narrator,
    stop: threading.Event,
) -> int:
    text = args.output == "text"
    api = running.api
    if not running.controller.wait_synced(timeout=30):
        print("provisioner: error: the controller's caches did not sync", file=sys.stderr)
        return EXIT_ERRORS
    replacements: Mapping[str, str] = getattr(cloud, "replacements", {}) or {}
    to_apply = [_substitute(obj, replacements) for obj in objects if obj.get("kind") != "Node"]
    before = _calls(provider)
    applied_at = narrator.elapsed()
    narrator.say(f"applying {len(to_apply)} objects from {examples}")
    try:
        apply_objects(api, to_apply)
    except ApiError as err:
        print(f"provisioner: error: applying {examples}: {err}", file=sys.stderr)
        return EXIT_ERRORS
    ours = _ours(api, running)

    def provisioned() -> bool:
        current = _ours(api, running)
        return all(_addresses(obj) for obj in current) and _settled(running)

    converged = _wait(provisioned, WAIT_SECONDS)
    created = _calls(provider) - before
    current = _ours(api, running)
    if text:
        narrator.say("status written back to Kubernetes:")
        for obj in current:
            meta = obj["metadata"]
            key = f"{obj['kind']}/{meta.get('namespace')}/{meta['name']}"
            took = narrator.first_address.get(key)
            when = f" ({took - applied_at:.2f}s after apply)" if took is not None else ""
            print(f"    {key}: {', '.join(_addresses(obj)) or 'pending'}{when}")
        print(_summary("provisioning", created), flush=True)
    if not converged:
        print("provisioner: error: not every object got an address", file=sys.stderr)
        return EXIT_ERRORS
    if args.serve:
        return _serve(args, cloud, cluster, narrator, stop)
    # A second look at every key: the cloud already matches, so nothing is written.
    before = _calls(provider)
    for key in running.controller.all_keys():
        running.controller.queue.add(key)
    _wait(lambda: _settled(running), WAIT_SECONDS)
    again = _calls(provider) - before
    if text:
        narrator.say("looked at every object again (what a resync or a restart does)")
        print(_summary("the second look", again), flush=True)
    writes_again = sum(n for op, n in again.items() if not op.startswith(READS))
    report = [_entry(obj) for obj in current]
    # Delete everything: finalizers hold each object until its load balancer is gone.
    before = _calls(provider)
    deleting: list[tuple[Resource, str | None, str]] = []
    for obj in ours:
        kind, meta = obj["kind"], obj["metadata"]
        resource: Resource = SERVICES if kind == "Service" else INGRESSES
        api.delete(resource, meta.get("namespace"), meta["name"])
        deleting.append((resource, meta.get("namespace"), meta["name"]))

    def all_gone() -> bool:
        for resource, namespace, name in deleting:
            try:
                api.get(resource, namespace, name)
            except ApiError as err:
                if err.not_found:
                    continue
            return False
        return _settled(running)

    cleaned = _wait(all_gone, WAIT_SECONDS)
    left = provider.owned()
    deleted = _calls(provider) - before
    if text:
        narrator.say("deleted the objects; the finalizers let go once the cloud was clean")
        print(_summary("deleting", deleted))
        print(f"load balancers left in the cloud for this cluster: {len(left)}", flush=True)
    else:
        print(
            json.dumps(
                {
                    "objects": report,
                    "calls": {
                        "provisioning": dict(created),
                        "second_look": dict(again),
                        "deleting": dict(deleted),
                    },
                    "left": sorted(left),
                },
                indent=2,
            )
        )
    return EXIT_OK if (cleaned and not left and writes_again == 0) else EXIT_ERRORS


def _substitute(obj: Mapping[str, Any], replacements: Mapping[str, str]) -> Obj:
    """A copy whose annotation values use the fake cloud's ids for the examples' placeholders."""
    copy = json.loads(json.dumps(obj))
    annotations = (copy.get("metadata") or {}).get("annotations") or {}
    for name, value in annotations.items():
        for placeholder, actual in replacements.items():
            value = value.replace(placeholder, actual)
        annotations[name] = value
    return dict(copy)


def _entry(obj: Obj) -> dict[str, Any]:
    meta = obj["metadata"]
    return {
        "kind": obj["kind"],
        "namespace": meta.get("namespace"),
        "name": meta["name"],
        "status": obj.get("status") or {},
    }


def _serve(
    args: argparse.Namespace, cloud: Any, cluster: Any, narrator: Narrator, stop: threading.Event
) -> int:
    values = {
        "KUBECONFIG": str(cluster.kubeconfig),
        "KUBE_API_URL": cluster.url,
        **cloud.env,
    }
    if args.env_file is not None:
        write_env_file(args.env_file, values)
    if args.output == "text":
        narrator.say("serving; Ctrl-C tears everything down")
        if args.env_file is not None:
            print(f"    environment: set -a; . {args.env_file}; set +a")
        for name, value in values.items():
            print(f"    {name}={value}")
        print(
            "    try: kubectl get services -A   (changes show up here as they happen)", flush=True
        )
    while not stop.wait(0.5):
        pass
    narrator.say("stopping")
    return EXIT_OK
