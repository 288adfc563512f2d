"""Watches: resuming from a resourceVersion, 410 after compaction, bookmarks, restarts."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest
from kubernetes import watch
from kubernetes.client.rest import ApiException

from provisioner.devcluster import DevCluster


def _cm(name: str) -> dict[str, Any]:
    return {"metadata": {"name": name}, "data": {"k": name}}


def test_watch_resumes_from_resource_version(core: Any) -> None:
    core.create_namespaced_config_map("default", _cm("before"))
    marker = core.list_namespaced_config_map("default").metadata.resource_version
    core.create_namespaced_config_map("default", _cm("after-1"))
    core.patch_namespaced_config_map("after-1", "default", {"data": {"k": "changed"}})
    core.delete_namespaced_config_map("after-1", "default")
    seen = []
    for event in watch.Watch().stream(
        core.list_namespaced_config_map, "default", resource_version=marker, timeout_seconds=1
    ):
        seen.append((event["type"], event["object"].metadata.name))
    assert seen == [("ADDED", "after-1"), ("MODIFIED", "after-1"), ("DELETED", "after-1")]


def test_watch_from_nothing_lists_then_follows(core: Any, cluster: DevCluster) -> None:
    core.create_namespaced_config_map("default", _cm("existing"))
    stream = watch.Watch().stream(core.list_namespaced_config_map, "default", timeout_seconds=2)
    first = next(stream)
    assert (first["type"], first["object"].metadata.name) == ("ADDED", "existing")
    core.create_namespaced_config_map("default", _cm("live"))
    second = next(stream)
    assert (second["type"], second["object"].metadata.name) == ("ADDED", "live")


def test_watch_after_compaction_is_gone(core: Any, cluster: DevCluster) -> None:
    core.create_namespaced_config_map("default", _cm("old"))
    marker = core.list_namespaced_config_map("default").metadata.resource_version
    core.create_namespaced_config_map("default", _cm("new"))
    cluster.compact()
    with pytest.raises(ApiException) as expired:
        for _ in watch.Watch().stream(
            core.list_namespaced_config_map,
            "default",
            resource_version=marker,
            timeout_seconds=1,
        ):
            pass
    assert expired.value.status == 410
    # A watch from the current version still works.
    current = core.list_namespaced_config_map("default").metadata.resource_version
    events = list(
        watch.Watch().stream(
            core.list_namespaced_config_map,
            "default",
            resource_version=current,
            timeout_seconds=1,
        )
    )
    assert events == []


def test_label_selected_watch_sees_objects_leave(core: Any) -> None:
    core.create_namespaced_config_map(
        "default", {"metadata": {"name": "sel", "labels": {"team": "a"}}}
    )
    marker = core.list_namespaced_config_map("default").metadata.resource_version
    core.patch_namespaced_config_map("sel", "default", {"metadata": {"labels": {"team": "b"}}})
    seen = [
        (e["type"], e["object"].metadata.name)
        for e in watch.Watch().stream(
            core.list_namespaced_config_map,
            "default",
            label_selector="team=a",
            resource_version=marker,
            timeout_seconds=1,
        )
    ]
    assert seen == [("DELETED", "sel")]


def test_bookmarks_and_timeout(cluster: DevCluster) -> None:
    url = (
        f"{cluster.url}/api/v1/namespaces/default/configmaps?watch=true"
        f"&resourceVersion={cluster.store.resource_version}&allowWatchBookmarks=true"
        "&timeoutSeconds=1"
    )
    with urllib.request.urlopen(url, timeout=5) as reply:
        lines = [json.loads(line) for line in reply.read().splitlines() if line.strip()]
    assert lines
    assert {line["type"] for line in lines} == {"BOOKMARK"}
    assert lines[0]["object"]["metadata"]["resourceVersion"]


def test_restart_ends_watches_and_keeps_store(core: Any, cluster: DevCluster) -> None:
    core.create_namespaced_config_map("default", _cm("kept"))
    marker = core.list_namespaced_config_map("default").metadata.resource_version
    stream = watch.Watch().stream(
        core.list_namespaced_config_map, "default", resource_version=marker
    )
    port = cluster.port
    cluster.restart()
    assert cluster.port == port
    core.create_namespaced_config_map("default", _cm("after-restart"))
    # The client reconnects from its last version and sees only the new object.
    event = next(stream)
    assert event["object"].metadata.name == "after-restart"
    assert core.read_namespaced_config_map("kept", "default").data == {"k": "kept"}
    cluster.restart(keep_store=False)
    assert [c.metadata.name for c in core.list_namespaced_config_map("default").items] == []
