"""The controller as a separate process, against the dev cluster and a moto server.

Everything goes over HTTP as in production: the controller talks to the API server through
a kubeconfig and to AWS through AWS_ENDPOINT_URL; the tests drive the cluster through the
same API and read the cloud through boto3 and moto's request recorder.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import boto3

from providers.aws.seed import seed_cluster
from provisioner.devcluster import start
from provisioner.devcluster.nodes import NodeSpec
from provisioner.kube.api import EVENTS, SERVICES, Api, ApiError, load_configuration
from tests.e2e.moto_server import MotoServer, free_port

T = TypeVar("T")

CLUSTER = "e2e"
LB_CLASS = "provisioner.io/nlb"


def wait_for(check: Callable[[], T | None], *, timeout: float = 30.0, what: str = "") -> T:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or check}")
        time.sleep(0.05)


@dataclass
class ControllerProcess:
    """One `provisioner run` process; its JSON log goes to a file the test can read."""

    kubeconfig: Path
    env: dict[str, str]
    log_path: Path
    extra: tuple[str, ...] = ()
    metrics_port: int = field(default_factory=free_port)
    health_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> ControllerProcess:
        args = [
            sys.executable,
            "-m",
            "provisioner.cli",
            "run",
            "--provider",
            "aws",
            "--cluster-name",
            CLUSTER,
            "--kubeconfig",
            str(self.kubeconfig),
            "--metrics-addr",
            f"127.0.0.1:{self.metrics_port}",
            "--health-addr",
            f"127.0.0.1:{self.health_port}",
            "--leader-elect-namespace",
            "default",
            *self.extra,
        ]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                args, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        return self

    def get(self, path: str, port: int | None = None) -> tuple[int, str]:
        url = f"http://127.0.0.1:{port or self.health_port}{path}"
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:
                return reply.status, reply.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, ""
        except OSError:
            return 0, ""

    def wait_ready(self, timeout: float = 30.0) -> None:
        def ready() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"controller exited: {self.log()}")
            return self.get("/readyz")[0] == 200

        wait_for(ready, timeout=timeout, what="the controller to be ready")

    def metrics(self) -> str:
        status, body = self.get("/metrics", self.metrics_port)
        assert status == 200, status
        return body

    def cloud_writes(self) -> float:
        """Mutating cloud calls this process made, from its own Prometheus counter."""
        total = 0.0
        for line in self.metrics().splitlines():
            if line.startswith("provisioner_cloud_api_calls_total{"):
                labels, value = line.rsplit(" ", 1)
                operation = labels.split('operation="', 1)[1].split('"', 1)[0]
                if not operation.startswith(("Describe", "Get", "List")):
                    total += float(value)
        return total

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""

    def log_entries(self) -> list[dict[str, Any]]:
        entries = []
        for line in self.log().splitlines():
            try:
                entries.append(json.loads(line))
            except json.JSONDecodeError:
                entries.append({"msg": line})
        return entries

    def leading(self) -> bool:
        return any(e.get("msg") == "became leader" for e in self.log_entries())

    def terminate(self, timeout: float = 40.0) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


def service(
    name: str,
    *,
    annotations: dict[str, str] | None = None,
    ports: list[dict[str, Any]] | None = None,
    selector: dict[str, str] | None = None,
    namespace: str = "default",
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace, "annotations": annotations or {}},
        "spec": {
            "type": "LoadBalancer",
            "loadBalancerClass": LB_CLASS,
            "selector": selector or {"app": name},
            "ports": ports or [{"name": "http", "port": 80, "targetPort": 8080}],
        },
    }


def deployment(name: str, replicas: int, namespace: str = "default") -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "containers": [
                        {"name": "app", "image": "app:1", "ports": [{"containerPort": 8080}]}
                    ]
                },
            },
        },
    }


def hostname(api: Api, name: str, namespace: str = "default") -> str | None:
    try:
        svc = api.get(SERVICES, namespace, name)
    except ApiError:
        return None
    ingress = ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    return ingress[0].get("hostname") if ingress else None


def gone(api: Api, name: str, namespace: str = "default") -> bool:
    try:
        api.get(SERVICES, namespace, name)
    except ApiError as err:
        return err.not_found
    return False


def events_for(api: Api, name: str, namespace: str = "default") -> list[dict[str, Any]]:
    items, _ = api.list(EVENTS, namespace)
    return [e for e in items if (e.get("involvedObject") or {}).get("name") == name]


@dataclass
class Stack:
    """The shared world of a test module: a moto server, its seeded VPC, the dev cluster."""

    moto: MotoServer
    api: Api
    kubeconfig: Path
    cluster: Any
    elbv2: Any
    ec2: Any
    tmp: Path
    controllers: list[ControllerProcess] = field(default_factory=list)
    serial: Iterator[int] = field(default_factory=itertools.count)

    def controller(self, *extra: str, name: str = "controller") -> ControllerProcess:
        env = {**os.environ, **self.moto.env(), "PYTHONUNBUFFERED": "1"}
        process = ControllerProcess(
            kubeconfig=self.kubeconfig,
            env=env,
            log_path=self.tmp / f"{name}-{next(self.serial)}.log",
            extra=extra,
        ).start()
        self.controllers.append(process)
        return process

    def stop_all(self) -> None:
        """SIGTERM (so the lease is released for the next test), then kill what lingers."""
        for process in self.controllers:
            if process.process is not None and process.process.poll() is None:
                process.process.send_signal(signal.SIGTERM)
        for process in self.controllers:
            try:
                if process.process is not None:
                    process.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        self.controllers.clear()

    def load_balancers(self, name_prefix: str = "") -> list[dict[str, Any]]:
        found = self.elbv2.describe_load_balancers()["LoadBalancers"]
        return [lb for lb in found if lb["LoadBalancerName"].startswith(name_prefix)]

    def load_balancer_for(self, host: str) -> dict[str, Any] | None:
        for lb in self.elbv2.describe_load_balancers()["LoadBalancers"]:
            if lb["DNSName"] == host:
                found: dict[str, Any] = lb
                return found
        return None

    def targets(self, host: str) -> set[str]:
        lb = self.load_balancer_for(host)
        if lb is None:
            return set()
        groups = self.elbv2.describe_target_groups(LoadBalancerArn=lb["LoadBalancerArn"])
        out: set[str] = set()
        for group in groups["TargetGroups"]:
            health = self.elbv2.describe_target_health(TargetGroupArn=group["TargetGroupArn"])
            out |= {d["Target"]["Id"] for d in health["TargetHealthDescriptions"]}
        return out


@contextmanager
def running_stack(tmp: Path) -> Iterator[Stack]:
    """A moto server seeded with a cluster network and three instances, and a dev cluster
    whose Nodes match them (pod CIDRs inside the VPC, as the VPC CNI gives them, so that ip
    targets are valid)."""
    moto = MotoServer(tmp)
    try:
        clients = {
            name: boto3.client(
                name,
                endpoint_url=moto.url,
                region_name="us-east-1",
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
            )
            for name in ("ec2", "elbv2")
        }
        seeded = seed_cluster(clients["ec2"], cluster_name=CLUSTER, region="us-east-1", nodes=3)
        specs = [
            NodeSpec(
                name=f"node-{i + 1}",
                zone=pid.split("/")[3],
                provider_id=pid,
                pod_cidr=f"10.0.{200 + i}.0/24",
            )
            for i, pid in enumerate(seeded.provider_ids)
        ]
        with start(specs) as cluster:
            api = Api(load_configuration(str(cluster.kubeconfig)))
            world = Stack(
                moto=moto,
                api=api,
                kubeconfig=cluster.kubeconfig,
                cluster=cluster,
                elbv2=clients["elbv2"],
                ec2=clients["ec2"],
                tmp=tmp,
            )
            try:
                yield world
            finally:
                world.stop_all()
                api.close()
    finally:
        moto.stop()
