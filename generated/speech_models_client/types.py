"""Contains some shared types for properties"""

import datetime as _datetime
import uuid as _uuid
from collections.abc import Mapping, MutableMapping
from enum import Enum as _Enum
from http import HTTPStatus
from typing import IO, BinaryIO, ClassVar, Generic, Literal, Self, TypeVar
from typing import Any as _Any

from attrs import define

from .errors import FieldValueError


class Unset:
    def __bool__(self) -> Literal[False]:
        return False


UNSET: Unset = Unset()

# The types that `httpx.Client(files=)` can accept, copied from that library.
FileContent = IO[bytes] | bytes | str
FileTypes = (
    # (filename, file (or bytes), content_type)
    tuple[str | None, FileContent, str | None]
    # (filename, file (or bytes), content_type, headers)
    | tuple[str | None, FileContent, str | None, Mapping[str, str]]
)
RequestFiles = list[tuple[str, FileTypes]]


@define
class File:
    """Contains information for file uploads"""

    payload: BinaryIO
    file_name: str | None = None
    mime_type: str | None = None

    def to_tuple(self) -> FileTypes:
        """Return a tuple representation that httpx will accept for multipart/form-data"""
        return self.file_name, self.payload, self.mime_type


T = TypeVar("T")


@define
class Response(Generic[T]):
    """A response from an endpoint"""

    status_code: HTTPStatus
    content: bytes
    headers: MutableMapping[str, str]
    parsed: T | None


# --- helpers of the dict-backed models -----------------------------------------------------------------------

MISSING: _Any = object()
"""The cache's marker for "not parsed yet" (``None`` is a parsed value)."""

E = TypeVar("E", bound=_Enum)


def json_path(model: _Any, key: str | int | None = None) -> str:
    """Where `key` of `model` sits in the JSON the outermost model was parsed from: ``values[3].properties``."""
    parts: list[str | int] = [] if key is None else [key]
    where = model._where
    while where is not None:
        where, field, index = where
        if index is not None:
            parts.append(index)
        parts.append(field)
    text = ""
    for part in reversed(parts):
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "(root)"


def field_error(model: _Any, key: str | int, expected: str, found: object, index: int | None = None) -> FieldValueError:
    """The error for a value of the wrong type at `key` (item `index` of it, for an array) of `model`."""
    path = json_path(model, key) + ("" if index is None else f"[{index}]")
    return FieldValueError(type(model).__name__, path, expected, found)


fromisoformat = _datetime.datetime.fromisoformat


def parse_datetime(value: object, model: _Any, key: str, index: int | None = None) -> _datetime.datetime:
    """An RFC 3339 date-time with its offset; fractions beyond microseconds (the service sends 7 digits) are cut."""
    if isinstance(value, str):
        try:
            parsed = fromisoformat(value)
        except ValueError:
            pass
        else:
            if parsed.tzinfo is not None:
                return parsed
    raise field_error(model, key, "an RFC 3339 date-time with an offset", value, index)


def parse_uuid(value: object, model: _Any, key: str, index: int | None = None) -> _uuid.UUID:
    """A UUID string (any of the forms ``uuid.UUID`` reads; ``to_dict`` keeps the string as received)."""
    if isinstance(value, str):
        try:
            return _uuid.UUID(value)
        except ValueError:
            pass
    raise field_error(model, key, "a UUID string", value, index)


def format_datetime(value: _datetime.datetime) -> str:
    """The service's form of a date-time: ISO 8601, UTC written as "Z"."""
    if value.tzinfo is None:
        raise ValueError(f"a date-time needs a time zone to be sent: {value!r}")
    return value.isoformat().replace("+00:00", "Z")


def parse_enum(cls: type[E], value: object, model: _Any, key: str, index: int | None = None) -> E:
    """A member of the extensible enum `cls`; a string it does not list becomes a string-valued pseudo-member."""
    if isinstance(value, str):
        return cls(value)
    raise field_error(model, key, f"a {cls.__name__} string", value, index)


def check_str(value: object, model: _Any, key: str, index: int | None = None) -> str:
    if isinstance(value, str):
        return value
    raise field_error(model, key, "a string", value, index)


def check_int(value: object, model: _Any, key: str, index: int | None = None) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise field_error(model, key, "an integer", value, index)


def check_float(value: object, model: _Any, key: str, index: int | None = None) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise field_error(model, key, "a number", value, index)


def check_bool(value: object, model: _Any, key: str, index: int | None = None) -> bool:
    if isinstance(value, bool):
        return value
    raise field_error(model, key, "true or false", value, index)


def expect_object(value: object, model: _Any, key: str, index: int | None = None) -> dict[str, _Any]:
    if isinstance(value, dict):
        return value
    raise field_error(model, key, "a JSON object", value, index)


