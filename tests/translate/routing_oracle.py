"""An independent oracle of Kubernetes Ingress routing, written from the design's rules alone.

It shares no code with the translation: given the Ingresses of one load balancer and a
request, it answers the way the Kubernetes Ingress specification does. The host decides
first (exact, then a one-label wildcard, then rules without a host); among the chosen host's
paths an Exact match wins, then the Prefix match with the most path elements, then the first
glob; ties go to the lower group order, then namespace/name, then rule and path index. With no
match the default backend of the most senior Ingress answers, or 404.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

NOT_FOUND = "404"
ORDER_KEYS = ("alb.ingress.kubernetes.io/group.order", "provisioner.io/group-order")


def _order(ingress: Mapping[str, Any]) -> int:
    annotations = ingress["metadata"].get("annotations") or {}
    for key in ORDER_KEYS:
        if key in annotations:
            return int(annotations[key])
    return 0


def _ref(ingress: Mapping[str, Any]) -> str:
    return f"{ingress['metadata'].get('namespace', 'default')}/{ingress['metadata']['name']}"


def _answer(ingress: Mapping[str, Any], backend: Mapping[str, Any]) -> str:
    service = backend["service"]
    port = service["port"].get("number", service["port"].get("name"))
    return f"{ingress['metadata'].get('namespace', 'default')}/{service['name']}:{port}"


def _host_matches(pattern: str, host: str) -> bool:
    if pattern.startswith("*."):
        first, dot, rest = host.partition(".")
        return bool(first) and bool(dot) and rest == pattern[2:]
    return pattern == host


def _elements(path: str) -> list[str]:
    return [part for part in path.split("/") if part]


def _glob(pattern: str, text: str) -> bool:
    if not pattern:
        return not text
    head = pattern[0]
    if head == "*":
        return any(_glob(pattern[1:], text[i:]) for i in range(len(text) + 1))
    if not text:
        return False
    return (head == "?" or head == text[0]) and _glob(pattern[1:], text[1:])


def route(ingresses: Sequence[Mapping[str, Any]], host: str, path: str) -> str:
    """`<ns>/<service>:<port>` of the backend that serves the request, or "404"."""
    host = host.lower()
    rules = [
        (ingress, index, rule)
        for ingress in ingresses
        for index, rule in enumerate(ingress["spec"].get("rules") or [])
    ]
    chosen = [r for r in rules if r[2].get("host") == host]
    if not chosen:
        chosen = [r for r in rules if r[2].get("host") and _host_matches(r[2]["host"], host)]
    if not chosen:
        chosen = [r for r in rules if not r[2].get("host")]
    exact, prefix, glob = [], [], []
    for ingress, index, rule in chosen:
        for position, item in enumerate((rule.get("http") or {}).get("paths") or []):
            tie = (_order(ingress), _ref(ingress), index, position)
            answer = _answer(ingress, item["backend"])
            wanted = item.get("path")
            kind = item["pathType"]
            if kind == "Exact" and wanted == path:
                exact.append((tie, answer))
            elif kind == "Prefix":
                need = _elements(wanted)
                if _elements(path)[: len(need)] == need:
                    prefix.append(((-len(need), *tie), answer))
            elif kind == "ImplementationSpecific" and (not wanted or _glob(wanted, path)):
                glob.append((tie, answer))
    for found in (exact, prefix, glob):
        if found:
            return str(min(found, key=lambda item: item[0])[1])
    senior = sorted(
        (i for i in ingresses if i["spec"].get("defaultBackend")),
        key=lambda i: (i["metadata"].get("creationTimestamp") or "", _ref(i)),
    )
    return _answer(senior[0], senior[0]["spec"]["defaultBackend"]) if senior else NOT_FOUND


def by_port_number(answer: str, services: Sequence[Mapping[str, Any]]) -> str:
    """`ns/svc:http` -> `ns/svc:80` when Service ns/svc names port 80 `http`.

    The oracle answers with the port as the Ingress path names it; a load balancer has one
    backend per Service port, however the paths name it, so comparisons use the number.
    """
    where, sep, port = answer.rpartition(":")
    if not sep or port.isdigit():
        return answer
    namespace, _, name = where.partition("/")
    for service in services:
        meta = service.get("metadata") or {}
        if (meta.get("namespace", "default"), meta.get("name")) != (namespace, name):
            continue
        for entry in (service.get("spec") or {}).get("ports") or []:
            if entry.get("name") == port:
                return f"{where}:{entry.get('port')}"
    return answer
