"""Pure pieces: selectors, patches and schema validation, without a server."""

from __future__ import annotations

import pytest

from provisioner.devcluster.errors import ApiError
from provisioner.devcluster.patch import json_patch, merge_patch, strategic_merge_patch
from provisioner.devcluster.schema import validate_custom_object
from provisioner.devcluster.selectors import parse_field_selector, parse_label_selector


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("app=web", True),
        ("app==web", True),
        ("app!=web", False),
        ("app in (web,api)", True),
        ("app notin (web)", False),
        ("tier", True),
        ("!tier", False),
        ("!missing", True),
        ("app=web,tier in (front)", True),
        ("", True),
    ],
)
def test_label_selectors(selector: str, expected: bool) -> None:
    assert parse_label_selector(selector)({"app": "web", "tier": "front"}) is expected


def test_bad_label_selector_is_a_bad_request() -> None:
    with pytest.raises(ApiError) as bad:
        parse_label_selector("a in b")
    assert bad.value.code == 400


def test_field_selectors() -> None:
    obj = {"metadata": {"name": "x"}, "spec": {"nodeName": "n1"}}
    assert parse_field_selector("metadata.name=x,spec.nodeName!=n2")(obj)
    assert not parse_field_selector("spec.nodeName=n2")(obj)


def test_strategic_merge_patch_directives() -> None:
    current = {
        "containers": [
            {"name": "a", "image": "1", "ports": [{"containerPort": 80, "name": "http"}]},
            {"name": "b", "image": "2"},
        ],
        "finalizers": ["x"],
        "volumes": [{"name": "v"}],
    }
    patched = strategic_merge_patch(
        current,
        {
            "containers": [
                {"name": "a", "ports": [{"containerPort": 81}]},
                {"name": "b", "$patch": "delete"},
            ],
            "$setElementOrder/containers": [{"name": "a"}],
            "finalizers": ["y"],
            "volumes": [{"$patch": "replace"}, {"name": "w"}],
        },
    )
    assert patched["containers"] == [
        {
            "name": "a",
            "image": "1",
            "ports": [{"containerPort": 80, "name": "http"}, {"containerPort": 81}],
        }
    ]
    assert patched["finalizers"] == ["x", "y"]
    assert patched["volumes"] == [{"name": "w"}]
    removed = strategic_merge_patch(patched, {"$deleteFromPrimitiveList/finalizers": ["x"]})
    assert removed["finalizers"] == ["y"]


def test_merge_and_json_patch() -> None:
    assert merge_patch({"a": {"b": 1, "c": 2}}, {"a": {"b": None}, "d": [1]}) == {
        "a": {"c": 2},
        "d": [1],
    }
    doc = {"a": [1, 2], "b": {"c": 1}}
    result = json_patch(
        doc,
        [
            {"op": "add", "path": "/a/-", "value": 3},
            {"op": "remove", "path": "/a/0"},
            {"op": "replace", "path": "/b/c", "value": 2},
            {"op": "copy", "from": "/b", "path": "/e"},
            {"op": "test", "path": "/e/c", "value": 2},
        ],
    )
    assert result == {"a": [2, 3], "b": {"c": 2}, "e": {"c": 2}}
    with pytest.raises(ApiError):
        json_patch(doc, [{"op": "test", "path": "/a/0", "value": 9}])


def test_schema_prunes_unknown_fields_and_reports_them() -> None:
    schema = {
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "properties": {"n": {"type": "integer", "minimum": 0}},
                "additionalProperties": False,
            }
        },
    }
    obj = {
        "apiVersion": "x/v1",
        "kind": "X",
        "metadata": {"name": "a"},
        "spec": {"n": 1, "unknown": True},
    }
    pruned, causes, unknown = validate_custom_object(obj, schema)
    assert causes == []
    assert unknown == ["spec.unknown"]
    assert pruned["spec"] == {"n": 1}
    _, causes, _ = validate_custom_object({**obj, "spec": {"n": -1}}, schema)
    assert causes[0]["field"] == "spec.n"
    assert "should be greater than or equal to 0" in causes[0]["message"]
