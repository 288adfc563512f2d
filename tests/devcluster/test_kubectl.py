"""kubectl against the dev cluster: apply, get, describe, watch, scale, delete."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from provisioner.devcluster import DevCluster
from tests.devcluster.conftest import Kubectl

MANIFEST = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx
        ports:
        - {name: http, containerPort: 8080}
        env:
        - {name: A, value: "1"}
        - {name: B, value: "2"}
---
apiVersion: v1
kind: Service
metadata:
  name: web
  labels: {app: web}
spec:
  type: LoadBalancer
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: http}
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: alb
spec:
  controller: example.com/alb
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
spec:
  ingressClassName: alb
  rules:
  - http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service: {name: web, port: {number: 80}}
"""


def _apply(kubectl: Kubectl, tmp_path: Path, text: str) -> str:
    path = tmp_path / "manifest.yaml"
    path.write_text(text)
    return kubectl.run("apply", "-f", str(path))


def test_apply_get_describe_delete(kubectl: Kubectl, cluster: DevCluster, tmp_path: Path) -> None:
    out = _apply(kubectl, tmp_path, MANIFEST)
    assert "deployment.apps/web created" in out
    assert "service/web created" in out
    assert "ingressclass.networking.k8s.io/alb created" in out
    assert "ingress.networking.k8s.io/web created" in out
    service = kubectl.json("get", "service", "web")
    assert service["spec"]["clusterIP"].startswith("10.")
    assert 30000 <= service["spec"]["ports"][0]["nodePort"] <= 32767
    annotation = service["metadata"]["annotations"][
        "kubectl.kubernetes.io/last-applied-configuration"
    ]
    assert '"targetPort":"http"' in annotation
    assert "unchanged" in _apply(kubectl, tmp_path, MANIFEST)
    # A second apply that drops an env entry removes it (strategic merge by name).
    changed = MANIFEST.replace('        - {name: B, value: "2"}\n', "")
    assert "deployment.apps/web configured" in _apply(kubectl, tmp_path, changed)
    deploy = kubectl.json("get", "deployment", "web")
    assert deploy["spec"]["template"]["spec"]["containers"][0]["env"] == [
        {"name": "A", "value": "1"}
    ]
    assert deploy["metadata"]["generation"] == 2
    # The template changed, so the old pods terminate (1 s grace) and two new ones replace them.
    cluster.wait_until(lambda: len(cluster.list("pods", namespace="default")) == 2)
    pods = kubectl.json("get", "pods", "-l", "app=web")
    assert pods["kind"] == "List"
    assert len(pods["items"]) == 2
    assert kubectl.json("get", "pods", "-l", "app notin (web)")["items"] == []
    names = kubectl.run("get", "svc", "-o", "name")
    assert "service/web" in names
    description = kubectl.run("describe", "service", "web")
    assert "LoadBalancer" in description
    assert "app=web" in description
    assert "Available" in kubectl.run("describe", "deployment", "web")
    assert "alb" in kubectl.run("describe", "ingress", "web")
    out = kubectl.run("delete", "-f", str(tmp_path / "manifest.yaml"))
    assert 'service "web" deleted' in out
    cluster.wait_until(lambda: not cluster.list("pods", namespace="default"))
    assert "NotFound" in kubectl.run("get", "service", "web", check=False)


def test_get_events(kubectl: Kubectl, cluster: DevCluster) -> None:
    cluster.create(
        {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": "web.1", "namespace": "default"},
            "involvedObject": {"kind": "Service", "name": "web", "namespace": "default"},
            "reason": "EnsuredLoadBalancer",
            "message": "Ensured load balancer",
            "type": "Normal",
            "count": 1,
        }
    )
    out = kubectl.run("get", "events")
    assert "EnsuredLoadBalancer" in out or "web.1" in out
    selected = kubectl.json("get", "events", "--field-selector", "involvedObject.name=web")
    assert [e["reason"] for e in selected["items"]] == ["EnsuredLoadBalancer"]
    other = kubectl.json("get", "events", "--field-selector", "involvedObject.name=other")
    assert other["items"] == []


def test_get_watch_sees_changes(kubectl: Kubectl, cluster: DevCluster) -> None:
    process = subprocess.Popen(
        kubectl.command("get", "configmaps", "-w", "-o", "name"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        # Give kubectl time to list and open its watch; the change must arrive over the watch.
        time.sleep(0.5)
        kubectl.run(
            "apply",
            "-f",
            "-",
            stdin="apiVersion: v1\nkind: ConfigMap\nmetadata: {name: watched}\ndata: {a: b}\n",
        )
        line = process.stdout.readline()
        assert "configmap/watched" in line
    finally:
        process.kill()
        process.wait(timeout=5)


def test_scale_with_kubectl(kubectl: Kubectl, cluster: DevCluster, tmp_path: Path) -> None:
    _apply(kubectl, tmp_path, MANIFEST)

    def endpoint_count() -> int:
        slices = cluster.list(
            "endpointslices",
            namespace="default",
            group="discovery.k8s.io",
            label_selector="kubernetes.io/service-name=web",
        )
        return sum(1 for s in slices for e in s.get("endpoints") or [] if e["conditions"]["ready"])

    cluster.wait_until(lambda: endpoint_count() == 2)
    assert "scaled" in kubectl.run("scale", "deployment/web", "--replicas=4")
    cluster.wait_until(lambda: endpoint_count() == 4)
    kubectl.run("scale", "deployment/web", "--replicas=1")
    cluster.wait_until(lambda: endpoint_count() == 1)
    status = cluster.wait_until(
        lambda: (
            (d := cluster.get("deployments", "web", namespace="default", group="apps"))[
                "status"
            ].get("replicas")
            == 1
            and d
        )
    )
    assert status["status"]["readyReplicas"] == 1


def test_imperative_create_and_table_columns(kubectl: Kubectl, cluster: DevCluster) -> None:
    # These kubectl commands send protobuf bodies.
    assert "namespace/demo created" in kubectl.run("create", "namespace", "demo")
    kubectl.run("create", "configmap", "cfg", "-n", "demo", "--from-literal=a=b")
    kubectl.run("create", "secret", "generic", "pw", "-n", "demo", "--from-literal=k=v")
    assert kubectl.json("get", "configmap", "cfg", "-n", "demo")["data"] == {"a": "b"}
    assert kubectl.json("get", "secret", "pw", "-n", "demo")["data"] == {"k": "dg=="}
    out = kubectl.run("get", "svc", "kubernetes")
    assert out.split()[:6] == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]
    assert "10.96.0.1" in out
    nodes = kubectl.run("get", "nodes")
    assert "Ready" in nodes
    assert "us-east-1a" in nodes
    kubectl.run("delete", "namespace", "demo")
    assert "NotFound" in kubectl.run("get", "configmap", "cfg", "-n", "demo", check=False)
