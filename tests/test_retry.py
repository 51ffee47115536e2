"""Retry-After parsing and the retry transports, driven by a fake clock and fake sleeps (no real waiting)."""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import os
import random
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import speech_models as sm
from speech_models import AsyncRetryTransport, ConfigurationError, RetryPolicy, RetryTransport, parse_retry_after

from tests.fakes import FakeClock
from tests.loopback import ScriptedServer, head, page_body

NOW = 1_700_000_000.0  # a fixed wall-clock time for HTTP-dates


def _http_date(offset: float, usegmt: bool = True) -> str:
    return email.utils.formatdate(NOW + offset, usegmt=usegmt)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, None),
        ({"Retry-After": "0"}, 0.0),
        ({"Retry-After": "7"}, 7.0),
        ({"Retry-After": " 12 "}, 12.0),
        ({"Retry-After": "1.5"}, 1.5),
        ({"Retry-After": _http_date(30)}, 30.0),
        ({"Retry-After": "Tue, 14 Nov 2023 22:13:50 GMT"}, 30.0),  # IMF-fixdate
        ({"Retry-After": "Tuesday, 14-Nov-23 22:13:50 GMT"}, 30.0),  # RFC 850
        ({"Retry-After": "Tue Nov 14 22:13:50 2023"}, 30.0),  # asctime
        ({"Retry-After": "Tue, 14 Nov 2023 23:13:50 +0100"}, 30.0),  # not GMT, against RFC 9110: its zone is kept
        ({"Retry-After": _http_date(-300)}, 0.0),  # a date in the past: no wait
        ({"Retry-After": "-5"}, None),
        ({"Retry-After": "soon"}, None),
        ({"Retry-After": ""}, None),
        ({"Retry-After": "nan"}, None),
        ({"Retry-After": "inf"}, None),
        ({"retry-after-ms": "250"}, 0.25),
        ({"x-ms-retry-after-ms": "1500"}, 1.5),
        ({"retry-after-ms": "100", "x-ms-retry-after-ms": "900", "Retry-After": "9"}, 0.1),
        ({"x-ms-retry-after-ms": "900", "Retry-After": "9"}, 0.9),
        ({"retry-after-ms": "garbage", "Retry-After": "4"}, 4.0),
        ({"retry-after-ms": "-1", "x-ms-retry-after-ms": "300"}, 0.3),
        ({"retry-after-ms": "0", "Retry-After": "9"}, 0.0),  # zero is a valid wait: it wins
        ({"retry-after-ms": "0.5", "Retry-After": "9"}, 0.0005),
    ],
)
def test_parse_retry_after(headers: dict[str, str], expected: float | None) -> None:
    assert parse_retry_after(httpx.Headers(headers), now=NOW) == expected


def test_an_http_date_without_now_is_measured_from_the_wall_clock() -> None:
    wait = parse_retry_after({"Retry-After": email.utils.formatdate(time.time() + 3600, usegmt=True)})
    assert wait is not None
    assert 3590 <= wait <= 3600