def expect_list(value: object, model: _Any, key: str) -> list[_Any]:
    if isinstance(value, list):
        return value
    raise field_error(model, key, "an array", value)


def copy_json(value: _Any) -> _Any:
    """A deep copy of a JSON value (dicts and lists copied, everything else shared: it is immutable)."""
    if isinstance(value, dict):
        return {key: copy_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [copy_json(item) for item in value]
    return value


_new = object.__new__


Where = tuple["Where | None", str, int | None]
"""Where a model sits in the JSON it was read from: (where its parent sits, the field, the index in an array).
A chain of tuples, not a reference to the parent model: a page and its models hold no cycle, so they are freed as
soon as the caller lets go of them, without the garbage collector."""


class JsonModel:
    """What every dict-backed model shares: the JSON object it wraps, the cache of parsed fields, where it sits in
    the JSON it was parsed from, and equality, repr, pickling and the mapping interface of unlisted fields."""

    __slots__ = ("_cache", "_data", "_where")
    _FIELDS: ClassVar[tuple[tuple[str, str], ...]] = ()
    _KNOWN: ClassVar[frozenset[str]] = frozenset()

    _data: dict[str, _Any]
    _cache: dict[str, _Any] | None  # made when a parsed value is first cached
    _where: Where | None  # None: the outermost model

    @classmethod
    def _wrap(cls, data: dict[str, _Any], parent: "JsonModel | None", field: str, index: int | None) -> Self:
        self = _new(cls)
        self._data = data
        self._cache = None
        self._where = None if parent is None else (parent._where, field, index)
        return self

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, _Any]) -> Self:
        """Wrap a JSON object; no field is parsed until it is read. The dict is held, not copied."""
        if isinstance(src_dict, dict):
            return cls._wrap(src_dict, None, "", None)
        if isinstance(src_dict, Mapping):
            return cls._wrap(dict(src_dict), None, "", None)
        raise FieldValueError(cls.__name__, "(root)", "a JSON object", src_dict)

    def to_dict(self) -> dict[str, _Any]:
        """The JSON object, as received (or as built): unknown fields kept, absent absent, null null, same order."""
        return {key: copy_json(value) for key, value in self._data.items()}

    @property
    def additional_keys(self) -> list[str]:
        """The names of the fields the spec does not list, in the order received."""
        return [key for key in self._data if key not in self._KNOWN]

    def __getitem__(self, key: str) -> _Any:
        """The raw JSON value of a field the spec does not list."""
        if key in self._KNOWN:
            raise KeyError(key)
        return self._data[key]

    def __contains__(self, key: str) -> bool:
        return key not in self._KNOWN and key in self._data

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, JsonModel) or other.__class__ is not self.__class__:
            return NotImplemented
        return self._data == other._data

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        data = self._data
        shown = [f"{name}={short_repr(data[key])}" for key, name in self._FIELDS if key in data]
        extra = sum(1 for key in data if key not in self._KNOWN)
        if extra:
            shown.append(f"+{extra} unlisted")
        return f"{type(self).__name__}({', '.join(shown)})"

    def __reduce__(self) -> tuple[_Any, tuple[dict[str, _Any]]]:
        return (type(self).from_dict, (self._data,))


M = TypeVar("M", bound=JsonModel)


def wrap_items(cls: type[M], value: object, parent: JsonModel, field: str) -> list[M]:
    """An array of objects as models of `cls`, each knowing where it sits (for the paths in errors). One loop
    with the wrapping inlined: a page's items are the one place where a call per item shows."""
    out: list[M] = []
    append = out.append
    outer = parent._where
    for index, item in enumerate(expect_list(value, parent, field)):
        if item.__class__ is not dict:
            item = expect_object(item, parent, field, index)
        model = _new(cls)
        model._data = item
        model._cache = None
        model._where = (outer, field, index)
        append(model)
    return out


def short_repr(value: _Any) -> str:
    """A value for a model's repr: strings cut at 40 characters, objects and arrays summarised."""
    if isinstance(value, dict):
        return "{...}"
    if isinstance(value, list):
        return f"[{len(value)} items]"
    text = repr(value)
    return text if len(text) <= 42 else text[:39] + "...'"


__all__ = [
    "MISSING",
    "UNSET",
    "File",
    "FileTypes",
    "JsonModel",
    "RequestFiles",
    "Response",
    "Unset",
    "check_bool",
    "check_float",
    "check_int",
    "check_str",
    "copy_json",
    "expect_list",
    "expect_object",
    "field_error",
    "format_datetime",
    "fromisoformat",
    "json_path",
    "parse_datetime",
    "parse_enum",
    "parse_uuid",
    "short_repr",
    "wrap_items",
]
