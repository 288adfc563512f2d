"""Decoding the few protobuf request bodies kubectl sends without asking.

kubectl's imperative ``create namespace|configmap|secret`` commands encode
their body as Kubernetes protobuf and do not fall back to JSON, and a demo
script is likely to use them. Those three kinds are simple enough to decode
from the wire format by field number; every other protobuf body is refused
with 415 so the caller knows to use ``kubectl apply -f`` or JSON.
"""

from __future__ import annotations

import base64
from typing import Any

from provisioner.devcluster.errors import ApiError

Obj = dict[str, Any]
MAGIC = b"k8s\x00"
Fields = list[tuple[int, int | bytes]]


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise ValueError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _fields(data: bytes) -> Fields:
    """Split a message into (field number, value) pairs, skipping fixed-width fields."""
    fields: Fields = []
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(data, pos)
            fields.append((number, value))
        elif wire == 2:
            length, pos = _varint(data, pos)
            fields.append((number, data[pos : pos + length]))
            pos += length
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
    return fields


def _text(value: int | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _map_entry(value: int | bytes) -> tuple[str, bytes]:
    entry = dict(_fields(value if isinstance(value, bytes) else b""))
    key = entry.get(1, b"")
    item = entry.get(2, b"")
    return _text(key), item if isinstance(item, bytes) else b""


def _metadata(data: bytes) -> Obj:
    meta: Obj = {}
    names = {1: "name", 2: "generateName", 3: "namespace"}
    for number, value in _fields(data):
        if number in names and value:
            meta[names[number]] = _text(value)
        elif number in (11, 12):
            key, item = _map_entry(value)
            meta.setdefault("labels" if number == 11 else "annotations", {})[key] = item.decode()
        elif number == 14:
            meta.setdefault("finalizers", []).append(_text(value))
    return meta


def _namespace(fields: Fields) -> Obj:
    obj: Obj = {"apiVersion": "v1", "kind": "Namespace"}
    for number, value in fields:
        if number == 1 and isinstance(value, bytes):
            obj["metadata"] = _metadata(value)
        elif number == 2 and isinstance(value, bytes):
            finalizers = [_text(v) for n, v in _fields(value) if n == 1]
            obj["spec"] = {"finalizers": finalizers} if finalizers else {}
    return obj


def _config_map(fields: Fields) -> Obj:
    obj: Obj = {"apiVersion": "v1", "kind": "ConfigMap"}
    for number, value in fields:
        if number == 1 and isinstance(value, bytes):
            obj["metadata"] = _metadata(value)
        elif number == 2:
            key, item = _map_entry(value)
            obj.setdefault("data", {})[key] = item.decode()
        elif number == 3:
            key, item = _map_entry(value)
            obj.setdefault("binaryData", {})[key] = base64.b64encode(item).decode()
        elif number == 4:
            obj["immutable"] = bool(value)
    return obj


def _secret(fields: Fields) -> Obj:
    obj: Obj = {"apiVersion": "v1", "kind": "Secret"}
    for number, value in fields:
        if number == 1 and isinstance(value, bytes):
            obj["metadata"] = _metadata(value)
        elif number == 2:
            key, item = _map_entry(value)
            obj.setdefault("data", {})[key] = base64.b64encode(item).decode()
        elif number == 3 and value:
            obj["type"] = _text(value)
        elif number == 4:
            key, item = _map_entry(value)
            obj.setdefault("stringData", {})[key] = item.decode()
        elif number == 5:
            obj["immutable"] = bool(value)
    return obj


DECODERS = {
    ("v1", "Namespace"): _namespace,
    ("v1", "ConfigMap"): _config_map,
    ("v1", "Secret"): _secret,
}


def decode(raw: bytes) -> Obj:
    """Decode a protobuf body of a supported kind, or refuse it with 415."""
    unsupported = ApiError(
        415,
        "the body of the request was in an unknown format - accepted media types include: "
        "application/json, application/yaml (protobuf only for Namespace, ConfigMap, Secret)",
        reason="UnsupportedMediaType",
    )
    if not raw.startswith(MAGIC):
        raise unsupported
    try:
        envelope = dict(_fields(raw[len(MAGIC) :]))
        type_meta = dict(_fields(envelope.get(1, b"") or b""))  # type: ignore[arg-type]
        key = (_text(type_meta.get(1, b"")), _text(type_meta.get(2, b"")))
        decoder = DECODERS.get(key)
        body = envelope.get(2, b"")
        if decoder is None or not isinstance(body, bytes):
            raise unsupported
        return decoder(_fields(body))
    except (ValueError, UnicodeDecodeError) as error:
        raise ApiError(400, f"the protobuf request body could not be decoded: {error}") from error
