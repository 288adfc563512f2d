"""Reading manifests: multi-document files, directories, and documents that cannot be used."""

from __future__ import annotations

from pathlib import Path

from provisioner.manifests import load


def test_directories_and_multi_document_files(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.yaml").write_text(
        "apiVersion: v1\nkind: Service\nmetadata: {name: a}\n---\n"
        "apiVersion: v1\nkind: Node\nmetadata: {name: n1, namespace: ignored}\n"
    )
    (tmp_path / "sub" / "b.yml").write_text(
        "apiVersion: v1\nkind: List\nitems:\n"
        "- {apiVersion: v1, kind: Service, metadata: {name: b, namespace: prod}}\n"
    )
    (tmp_path / "notes.txt").write_text("not a manifest")
    manifests = load([tmp_path])
    assert manifests.errors == []
    assert sorted(manifests.objects) == [
        ("Node", "", "n1"),
        ("Service", "default", "a"),
        ("Service", "prod", "b"),
    ]
    assert [s["metadata"]["name"] for s in manifests.list("Service", "prod")] == ["b"]


def test_broken_documents_are_errors_naming_their_source(tmp_path: Path) -> None:
    path = tmp_path / "mixed.yaml"
    path.write_text(
        "apiVersion: v1\nkind: Service\nmetadata: {name: ok}\n---\n"
        "kind: Service\nmetadata: {name: no-version}\n---\n"
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n  annotations: {a: 1}\n---\n"
        "apiVersion: v1\nkind: Service\nmetadata: {name: [unclosed\n"
    )
    manifests = load([path])
    assert list(manifests.objects) == [("Service", "default", "ok")]
    errors = {e.source: e.error for e in manifests.errors}
    assert set(errors) == {f"{path}#2", f"{path}#3", f"{path}#4"}
    assert "apiVersion" in errors[f"{path}#2"]
    assert "metadata.annotations.a" in errors[f"{path}#3"]
    assert "quote it" in errors[f"{path}#3"]
    assert "invalid YAML" in errors[f"{path}#4"]
