"""Label and field selectors, parsed from query strings and from objects.

Lists, watches and the simulated controllers all filter objects by selector;
one parser keeps ``?labelSelector=`` and a Service's ``spec.selector`` meaning
the same thing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from provisioner.devcluster.errors import bad_request

Predicate = Callable[[dict[str, Any]], bool]

_SET_RE = re.compile(r"^\s*([^\s!=()]+)\s+(in|notin)\s+\(([^)]*)\)\s*$")
_EQ_RE = re.compile(r"^\s*([^\s!=]+)\s*(==|=|!=)\s*([^\s,]*)\s*$")
_EXISTS_RE = re.compile(r"^\s*(!?)\s*([^\s!=()]+)\s*$")


def _split_terms(text: str) -> list[str]:
    """Split on commas that are not inside a parenthesised value set."""
    terms: list[str] = []
    depth = 0
    current = ""
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            terms.append(current)
            current = ""
        else:
            current += char
    if current.strip():
        terms.append(current)
    return [term for term in terms if term.strip()]


LabelCheck = Callable[[Mapping[str, str]], bool]


def _label_check(key: str, operator: str, values: frozenset[str]) -> LabelCheck:
    def check(labels: Mapping[str, str]) -> bool:
        if operator == "in":
            return labels.get(key) in values
        if operator == "notin":
            return labels.get(key) not in values
        if operator == "exists":
            return key in labels
        if operator == "!exists":
            return key not in labels
        if operator == "!=":
            return labels.get(key) not in values
        return labels.get(key) in values

    return check


def parse_label_selector(text: str) -> LabelCheck:
    """Compile ``a=b,c in (d,e),!f`` into a predicate over a label map."""
    checks: list[LabelCheck] = []
    for term in _split_terms(text or ""):
        if match := _SET_RE.match(term):
            key, operator, raw = match.groups()
            values = frozenset(v.strip() for v in raw.split(",") if v.strip())
            checks.append(_label_check(key, operator, values))
        elif match := _EQ_RE.match(term):
            key, operator, value = match.groups()
            checks.append(_label_check(key, operator, frozenset({value})))
        elif match := _EXISTS_RE.match(term):
            negate, key = match.groups()
            checks.append(_label_check(key, "!exists" if negate else "exists", frozenset()))
        else:
            raise bad_request(f"unable to parse requirement: invalid label selector {term!r}")
    return lambda labels: all(check(labels) for check in checks)


def _field_value(obj: dict[str, Any], path: str) -> str:
    node: Any = obj
    for part in path.split("."):
        if not isinstance(node, dict):
            return ""
        node = node.get(part)
    if node is None:
        return ""
    if isinstance(node, bool):
        return "true" if node else "false"
    return str(node)


def _field_check(path: str, operator: str, value: str) -> Predicate:
    def check(obj: dict[str, Any]) -> bool:
        if operator == "!=":
            return _field_value(obj, path) != value
        return _field_value(obj, path) == value

    return check


def parse_field_selector(text: str) -> Predicate:
    """Compile ``metadata.name=x,spec.nodeName!=y`` over any dotted path."""
    checks: list[Predicate] = []
    for term in _split_terms(text or ""):
        match = _EQ_RE.match(term)
        if not match:
            raise bad_request(f"invalid field selector: {term!r}")
        checks.append(_field_check(*match.groups()))
    return lambda obj: all(check(obj) for check in checks)


def object_filter(label_selector: str, field_selector: str) -> Predicate:
    """One predicate for the selectors a list or watch request carries."""
    labels_match = parse_label_selector(label_selector)
    fields_match = parse_field_selector(field_selector)

    def matches(obj: dict[str, Any]) -> bool:
        labels = obj.get("metadata", {}).get("labels") or {}
        return labels_match(labels) and fields_match(obj)

    return matches


def match_labels(selector: Mapping[str, str] | None, labels: Mapping[str, str] | None) -> bool:
    """A Service-style selector: every key must match; an empty one matches nothing."""
    if not selector:
        return False
    labels = labels or {}
    return all(labels.get(key) == value for key, value in selector.items())


def match_label_selector(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """A Deployment-style ``matchLabels``/``matchExpressions`` selector."""
    if not selector:
        return False
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key = expression.get("key", "")
        operator = expression.get("operator", "")
        values = set(expression.get("values") or [])
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and labels.get(key) in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def selector_string(selector: Mapping[str, Any] | None) -> str:
    """Render a ``matchLabels`` selector the way Scale.status.selector carries it."""
    if not selector:
        return ""
    return ",".join(f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items()))