def test_an_asctime_date_is_gmt_whatever_the_local_zone() -> None:
    """asctime carries no zone; HTTP says GMT. Run where local time is nine hours ahead of GMT."""
    code = (
        "from speech_models import parse_retry_after; "
        "print(parse_retry_after({'Retry-After': 'Tue Nov 14 22:13:50 2023'}, now=1_700_000_000.0))"
    )
    env = {**os.environ, "TZ": "Asia/Tokyo"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert result.stdout.strip() == "30.0"


@pytest.mark.parametrize("value", ["1.5", _http_date(1)])
def test_the_debug_log_names_the_header_a_wait_came_from(value: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="speech_models")
    answers = iter([httpx.Response(503, headers={"Retry-After": value}), httpx.Response(200)])
    clock = FakeClock()
    transport = RetryTransport(
        httpx.MockTransport(lambda request: next(answers)), sleep=clock.sleep, clock=clock, now=lambda: NOW
    )
    with httpx.Client(transport=transport) as client:
        assert client.get("https://x/").status_code == 200
    assert "503, wait from retry-after" in caplog.text


Script = list[httpx.Response | Exception]


class Scripted:
    """Answers each attempt with the next scripted response or exception, and records the requests."""

    def __init__(self, script: Script) -> None:
        self.script = list(script)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        item = self.script.pop(0)
        if isinstance(item, Exception):
            raise item
        return item


def _send(kind: str, script: Script, method: str = "GET", **policy: float | int | None) -> tuple:  # type: ignore[type-arg]
    """Send one request through the sync or async retry transport; return (response or error, scripted, time)."""
    scripted = Scripted(script)
    fake = FakeClock()
    common: dict[str, Any] = {
        "policy": RetryPolicy(**policy),  # type: ignore[arg-type]
        "clock": fake,
        "now": lambda: NOW,
        "rng": random.Random(7),
    }
    request = httpx.Request(method, "https://example.test/speechtotext/models")
    try:
        if kind == "sync":
            transport = RetryTransport(httpx.MockTransport(scripted), sleep=fake.sleep, **common)
            return transport.handle_request(request), scripted, fake
        atransport = AsyncRetryTransport(httpx.MockTransport(scripted), sleep=fake.asleep, **common)
        return asyncio.run(atransport.handle_async_request(request)), scripted, fake
    except httpx.TransportError as exc:
        return exc, scripted, fake


KINDS = pytest.mark.parametrize("kind", ["sync", "async"])


def ok() -> httpx.Response:
    return httpx.Response(200, json={"values": []})


@KINDS
@pytest.mark.parametrize(
    ("status", "headers", "expected_wait"),
    [
        (429, {"Retry-After": "2"}, 2.0),
        (503, {"Retry-After": _http_date(5)}, 5.0),
        (429, {"x-ms-retry-after-ms": "1200"}, 1.2),
        (429, {"retry-after-ms": "40", "Retry-After": "9"}, 0.04),
    ],
)
def test_waits_what_the_server_asks_then_retries(
    kind: str, status: int, headers: dict[str, str], expected_wait: float
) -> None:
    response, scripted, fake = _send(kind, [httpx.Response(status, headers=headers), ok()])
    assert response.status_code == 200
    assert len(scripted.requests) == 2
    assert fake.sleeps == [pytest.approx(expected_wait)]


@KINDS
@pytest.mark.parametrize("status", [500, 502, 503, 504, 429])
def test_idempotent_get_retries_server_errors(kind: str, status: int) -> None:
    response, _scripted, fake = _send(kind, [httpx.Response(status), ok()])
    assert response.status_code == 200
    assert len(fake.sleeps) == 1


@KINDS
@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 501])
def test_other_statuses_are_not_retried(kind: str, status: int) -> None:
    response, _scripted, fake = _send(kind, [httpx.Response(status)])
    assert response.status_code == status
    assert fake.sleeps == []


@KINDS
def test_post_retries_only_throttling(kind: str) -> None:
    response, _, fake = _send(kind, [httpx.Response(500)], method="POST")
    assert response.status_code == 500
    assert fake.sleeps == []
    response, _, fake = _send(kind, [httpx.Response(503, headers={"Retry-After": "1"}), ok()], method="POST")
    assert response.status_code == 200
    assert fake.sleeps == [1.0]
    error, _, fake = _send(kind, [httpx.ReadTimeout("slow")], method="POST")
    assert isinstance(error, httpx.ReadTimeout)
    assert fake.sleeps == []


@KINDS
@pytest.mark.parametrize(
    "error", [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("reset")]
)
def test_connection_errors_and_read_timeouts_are_retried(kind: str, error: Exception) -> None:
    response, scripted, fake = _send(kind, [error, ok()])
    assert response.status_code == 200
    assert len(scripted.requests) == 2
    assert len(fake.sleeps) == 1


@KINDS
def test_garbage_or_negative_retry_after_falls_back_to_jittered_exponential_backoff(kind: str) -> None:
    script: Script = [
        httpx.Response(503, headers={"Retry-After": "later"}),
        httpx.Response(503, headers={"Retry-After": "-3"}),
        httpx.Response(503),
        ok(),
    ]
    response, _, fake = _send(kind, script, backoff_base=1.0, backoff_max=100.0)
    assert response.status_code == 200
    assert len(fake.sleeps) == 3
    for retry, wait in enumerate(fake.sleeps):
        ceiling = 1.0 * 2**retry
        assert ceiling / 2 <= wait <= ceiling


