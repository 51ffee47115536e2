"""The fast JSON path (msgspec, the ``[fast]`` extra) gives exactly what ``json`` gives: the same values from the
same bytes, hypothesis documents of the spec and arbitrary bytes alike, the same error where ``json`` refuses, and
the same models and ``to_dict()``; without msgspec the standard library decodes."""

from __future__ import annotations

import importlib
import json
import sys
from typing import Any

import httpx
import pytest
import speech_models as sm
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from speech_models import _json
from speech_models_client.models import PaginatedCustomModels

from tests.conftest import SPEC_PATH
from tests.json_documents import json_strategy, same_json

_SCHEMAS = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))["components"]["schemas"]


def _verdict(loads: Any, content: bytes) -> tuple[str, Any]:
    try:
        return "ok", json.dumps(loads(content))
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return type(exc).__name__, None


def test_the_projects_environment_decodes_with_msgspec() -> None:
    """The fast path is the one the rest of this suite exercises (msgspec is a pinned test dependency)."""
    assert _json.DECODER == "msgspec"


@pytest.mark.parametrize(
    "content",
    [
        b'{"big": 123456789012345678901234567890, "negative": -9223372036854775809}',  # orjson would make floats
        b"[1e400, -1e400]",  # infinities
        b"[NaN, Infinity, -Infinity]",
        b'["\\ud800", "\\udfff"]',  # lone surrogates, escaped
        b'["\xed\xa0\x80"]',  # a lone surrogate, encoded
        b"\xef\xbb\xbf[1]",  # a UTF-8 byte order mark
        b'{"a": 1, "a": 2}',  # the last duplicate wins
        b"[1.0, 1, -0.0, 0.1, 1E5, 5e-324]",
        b"{bad",
        b"[1,]",
        b'["\xff"]',
        b"[" * 5_000 + b"]" * 5_000,
    ],
    ids=["bigint", "inf", "nan", "surrogate", "encoded-surrogate", "bom", "duplicate", "numbers", "bad", "trailing",
         "not-utf8", "deep"],
)  # fmt: skip
def test_what_msgspec_refuses_or_reads_differently_json_decides(content: bytes) -> None:
    assert _verdict(_json.loads, content) == _verdict(json.loads, content)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=json_strategy(_SCHEMAS["PaginatedCustomModels"], _SCHEMAS), big=st.integers())
def test_documents_of_the_spec_decode_to_the_same_models(document: dict[str, Any], big: int) -> None:
    document["zBig"] = big  # unbounded: past 64 bits too
    content = json.dumps(document).encode()
    fast, reference = _json.loads(content), json.loads(content)
    assert same_json(fast, reference)
    assert same_json(
        PaginatedCustomModels.from_dict(fast).to_dict(), PaginatedCustomModels.from_dict(reference).to_dict()
    )


@settings(max_examples=500, deadline=None)
@given(content=st.binary(max_size=64) | st.text(max_size=64).map(str.encode))
def test_arbitrary_bytes_get_the_same_verdict(content: bytes) -> None:
    assert _verdict(_json.loads, content) == _verdict(json.loads, content)


def test_without_msgspec_the_standard_library_decodes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "msgspec", None)  # import msgspec now raises ImportError
    try:
        plain = importlib.reload(_json)
        assert plain.DECODER == "json"
        assert plain.loads is plain.stdlib_loads
    finally:
        monkeypatch.undo()
        importlib.reload(_json)
    assert _json.DECODER == "msgspec"


def test_a_listing_keeps_an_integer_past_64_bits_exactly() -> None:
    body = b'{"values": [{"displayName": "a", "zCount": 123456789012345678901234567890}]}'

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-type": "application/json"})

    with sm.SpeechToTextModels("https://x.example", "k", transport=httpx.MockTransport(handler)) as client:
        (model,) = client.list_models()
    assert model["zCount"] == 123456789012345678901234567890
    assert json.dumps(model.to_dict()) == json.dumps(json.loads(body)["values"][0])
