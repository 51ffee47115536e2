"""The OData subset the service accepts in ``filter`` for the models list, compiled to a predicate.

    expression := term ("or" term)*
    term       := factor ("and" factor)*
    factor     := "not" factor | "(" expression ")" | property operator literal
    operator   := eq | ne                 (every property)
                | gt | ge | lt | le       (createdDateTime, lastActionDateTime only)
    literal    := 'text with '' for a quote' | an ISO 8601 date-time (quoted or not)

Anything else raises ``FilterError``; the app answers it with 400 and the ``UnsupportedFilter`` detailed code.
"""

from __future__ import annotations

import datetime
import operator
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

__all__ = ["MAX_DEPTH", "MAX_LENGTH", "FilterError", "Record", "compile_filter"]

MAX_LENGTH = 4096
MAX_DEPTH = 32

Record = Mapping[str, Any]
Predicate = Callable[[Record], bool]

STRING_PROPERTIES = frozenset({"displayName", "description", "status", "locale"})
DATETIME_PROPERTIES = frozenset({"createdDateTime", "lastActionDateTime"})
_ORDERING: dict[str, Callable[[Any, Any], bool]] = {
    "gt": operator.gt,
    "ge": operator.ge,
    "lt": operator.lt,
    "le": operator.le,
}
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<lparen>\() | (?P<rparen>\)) |
        (?P<string>'(?:[^']|'')*') |
        (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,7})?)?(?:Z|[+-]\d{2}:\d{2})?) |
        (?P<number>-?\d+(?:\.\d+)?) |
        (?P<word>[A-Za-z_][A-Za-z0-9_]*) |
        (?P<other>\S)
    )""",
    re.VERBOSE,
)


class FilterError(ValueError):
    """The filter is outside the supported subset; the message says where and why."""


def _parse_datetime(text: str, where: str) -> datetime.datetime:
    try:
        value = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise FilterError(f"{where}: {text!r} is not an ISO 8601 date-time") from None
    if value.tzinfo is None:
        raise FilterError(f"{where}: the date-time {text!r} needs a time zone (Z or an offset)")
    return value


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens: list[tuple[str, str, int]] = []
        position = 0
        while position < len(text):
            match = _TOKEN.match(text, position)
            if match is None or match.end() == position:  # only trailing whitespace is left
                break
            kind = match.lastgroup or "other"
            self.tokens.append((kind, match.group(kind), match.start(kind)))
            position = match.end()
        self.index = 0

    def peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> tuple[str, str, int]:
        token = self.peek()
        if token is None:
            raise FilterError("the filter ends too early")
        if token[0] == "other":
            raise FilterError(f"unexpected character {token[1]!r} at position {token[2]}")
        self.index += 1
        return token

    def keyword(self, word: str) -> bool:
        token = self.peek()
        if token is not None and token[0] == "word" and token[1] == word:
            self.index += 1
            return True
        return False

    def expression(self, depth: int) -> Predicate:
        if depth > MAX_DEPTH:
            raise FilterError(f"the filter nests deeper than {MAX_DEPTH} levels")
        return self.joined(lambda: self.term(depth), "or", any)

    def term(self, depth: int) -> Predicate:
        return self.joined(lambda: self.factor(depth), "and", all)

    def joined(self, part: Callable[[], Predicate], word: str, combine: Callable[[Iterator[bool]], bool]) -> Predicate:
        """Parts separated by `word` ("or", "and"), combined by `combine` (any, all)."""
        parts = [part()]
        while self.keyword(word):
            parts.append(part())
        if len(parts) == 1:
            return parts[0]
        return lambda record: combine(p(record) for p in parts)

    def factor(self, depth: int) -> Predicate:
        if self.keyword("not"):
            if depth + 1 > MAX_DEPTH:
                raise FilterError(f"the filter nests deeper than {MAX_DEPTH} levels")
            inner = self.factor(depth + 1)
            return lambda record: not inner(record)
        kind, value, position = self.take()
        if kind == "lparen":
            inner = self.expression(depth + 1)
            closing = self.peek()
            if closing is None or closing[0] != "rparen":
                raise FilterError(f"the parenthesis at position {position} is not closed")
            self.index += 1
            return inner
        if kind != "word":
            raise FilterError(f"expected a property name at position {position}, found {value!r}")
        return self.comparison(value, position)

    def comparison(self, prop: str, position: int) -> Predicate:
        if prop not in STRING_PROPERTIES and prop not in DATETIME_PROPERTIES:
            supported = ", ".join(sorted(STRING_PROPERTIES | DATETIME_PROPERTIES))
            raise FilterError(f"{prop!r} at position {position} cannot be filtered on (supported: {supported})")
        kind, op, op_position = self.take()
        if kind != "word" or op not in ("eq", "ne", *_ORDERING):
            raise FilterError(f"expected an operator (eq, ne, gt, ge, lt, le) at position {op_position}")
        if op in _ORDERING and prop not in DATETIME_PROPERTIES:
            raise FilterError(f"{op!r} works on createdDateTime and lastActionDateTime only, not on {prop!r}")
        kind, literal, lit_position = self.take()
        where = f"position {lit_position}"
        if kind == "string":
            text = literal[1:-1].replace("''", "'")
        elif kind == "datetime":
            text = literal
        else:
            raise FilterError(f"expected a quoted string or a date-time at {where}, found {literal!r}")
        if prop in DATETIME_PROPERTIES:
            moment = _parse_datetime(text, where)
            if op == "eq":
                return lambda record: record.get(prop) == moment
            if op == "ne":
                return lambda record: record.get(prop) != moment
            compare = _ORDERING[op]
            return lambda record: record.get(prop) is not None and compare(record[prop], moment)
        if kind != "string":
            raise FilterError(f"{prop!r} compares with a quoted string, at {where}")
        if op == "eq":
            return lambda record: record.get(prop) == text
        return lambda record: record.get(prop) != text


def compile_filter(text: str) -> Predicate:
    """Compile an OData filter of the supported subset into a predicate over a model's filterable fields.

    Raises:
        FilterError: the filter is too long, malformed or outside the subset.
    """
    if len(text) > MAX_LENGTH:
        raise FilterError(f"the filter is {len(text)} characters long; at most {MAX_LENGTH} are accepted")
    parser = _Parser(text)
    if not parser.tokens:
        raise FilterError("the filter is empty")
    predicate = parser.expression(0)
    leftover = parser.peek()
    if leftover is not None:
        what = "character " if leftover[0] == "other" else ""
        raise FilterError(f"unexpected {what}{leftover[1]!r} at position {leftover[2]}")
    return predicate