@KINDS
def test_backoff_is_capped_by_backoff_max(kind: str) -> None:
    _, _, fake = _send(kind, [httpx.Response(500)] * 4, max_retries=3, backoff_base=10.0, backoff_max=4.0)
    assert len(fake.sleeps) == 3
    assert all(2.0 <= wait <= 4.0 for wait in fake.sleeps)


@KINDS
def test_gives_up_after_max_retries_and_returns_the_last_response(kind: str) -> None:
    script: Script = [httpx.Response(503, headers={"Retry-After": "1"}, text=f"attempt {i}") for i in range(5)]
    response, scripted, fake = _send(kind, script, max_retries=2)
    assert response.status_code == 503
    assert len(scripted.requests) == 3
    assert fake.sleeps == [1.0, 1.0]
    assert response.read() == b"attempt 2"


@KINDS
def test_zero_retries_sends_once(kind: str) -> None:
    response, scripted, fake = _send(kind, [httpx.Response(429, headers={"Retry-After": "1"})], max_retries=0)
    assert response.status_code == 429
    assert len(scripted.requests) == 1
    assert fake.sleeps == []


@KINDS
def test_a_wait_over_the_cap_is_not_slept_but_returned(kind: str) -> None:
    response, scripted, fake = _send(kind, [httpx.Response(429, headers={"Retry-After": "600"}), ok()], max_wait=30.0)
    assert response.status_code == 429
    assert parse_retry_after(response.headers) == 600.0
    assert fake.sleeps == []
    assert len(scripted.requests) == 1


@KINDS
def test_overall_deadline_stops_retrying(kind: str) -> None:
    script: Script = [httpx.Response(503, headers={"Retry-After": "4"}) for _ in range(4)]
    response, scripted, fake = _send(kind, script, deadline=10.0, max_retries=10)
    assert response.status_code == 503
    assert fake.sleeps == [4.0, 4.0]  # a third wait would end at 12s, past the 10s deadline
    assert len(scripted.requests) == 3


@KINDS
def test_transport_error_is_raised_when_retries_run_out(kind: str) -> None:
    error, scripted, fake = _send(kind, [httpx.ConnectError("refused")] * 3, max_retries=2)
    assert isinstance(error, httpx.ConnectError)
    assert len(scripted.requests) == 3
    assert len(fake.sleeps) == 2


def test_discarded_responses_are_closed_before_waiting() -> None:
    closed: list[bool] = []

    class TrackingStream(httpx.SyncByteStream):
        def __iter__(self):  # type: ignore[no-untyped-def]
            yield b""

        def close(self) -> None:
            closed.append(True)

    responses = [httpx.Response(503, headers={"Retry-After": "0"}, stream=TrackingStream()), ok()]
    events: list[str] = []

    def sleep(seconds: float) -> None:
        events.append(f"sleep with {len(closed)} closed")

    transport = RetryTransport(httpx.MockTransport(lambda request: responses.pop(0)), sleep=sleep)
    assert transport.handle_request(httpx.Request("GET", "https://example.test/")).status_code == 200
    assert events == ["sleep with 1 closed"]


def test_discarded_async_responses_are_closed_before_waiting() -> None:
    closed: list[bool] = []

    class TrackingStream(httpx.AsyncByteStream):
        async def __aiter__(self):  # type: ignore[no-untyped-def]
            yield b""

        async def aclose(self) -> None:
            closed.append(True)

    responses = [httpx.Response(503, headers={"Retry-After": "0"}, stream=TrackingStream()), ok()]
    events: list[str] = []

    async def sleep(seconds: float) -> None:
        events.append(f"sleep with {len(closed)} closed")

    transport = AsyncRetryTransport(httpx.MockTransport(lambda request: responses.pop(0)), sleep=sleep)
    response = asyncio.run(transport.handle_async_request(httpx.Request("GET", "https://example.test/")))
    assert response.status_code == 200
    assert events == ["sleep with 1 closed"]


