"""The emulator where a client (or an attacker) sends what it should not: token times that are not times, a
``nbf`` in the future, an audience that would forge a header parameter or cannot be encoded, secrets in headers
and in the query that the journal must not keep, heads too large, a request without ``Host``. Over loopback, on
both HTTP parsers where the server's own parsing is involved."""

from __future__ import annotations

import base64
import json
import socket
from collections.abc import Iterator
from typing import Literal

import httpx
import pytest
from speech_models._auth import _challenge_claims
from speech_models_emulator import create_app, run_emulator
from speech_models_emulator.server import RunningEmulator

NOW = 1_900_000_000.0
AUDIENCE = "https://cognitiveservices.azure.com"
V = "api-version=2025-10-15"


def jwt(**claims: object) -> str:
    def part(value: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")  # NaN and Infinity too

    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


@pytest.fixture(scope="module")
def entra() -> Iterator[RunningEmulator]:
    with run_emulator(create_app(count=2, key=None, entra=True, now=lambda: NOW)) as running:
        yield running


def _with_token(running: RunningEmulator, token: str) -> httpx.Response:
    return httpx.get(f"{running.url}/speechtotext/models?{V}", headers={"Authorization": f"Bearer {token}"})


@pytest.mark.parametrize(
    ("claims", "status", "why"),
    [
        ({"exp": NOW + 1}, 200, None),
        ({"exp": NOW}, 401, "expired"),  # exp is the first second it is no longer valid
        ({"exp": float("nan")}, 401, "exp is not a time"),
        ({"exp": float("inf")}, 401, "exp is not a time"),
        ({"exp": 1e308}, 401, "exp is not a time"),
        ({"exp": "2100-01-01"}, 401, "exp is not a time"),
        ({"exp": NOW + 60, "nbf": NOW + 30}, 401, "not valid yet"),
        ({"exp": NOW + 60, "nbf": NOW}, 200, None),
        ({"exp": NOW + 60, "nbf": float("nan")}, 401, "nbf is not a time"),
    ],
    ids=["valid", "exp-now", "exp-nan", "exp-inf", "exp-huge", "exp-text", "nbf-future", "nbf-now", "nbf-nan"],
)
def test_token_times_are_checked(
    entra: RunningEmulator, claims: dict[str, object], status: int, why: str | None
) -> None:
    answer = _with_token(entra, jwt(aud=AUDIENCE, **claims))
    assert answer.status_code == status
    if why is not None:
        assert why in answer.json()["message"]


def test_an_audience_cannot_forge_a_challenge_parameter(entra: RunningEmulator) -> None:
    forged = base64.b64encode(b'{"access_token":{}}').decode()
    answer = _with_token(entra, jwt(aud=f'x", claims="{forged}', exp=NOW + 60))
    assert answer.status_code == 401
    challenge = answer.headers["WWW-Authenticate"]
    assert challenge.count('"') == 4  # error="..." and error_description="...": the forged quotes are gone
    assert _challenge_claims(answer) is None


def test_an_audience_that_is_not_latin_1_is_a_401_not_a_500(entra: RunningEmulator) -> None:
    answer = _with_token(entra, jwt(aud="caf\u00e9 \u2603 \U0001f600", exp=NOW + 60))
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"].isascii()
    assert "\u2603" in answer.json()["message"]  # the body (JSON) says it as it was


def test_the_journal_keeps_no_secret() -> None:
    with run_emulator(count=2) as running:
        headers = {
            **running.admin_headers,
            "Proxy-Authorization": "Basic cHJveHk6c2VjcmV0",
            "Cookie": "session=secret-cookie",
        }
        httpx.get(f"{running.url}/speechtotext/models?{V}&subscription-key=secret-in-query", headers=headers)
        entry = running.requests[-1]
    text = json.dumps(entry)
    for secret in ("cHJveHk6c2VjcmV0", "secret-cookie", "secret-in-query", running.key):
        assert secret not in text
    assert entry["query"]["subscription-key"] == "[redacted]"
    assert entry["headers"]["proxy-authorization"] == entry["headers"]["cookie"] == "[redacted]"


PARSERS = pytest.mark.parametrize("http", ["h11", "httptools"])


@PARSERS
@pytest.mark.parametrize(
    "extra",
    [{"X-Big": "a" * 1_000_000}, {f"X-Many-{i}": "v" for i in range(5_000)}],
    ids=["one-megabyte-header", "five-thousand-headers"],
)
def test_a_head_too_large_is_refused(http: Literal["h11", "httptools"], extra: dict[str, str]) -> None:
    with run_emulator(count=2, http=http) as running:
        try:
            answer = httpx.get(f"{running.url}/speechtotext/models?{V}", headers={**running.admin_headers, **extra})
        except httpx.RemoteProtocolError:  # the parser itself hung up on it: refused too
            return
    assert answer.status_code in (400, 431)
    assert running.requests == [] or running.requests[-1]["status"] != 200


@PARSERS
def test_a_request_without_host_is_a_400(http: Literal["h11", "httptools"]) -> None:
    with run_emulator(count=2, http=http) as running:
        port = int(running.url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
            conn.sendall(
                f"GET /speechtotext/models?{V} HTTP/1.1\r\nOcp-Apim-Subscription-Key: {running.key}\r\n"
                "Connection: close\r\n\r\n".encode()
            )
            head = b""
            while b"\r\n" not in head:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                head += chunk
    assert head.split(b"\r\n", 1)[0].split(b" ")[1] == b"400"
