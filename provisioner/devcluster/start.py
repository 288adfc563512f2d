"""Starting the dev cluster in-process, for tests and the demo.

The server runs its own asyncio loop in a background thread so that
synchronous test code, the official (blocking) Kubernetes client and kubectl
subprocesses can all talk to it while the test keeps control. The handle it
yields also reaches into the store directly, for set-up and for simulating
what no client can ask for: compaction and API server restarts.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Coroutine, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml
from aiohttp import web

from provisioner.devcluster.controllers import ControlPlane
from provisioner.devcluster.endpointslices import pod_ready
from provisioner.devcluster.nodes import NodeSpec, node_object, resolve
from provisioner.devcluster.registry import Registry, timestamp
from provisioner.devcluster.resources import Catalog, ResourceType
from provisioner.devcluster.server import make_app
from provisioner.devcluster.services import KUBERNETES_SERVICE_IP
from provisioner.devcluster.store import Store

Obj = dict[str, Any]
T = TypeVar("T")
Objects = list[Obj]

INITIAL_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


def _seed(registry: Registry, nodes: list[NodeSpec]) -> None:
    """The objects a freshly installed cluster already has."""
    catalog = registry.catalog
    namespaces = catalog.lookup("", "v1", "namespaces")
    node_type = catalog.lookup("", "v1", "nodes")
    services = catalog.lookup("", "v1", "services")
    assert namespaces is not None
    assert node_type is not None
    assert services is not None
    for name in INITIAL_NAMESPACES:
        registry.create(namespaces, "", {"metadata": {"name": name}})
    created = timestamp()
    for spec in nodes:
        obj = node_object(spec, created=created)
        status = obj.pop("status")
        registry.create(node_type, "", obj)
        current = registry.get(node_type, "", obj["metadata"]["name"])
        current["status"] = status
        registry.update(node_type, "", obj["metadata"]["name"], current, subresource="status")
    registry.create(
        services,
        "default",
        {
            "metadata": {
                "name": "kubernetes",
                "labels": {"component": "apiserver", "provider": "kubernetes"},
            },
            "spec": {
                "clusterIP": KUBERNETES_SERVICE_IP,
                "ports": [{"name": "https", "port": 443, "targetPort": 6443}],
            },
        },
    )


def kubeconfig_text(url: str) -> str:
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "devcluster", "cluster": {"server": url}}],
        "users": [{"name": "devcluster", "user": {"token": "devcluster-token"}}],
        "contexts": [
            {
                "name": "devcluster",
                "context": {"cluster": "devcluster", "user": "devcluster", "namespace": "default"},
            }
        ],
        "current-context": "devcluster",
        "preferences": {},
    }
    return yaml.safe_dump(config, sort_keys=False)


class DevCluster:
    """A running dev cluster: its address, a kubeconfig, and its insides."""

    def __init__(
        self,
        nodes: list[NodeSpec],
        *,
        host: str,
        port: int,
        bookmark_interval: float,
        workdir: Path,
    ) -> None:
        self.nodes = nodes
        self.host = host
        self.port = port
        self.bookmark_interval = bookmark_interval
        self.workdir = workdir
        self.kubeconfig = workdir / "kubeconfig"
        self.store = Store()
        self.catalog = Catalog()
        self.registry = Registry(self.store, self.catalog)
        _seed(self.registry, nodes)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, daemon=True, name="devcluster"
        )
        self._runner: web.AppRunner | None = None
        self._control: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # Lifecycle ----------------------------------------------------------------

    def _call(self, coroutine: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def _start(self) -> None:
        self._thread.start()
        self._call(self._start_control())
        self.resume_serving()
        self.kubeconfig.write_text(kubeconfig_text(self.url))

    async def _start_control(self) -> None:
        self._control = asyncio.get_running_loop().create_task(ControlPlane(self.registry).run())

    async def _serve(self) -> None:
        runner = web.AppRunner(
            make_app(self.registry, bookmark_interval=self.bookmark_interval),
            access_log=None,
            shutdown_timeout=1.0,
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port, reuse_address=True)
        await site.start()
        self._runner = runner
        server = site._server
        assert isinstance(server, asyncio.base_events.Server)
        self.port = server.sockets[0].getsockname()[1]

    async def _unserve(self) -> None:
        self.store.close_watches()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    def resume_serving(self) -> None:
        """Start answering HTTP (again) on the same port; returns once it answers."""
        self._call(self._serve())
        deadline = time.monotonic() + 10
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/version", timeout=2) as reply:
                    reply.read()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    def stop_serving(self) -> None:
        """Stop answering HTTP and end every watch, as a crashed API server would."""
        self._call(self._unserve())

    def restart(self, *, keep_store: bool = True) -> None:
        """Restart the API server on the same port, optionally with an empty store."""
        self.stop_serving()
        if not keep_store:
            self.store = Store()
            self.catalog = Catalog()
            self.registry = Registry(self.store, self.catalog)
            _seed(self.registry, self.nodes)
            self._call(self._restart_control())
        self.resume_serving()

    async def _restart_control(self) -> None:
        if self._control is not None:
            self._control.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._control
        await self._start_control()

    def close(self) -> None:
        if not self._thread.is_alive():
            return
        with contextlib.suppress(Exception):
            self.stop_serving()
        with contextlib.suppress(Exception):
            self._call(self._stop_control())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _stop_control(self) -> None:
        if self._control is not None:
            self._control.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._control

    # In-process access ------------------------------------------------------------

    def compact(self) -> int:
        """Forget history; watches from any resourceVersion before now get 410 Expired."""
        return self.store.compact()

    def resource(self, plural: str, *, group: str = "", version: str = "v1") -> ResourceType:
        found = self.catalog.lookup(group, version, plural)
        if found is None:
            raise KeyError(f"no resource {plural} in {group or 'core'}/{version}")
        return found

    def get(
        self, plural: str, name: str, *, namespace: str = "", group: str = "", version: str = "v1"
    ) -> Obj:
        return self.registry.get(
            self.resource(plural, group=group, version=version), namespace, name
        )

    def list(
        self,
        plural: str,
        *,
        namespace: str | None = None,
        group: str = "",
        version: str = "v1",
        label_selector: str = "",
    ) -> list[Obj]:
        items, _ = self.registry.list(
            self.resource(plural, group=group, version=version),
            namespace,
            label_selector=label_selector,
        )
        return items

    def create(self, obj: Obj) -> Obj:
        rtype = self.catalog.by_kind(obj.get("apiVersion", ""), obj.get("kind", ""))
        if rtype is None:
            raise KeyError(f"no kind {obj.get('kind')} in {obj.get('apiVersion')}")
        namespace = obj.get("metadata", {}).get("namespace") or (
            "default" if rtype.namespaced else ""
        )
        return self.registry.create(rtype, namespace, obj)

    def set_pod_ready(self, namespace: str, name: str, ready: bool) -> Obj:
        """Flip a pod's Ready condition, as a failing readiness probe would."""
        pods = self.resource("pods")
        pod = self.registry.get(pods, namespace, name)
        value = "True" if ready else "False"
        for condition in pod.get("status", {}).get("conditions") or []:
            if condition.get("type") in ("Ready", "ContainersReady"):
                if condition.get("status") != value:
                    condition["lastTransitionTime"] = timestamp()
                condition["status"] = value
        for container in pod.get("status", {}).get("containerStatuses") or []:
            container["ready"] = ready
        return self.registry.update(pods, namespace, name, pod, subresource="status")

    def wait_until(self, check: Callable[[], T], *, timeout: float = 10.0) -> T:
        """Poll ``check`` until it returns something truthy; raise TimeoutError if it never does."""
        deadline = time.monotonic() + timeout
        while True:
            result = check()
            if result:
                return result
            if time.monotonic() > deadline:
                raise TimeoutError(f"condition not met within {timeout}s")
            time.sleep(0.02)

    def ready_pods(self, namespace: str, selector: str) -> Objects:
        return [
            p
            for p in self.list("pods", namespace=namespace, label_selector=selector)
            if pod_ready(p) and not p["metadata"].get("deletionTimestamp")
        ]


@contextlib.contextmanager
def start(
    nodes: int | Sequence[NodeSpec] = 3,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    bookmark_interval: float = 5.0,
) -> Iterator[DevCluster]:
    """Run a dev cluster for the duration of a ``with`` block.

    ``nodes`` is a count (all defaults) or explicit :class:`NodeSpec` values;
    ``port`` 0 picks a free loopback port.
    """
    specs = [NodeSpec() for _ in range(nodes)] if isinstance(nodes, int) else list(nodes)
    workdir = Path(tempfile.mkdtemp(prefix="devcluster-"))
    cluster = DevCluster(
        resolve(specs),
        host=host,
        port=port,
        bookmark_interval=bookmark_interval,
        workdir=workdir,
    )
    try:
        cluster._start()
        yield cluster
    finally:
        cluster.close()
        shutil.rmtree(workdir, ignore_errors=True)