@KINDS
def test_backoff_is_clipped_to_max_wait(kind: str) -> None:
    _, _, fake = _send(
        kind, [httpx.Response(500)] * 4, max_retries=3, backoff_base=10.0, backoff_max=20.0, max_wait=1.5
    )
    assert len(fake.sleeps) == 3
    assert all(0.75 <= wait <= 1.5 for wait in fake.sleeps)


def test_closing_the_retry_transport_closes_the_wrapped_one() -> None:
    class Wrapped(httpx.BaseTransport):
        closed = False

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            return ok()

        def close(self) -> None:
            self.closed = True

    wrapped = Wrapped()
    with httpx.Client(transport=RetryTransport(wrapped)):
        pass
    assert wrapped.closed


@pytest.mark.parametrize(
    "kwargs",
    [{"max_retries": -1}, {"max_wait": -1.0}, {"deadline": -5.0}, {"backoff_base": -0.1}],
)
def test_policy_rejects_negative_limits(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must be 0 or more"):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


def test_retry_decisions_are_logged_with_their_source(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG", logger="speech_models")
    _send("sync", [httpx.Response(429, headers={"Retry-After": "3"}), ok()])
    assert (
        "retrying GET https://example.test/speechtotext/models in 3.000s (retry 1 of 3): 429, wait from retry-after"
        in caplog.text
    )


def test_an_async_hook_on_the_sync_transport_is_a_configuration_error() -> None:
    async def hook(event: Any) -> None:
        return None

    answers = iter([httpx.Response(503, headers={"Retry-After": "1"}), httpx.Response(200)])
    transport = RetryTransport(
        httpx.MockTransport(lambda request: next(answers)), policy=RetryPolicy(on_retry=hook), sleep=FakeClock().sleep
    )
    with httpx.Client(transport=transport) as client, pytest.raises(ConfigurationError, match="needs the async client"):
        client.get("https://x/")


class _RotatedKey:
    def __init__(self) -> None:
        self.key = "old"


@KINDS
def test_a_resend_after_a_401_starts_from_the_callers_timeouts(kind: str) -> None:
    """The 401 comes 25 s into a 30 s attempt: the re-send with the rotated key gets 30 s again, not the 5 left."""
    fake = FakeClock()
    credential = _RotatedKey()
    seen: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(dict(request.extensions["timeout"]))
        if len(seen) == 1:
            credential.key = "new"
            fake.now += 25
            return httpx.Response(401, json={"code": "Unauthorized", "message": "key"})
        return httpx.Response(200, json={"values": []})

    common: dict[str, Any] = {"credential": credential, "timeout": 30, "clock": fake}
    if kind == "sync":
        with sm.SpeechToTextModels("https://x.example", transport=httpx.MockTransport(handler), **common) as client:
            assert list(client.list_models()) == []
    else:

        async def go() -> None:
            transport = httpx.MockTransport(handler)
            async with sm.AsyncSpeechToTextModels("https://x.example", transport=transport, **common) as client:
                assert [m async for m in client.list_models()] == []

        asyncio.run(go())
    assert len(seen) == 2
    assert seen[1]["read"] == pytest.approx(30)
    assert seen[1] == seen[0]


@KINDS
def test_a_resend_after_a_401_over_a_socket_gets_the_callers_whole_read_timeout(kind: str) -> None:
    """The loopback twin: the 401 comes 0.9 s into a 1 s attempt (by the client's clock); the re-send's answer
    takes 0.3 s, which the 0.1 s a reused cut would have left it could not wait for."""
    fake = FakeClock()
    credential = _RotatedKey()

    def refused_late(conn: socket.socket) -> None:
        credential.key = "new"
        fake.now += 0.9
        body = b'{"code": "Unauthorized", "message": "key"}'
        conn.sendall(head(401, None, len(body)) + body)

    def answered_after(conn: socket.socket) -> None:
        time.sleep(0.3)  # the server is slow to answer: what a read timeout is for
        body = page_body(0)
        conn.sendall(head(200, None, len(body)) + body)

    with ScriptedServer([refused_late, answered_after]) as server:
        common: dict[str, Any] = {"credential": credential, "timeout": 1, "clock": fake}
        if kind == "sync":
            with sm.SpeechToTextModels(server.url, **common) as client:
                assert list(client.list_models()) == []
        else:

            async def go() -> None:
                async with sm.AsyncSpeechToTextModels(server.url, **common) as client:
                    assert [m async for m in client.list_models()] == []

            asyncio.run(go())
        assert server.connections == 2


@KINDS
def test_the_transport_never_writes_into_the_callers_request(kind: str) -> None:
    """Each attempt sends a copy: the caller's timeouts, trace hook and extensions are as the caller left them."""
    scripted: Script = [httpx.Response(503), httpx.ReadError("cut"), ok()]
    request_timeouts = {"connect": 10.0, "read": 10.0, "write": 10.0, "pool": 10.0}
    fake = FakeClock()
    request = httpx.Request("GET", "https://example.test/m", extensions={"timeout": dict(request_timeouts)})
    before = dict(request.extensions)
    policy = RetryPolicy(deadline=5)
    handler = Scripted(scripted)
    if kind == "sync":
        transport = RetryTransport(httpx.MockTransport(handler), policy=policy, clock=fake, sleep=fake.sleep)
        response = transport.handle_request(request)
    else:
        atransport = AsyncRetryTransport(httpx.MockTransport(handler), policy=policy, clock=fake, sleep=fake.asleep)
        response = asyncio.run(atransport.handle_async_request(request))
    assert response.status_code == 200
    assert request.extensions == before
    assert all(sent is not request for sent in handler.requests)
    assert handler.requests[-1].extensions["timeout"]["read"] < 5  # the attempt's copy was cut to the deadline


GOOD_PAGE = json.dumps({"values": [{"displayName": "m0", "locale": "en-US"}]}).encode()


GARBAGE = pytest.mark.parametrize(
    "garbage",
    [GOOD_PAGE[:-7], b"<html><body>502 Bad Gateway</body></html>", b"\xff\xfe\x00garbage", b"[" * 100_000],
    ids=["truncated", "html", "bytes", "too-deep"],
)


@KINDS
@GARBAGE
def test_a_200_whose_body_does_not_decode_is_retried(kind: str, garbage: bytes) -> None:
    bodies = [garbage, GOOD_PAGE]
    asked: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        return httpx.Response(200, content=bodies[len(asked) - 1])

    assert _list_with(kind, handler, FakeClock()) == ["m0"]
    assert len(asked) == 2


@KINDS
@GARBAGE
def test_a_200_whose_body_never_decodes_is_an_invalid_response_after_the_retries(kind: str, garbage: bytes) -> None:
    asked: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        return httpx.Response(200, content=garbage)

    with pytest.raises(sm.InvalidResponseError, match="4 attempts") as info:
        _list_with(kind, handler, FakeClock())
    assert len(asked) == 4
    assert info.value.continuation_token is None


def _list_with(kind: str, transport_handler: Callable[[httpx.Request], httpx.Response], clock: FakeClock) -> list[Any]:
    if kind == "sync":
        transport = httpx.MockTransport(transport_handler)
        with sm.SpeechToTextModels("https://x.example", "k", transport=transport, sleep=clock.sleep) as client:
            return [model.display_name for model in client.list_models()]

    async def go() -> list[Any]:
        transport = httpx.MockTransport(transport_handler)
        async with sm.AsyncSpeechToTextModels("https://x.example", "k", transport=transport, sleep=clock.asleep) as c:
            return [model.display_name async for model in c.list_models()]

    return asyncio.run(go())


@KINDS
def test_an_undecodable_body_is_not_retried_for_a_post(kind: str) -> None:
    from speech_models._retry import DECODE_EXTENSION

    scripted = Scripted([httpx.Response(200, content=b"<html>"), ok()])
    request = httpx.Request("POST", "https://example.test/m", extensions={DECODE_EXTENSION: json.loads})
    if kind == "sync":
        response = RetryTransport(httpx.MockTransport(scripted), sleep=lambda s: None).handle_request(request)
    else:

        async def nap(seconds: float) -> None:
            return None

        transport = AsyncRetryTransport(httpx.MockTransport(scripted), sleep=nap)
        response = asyncio.run(transport.handle_async_request(request))
    assert response.read() == b"<html>"
    assert len(scripted.requests) == 1
