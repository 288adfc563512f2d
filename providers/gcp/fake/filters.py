"""List filters and paging, as the list methods take them.

Filters: the forms a provider writes, and nothing else, so that a filter the fake cannot
evaluate is refused (400) rather than silently matching everything:

- ``name eq "k8s-.*"`` / ``name ne k8s-.*``: the older syntax, an RE2 regular expression
  that must match the whole value; several expressions in parentheses are ANDed;
- ``name = "web"``, ``name != "web"``, ``labels.owner = "abc"``, ``status = RUNNING``:
  exact comparison (booleans and numbers compare as their JSON text);
- ``labels.owner:*``: the field is present; ``field:value`` otherwise compares like ``=``,
  or tests membership when the field is a list;
- terms joined by ``AND`` (or juxtaposition) and ``OR``, with parentheses; AND binds tighter.

Paging: results are sorted by location then name; ``maxResults`` (1-500, default 500) cuts
a page; ``nextPageToken`` is opaque and carries where the next page starts, so deletes
between pages neither repeat nor skip the remaining items.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Sequence
from typing import Any

from providers.gcp.fake.errors import BadFilter, invalid_value

Item = dict[str, Any]
Predicate = Callable[[Item], bool]

_TOKEN = re.compile(
    r'\s*(?:(?P<open>\()|(?P<close>\))|(?P<quoted>"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\')'
    r"|(?P<op>!=|=|:|<=|>=|<|>|~)|(?P<word>[^\s()=!:<>~\"']+))"
)
MAX_RESULTS = 500


def _bad(text: str, why: str) -> BadFilter:
    return BadFilter(f"Invalid value for field 'filter': '{text}'. {why}")


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise _bad(text, f"Unexpected character at position {position}.")
        kind = match.lastgroup or ""
        value = match.group(kind)
        if kind == "quoted":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        out.append((kind, value))
        position = match.end()
    return out


def _lookup(item: Item, path: str) -> tuple[bool, Any]:
    current: Any = item
    for part in path.split("."):
        if not isinstance(current, dict) or part not in current:
            return False, None
        current = current[part]
    return True, current


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.position = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise _bad(self.text, "The expression ends too early.")
        self.position += 1
        return token

    def parse(self) -> Predicate:
        predicate = self.disjunction()
        if self.peek() is not None:
            raise _bad(self.text, f"Unexpected '{self.peek()[1]}'.")  # type: ignore[index]
        return predicate

    def disjunction(self) -> Predicate:
        terms = [self.conjunction()]
        while self.peek() == ("word", "OR"):
            self.take()
            terms.append(self.conjunction())
        if len(terms) == 1:
            return terms[0]
        return lambda item: any(term(item) for term in terms)

    def conjunction(self) -> Predicate:
        terms = [self.term()]
        while True:
            token = self.peek()
            if token is None or token[0] == "close" or token == ("word", "OR"):
                break
            if token == ("word", "AND"):
                self.take()
            terms.append(self.term())
        if len(terms) == 1:
            return terms[0]
        return lambda item: all(term(item) for term in terms)

    def term(self) -> Predicate:
        kind, value = self.take()
        if kind == "open":
            inner = self.disjunction()
            if self.take()[0] != "close":
                raise _bad(self.text, "Missing ')'.")
            return inner
        if kind != "word" or value in ("AND", "OR", "NOT") or value.startswith("-"):
            raise _bad(self.text, f"'{value}' is not supported here; write field OP value.")
        return self.comparison(value)

    def comparison(self, path: str) -> Predicate:
        kind, op = self.take()
        if kind == "word" and op in ("eq", "ne"):
            return self.regex(path, op == "eq")
        if kind != "op" or op not in ("=", "!=", ":"):
            raise _bad(self.text, f"Operator '{op}' is not supported; use =, !=, :, eq or ne.")
        kind, wanted = self.take()
        if kind not in ("word", "quoted"):
            raise _bad(self.text, f"Expected a value after '{op}'.")

        def matches(item: Item) -> bool:
            found, value = _lookup(item, path)
            if op == ":" and wanted == "*":
                return found
            if isinstance(value, list):
                hit = wanted in [_text(v) for v in value]
            else:
                hit = found and _text(value) == wanted
            return not hit if op == "!=" else hit

        return matches

    def regex(self, path: str, positive: bool) -> Predicate:
        kind, pattern = self.take()
        if kind not in ("word", "quoted"):
            raise _bad(self.text, "Expected a regular expression after eq or ne.")
        try:
            compiled = re.compile(pattern)
        except re.error as err:
            raise _bad(self.text, f"Bad regular expression: {err}.") from None

        def matches(item: Item) -> bool:
            found, value = _lookup(item, path)
            hit = found and compiled.fullmatch(_text(value)) is not None
            return hit == positive

        return matches


def compile_filter(text: str | None) -> Predicate:
    if not text or not text.strip():
        return lambda item: True
    return _Parser(text).parse()


def page(
    items: Sequence[tuple[tuple[str, str], Item]], query: dict[str, str]
) -> tuple[list[Item], str | None]:
    """Cut one page of (sort key, item) pairs, sorted here; returns the next token too."""
    raw = query.get("maxResults")
    limit = MAX_RESULTS
    if raw not in (None, "", "0"):
        try:
            limit = int(str(raw))
        except ValueError:
            raise invalid_value("maxResults", raw, "Must be an integer.") from None
        if not 0 < limit <= MAX_RESULTS:
            raise invalid_value("maxResults", raw, f"Must be between 0 and {MAX_RESULTS}.")
    order = query.get("orderBy")
    if order not in (None, "", "name"):
        raise invalid_value("orderBy", order, "Only ordering by name is supported.")
    ordered = sorted(items, key=lambda pair: pair[0])
    token = query.get("pageToken")
    if token:
        try:
            after = tuple(json.loads(base64.urlsafe_b64decode(token.encode())))
        except (ValueError, TypeError):
            raise invalid_value("pageToken", token, "Invalid page token.") from None
        ordered = [pair for pair in ordered if pair[0] > after]
    chosen = ordered[:limit]
    more = len(ordered) > limit
    next_token = None
    if more:
        next_token = base64.urlsafe_b64encode(json.dumps(list(chosen[-1][0])).encode()).decode()
    return [item for _, item in chosen], next_token
