"""CustomResourceDefinitions: discovery, serving, schema validation, status subresource."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from provisioner.devcluster import DevCluster
from tests.devcluster.conftest import Kubectl

CRD = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wd]}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [size]
            properties:
              size: {type: integer, minimum: 1, maximum: 10}
              mode: {type: string, enum: [fast, slow], default: fast}
              name: {type: string, pattern: '^[a-z]+$', maxLength: 8}
              tags: {type: array, items: {type: string}, maxItems: 2}
              extra: {type: object, x-kubernetes-preserve-unknown-fields: true}
          status:
            type: object
            properties:
              ready: {type: boolean}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.example.com
spec:
  group: example.com
  scope: Cluster
  names: {plural: gadgets, kind: Gadget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
"""

WIDGET = """
apiVersion: example.com/v1
kind: Widget
metadata: {name: good}
spec: {size: 3, name: abc, extra: {anything: [1, 2]}}
"""


def test_crd_apply_and_custom_objects(
    kubectl: Kubectl, cluster: DevCluster, api: Any, tmp_path: Path
) -> None:
    manifest = tmp_path / "crd.yaml"
    manifest.write_text(CRD)
    kubectl.run("apply", "-f", str(manifest))
    crd = kubectl.json("get", "crd", "widgets.example.com")
    conditions = {c["type"]: c["status"] for c in crd["status"]["conditions"]}
    assert conditions["Established"] == "True"
    assert "widgets" in kubectl.run("api-resources", "--api-group=example.com")
    assert "created" in kubectl.run("apply", "-f", "-", stdin=WIDGET)
    widget = kubectl.json("get", "wd", "good")
    assert widget["spec"]["mode"] == "fast"  # defaulted
    assert widget["spec"]["extra"] == {"anything": [1, 2]}
    assert widget["metadata"]["generation"] == 1
    assert "unchanged" in kubectl.run("apply", "-f", "-", stdin=WIDGET)
    assert "configured" in kubectl.run("apply", "-f", "-", stdin=WIDGET.replace("3", "4"))
    assert kubectl.json("get", "widget", "good")["metadata"]["generation"] == 2

    bad = WIDGET.replace("size: 3", 'size: "x"')
    out = kubectl.run("apply", "-f", "-", stdin=bad, check=False)
    assert 'spec.size: Invalid value: "x": spec.size in body must be of type integer' in out

    custom = client.CustomObjectsApi(api)
    with pytest.raises(ApiException) as invalid:
        custom.create_namespaced_custom_object(
            "example.com",
            "v1",
            "default",
            "widgets",
            {
                "apiVersion": "example.com/v1",
                "kind": "Widget",
                "metadata": {"name": "bad"},
                "spec": {"size": 11, "mode": "medium", "name": "ABC", "tags": ["a", "b", "c"]},
            },
        )
    assert invalid.value.status == 422
    status = json.loads(invalid.value.body)
    assert status["reason"] == "Invalid"
    fields = {cause["field"] for cause in status["details"]["causes"]}
    assert fields == {"spec.size", "spec.mode", "spec.name", "spec.tags"}
    assert "should be less than or equal to 10" in status["message"]
    with pytest.raises(ApiException) as missing:
        custom.create_namespaced_custom_object(
            "example.com",
            "v1",
            "default",
            "widgets",
            {
                "apiVersion": "example.com/v1",
                "kind": "Widget",
                "metadata": {"name": "m"},
                "spec": {},
            },
        )
    assert "spec.size: Required value" in json.loads(missing.value.body)["message"]

    # Status subresource: main resource ignores status, /status ignores spec.
    custom.patch_namespaced_custom_object(
        "example.com", "v1", "default", "widgets", "good", {"status": {"ready": True}}
    )
    assert "status" not in custom.get_namespaced_custom_object(
        "example.com", "v1", "default", "widgets", "good"
    )
    custom.patch_namespaced_custom_object_status(
        "example.com",
        "v1",
        "default",
        "widgets",
        "good",
        {"spec": {"size": 9}, "status": {"ready": True}},
    )
    stored = custom.get_namespaced_custom_object("example.com", "v1", "default", "widgets", "good")
    assert stored["status"] == {"ready": True}
    assert stored["spec"]["size"] == 4
    assert stored["metadata"]["generation"] == 2

    # Cluster-scoped kind.
    custom.create_cluster_custom_object(
        "example.com",
        "v1",
        "gadgets",
        {"apiVersion": "example.com/v1", "kind": "Gadget", "metadata": {"name": "g"}, "x": 1},
    )
    assert custom.get_cluster_custom_object("example.com", "v1", "gadgets", "g")["x"] == 1

    # Deleting the CRD removes the kind and its objects.
    kubectl.run("delete", "crd", "widgets.example.com")
    assert cluster.catalog.lookup("example.com", "v1", "widgets") is None
    assert not cluster.store.list(("example.com", "widgets"))
