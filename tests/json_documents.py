"""JSON documents drawn from OpenAPI 3.0 schemas, and reading every field of a model built from one: the round trip
the generated models must survive for our spec and for every shape of Microsoft's description."""

from __future__ import annotations

import datetime
import json
from typing import Any

from hypothesis import strategies as st

_INT32 = (-(2**31), 2**31 - 1)
_INT64 = (-(2**63), 2**63 - 1)


def json_strategy(schema: dict[str, Any], schemas: dict[str, Any], depth: int = 0) -> st.SearchStrategy[Any]:
    """JSON values for `schema` (``$ref``s resolved in `schemas`): optional fields may be absent or null; date-times
    include 7-digit fractions and -00:00; enums include values newer than the spec; numbers include JSON integers;
    objects get unlisted fields; maps get a few entries of their value schema."""
    if "$ref" in schema:
        target = schemas[schema["$ref"].rsplit("/", 1)[1]]
        if depth > 4 and "enum" not in target and not target.get("required"):
            return st.just({})
        return json_strategy(target, schemas, depth + 1)
    kind = schema.get("type")
    fmt = schema.get("format")
    if "enum" in schema:
        return st.sampled_from(schema["enum"]) | st.sampled_from(["FutureValue", "Paused"])
    if kind == "string" and fmt == "date-time":
        stamp = st.datetimes(min_value=datetime.datetime(1970, 1, 1), max_value=datetime.datetime(2100, 1, 1)).map(
            lambda d: d.strftime("%Y-%m-%dT%H:%M:%S")
        )
        fraction = st.sampled_from(["", ".5", ".123", ".1234567", ".0000001"])
        offset = st.sampled_from(["Z", "-00:00", "+00:00", "+05:30", "-08:00"])
        return st.tuples(stamp, fraction, offset).map("".join)
    if kind == "string" and fmt == "uuid":
        return st.uuids().map(str) | st.uuids().map(lambda u: str(u).upper())
    if kind == "string":
        return st.text(max_size=12)
    if kind == "integer":
        low, high = _INT64 if fmt == "int64" else _INT32
        return st.integers(low, high)
    if kind == "number":
        return st.integers(-(2**53), 2**53) | st.floats(allow_nan=False, allow_infinity=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        return st.lists(json_strategy(schema["items"], schemas, depth + 1), max_size=3)
    if kind == "object" or "properties" in schema or "additionalProperties" in schema:
        required = set(schema.get("required", []))
        properties = schema.get("properties", {})
        needed = {key: json_strategy(sub, schemas, depth + 1) for key, sub in properties.items() if key in required}
        fields = {
            key: st.none() | json_strategy(sub, schemas, depth + 1)
            for key, sub in properties.items()
            if key not in required
        }
        extra = schema.get("additionalProperties")
        extras: st.SearchStrategy[dict[str, Any]] = st.just({})
        if isinstance(extra, dict):
            extras = st.dictionaries(
                st.text(min_size=1, max_size=5), json_strategy(extra, schemas, depth + 1), max_size=2
            )
        elif extra is not False:
            extras = st.dictionaries(st.sampled_from(["zNewer", "zLater"]), st.integers() | st.text(max_size=3))
        return st.tuples(st.fixed_dictionaries(needed, optional=fields), extras).map(
            lambda pair: {**pair[0], **{k: v for k, v in pair[1].items() if k not in pair[0]}}
        )
    return st.none() | st.integers() | st.text(max_size=5) | st.lists(st.integers(), max_size=2)


def read_everything(model: Any) -> None:
    """Read every field, recursing into models, arrays of models and the values of maps."""
    for _, name in model._FIELDS:
        value = getattr(model, name)
        for item in value if isinstance(value, list) else [value]:
            if hasattr(item, "_FIELDS"):
                read_everything(item)
    for value in model.additional_properties.values():
        if hasattr(value, "_FIELDS"):
            read_everything(value)


def same_json(a: Any, b: Any) -> bool:
    """Equal as JSON text, so that 3 and 3.0, or key order, are told apart."""
    return json.dumps(a) == json.dumps(b)
