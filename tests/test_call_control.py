"""Seeing and steering each call, over loopback: a page's headers, ``RetryPolicy(on_retry=...)``, log records
with their fields in ``extra``, and per-call options (``with_options``, ``list_models(timeout=, retry_policy=)``)
on the original's connection pool with its settings untouched."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import speech_models as sm
from speech_models_emulator import run_emulator
from speech_models_emulator.server import RunningEmulator

from tests.fakes import FakeClock, SyncTraced, Traced
from tests.loopback import ScriptedServer, answer, stall

KINDS = pytest.mark.parametrize("kind", ["sync", "async"])


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    with run_emulator(count=30, page_retry_after=2) as running:
        yield running


def fault(emulator: RunningEmulator, **body: Any) -> None:
    httpx.post(f"{emulator.url}/_emulator/faults", json=body, headers=emulator.admin_headers).raise_for_status()


class Connects:
    """Counts new connections through httpcore's public trace extension."""

    def __init__(self) -> None:
        self.count = 0

    def sync_transport(self) -> httpx.BaseTransport:
        return SyncTraced(httpx.HTTPTransport(), self.trace)

    def async_transport(self) -> httpx.AsyncBaseTransport:
        async def trace(name: str, info: dict[str, Any]) -> None:
            self.trace(name, info)

        return Traced(httpx.AsyncHTTPTransport(), trace)

    def trace(self, name: str, info: dict[str, Any]) -> None:
        if name == "connection.connect_tcp.started":
            self.count += 1


def make(kind: str, url: str, key: str, clock: FakeClock, **kwargs: Any) -> Any:
    if kind == "sync":
        return sm.SpeechToTextModels(url, key, sleep=clock.sleep, clock=clock, **kwargs)
    return sm.AsyncSpeechToTextModels(url, key, sleep=clock.asleep, clock=clock, **kwargs)


def pages(kind: str, api: Any, **list_kwargs: Any) -> list[sm.Page[sm.CustomModel]]:
    """Every page, then the client is closed."""
    if kind == "sync":
        with api:
            return list(api.list_models(**list_kwargs).by_page())

    async def go() -> list[sm.Page[sm.CustomModel]]:
        async with api:
            return [page async for page in api.list_models(**list_kwargs).by_page()]

    return asyncio.run(go())


@KINDS
def test_a_page_gives_every_header_of_its_response(kind: str) -> None:
    headers = {"apim-request-id": "req-9", "x-ratelimit-remaining-requests": "41", "x-newer-thing": "yes"}
    with ScriptedServer([answer(headers=headers)]) as server:
        api = make(kind, server.url, "k", FakeClock())
        got = pages(kind, api)
    assert got[0].headers["X-RateLimit-Remaining-Requests"] == "41"
    assert got[0].headers["x-newer-thing"] == "yes"
    assert got[0].request_id == "req-9"


@KINDS
def test_on_retry_is_told_of_each_retry_before_its_wait(kind: str, emulator: RunningEmulator) -> None:
    events: list[sm.RetryEvent] = []
    clock = FakeClock()

    def record(event: sm.RetryEvent) -> None:
        assert clock.sleeps == [e.wait for e in events]  # called before its wait, not after
        events.append(event)

    async def arecord(event: sm.RetryEvent) -> None:
        record(event)

    policy = sm.RetryPolicy(on_retry=record if kind == "sync" else arecord)
    fault(emulator, status=429, retry_after=1, count=2)
    api = make(kind, emulator.url, emulator.key, clock, retry_policy=policy)
    assert sum(len(p) for p in pages(kind, api, top=10)) == 30
    assert [(e.attempt, e.wait, e.reason) for e in events] == [
        (1, 1.0, "429, wait from retry-after"),
        (2, 1.0, "429, wait from retry-after"),
    ]
    assert all(e.response is not None and e.response.status_code == 429 for e in events)
    assert all(e.error is None for e in events)


@KINDS
def test_on_retry_hears_of_transport_errors(kind: str) -> None:
    events: list[sm.RetryEvent] = []
    with ScriptedServer([stall(3.0), answer()]) as server:  # the first attempt times out mid-body
        api = make(kind, server.url, "k", FakeClock(), retry_policy=sm.RetryPolicy(on_retry=events.append), timeout=1.0)
        assert len(pages(kind, api)) == 1
    assert len(events) == 1
    assert isinstance(events[0].error, httpx.ReadTimeout)
    assert events[0].response is None


@KINDS
def test_an_exception_from_on_retry_ends_the_call_as_it_is(kind: str, emulator: RunningEmulator) -> None:
    cause = KeyError("budget")

    def stop(event: sm.RetryEvent) -> None:
        raise RuntimeError("no more retries today") from cause

    fault(emulator, status=503, retry_after=1)
    api = make(kind, emulator.url, emulator.key, FakeClock(), retry_policy=sm.RetryPolicy(on_retry=stop))
    with pytest.raises(RuntimeError, match="no more retries today") as info:
        pages(kind, api)
    assert info.value.__cause__ is cause


def test_an_async_hook_on_the_sync_client_is_refused() -> None:
    async def hook(event: sm.RetryEvent) -> None:
        return None

    with pytest.raises(sm.ConfigurationError, match="needs AsyncSpeechToTextModels"):
        sm.SpeechToTextModels("https://x.cognitiveservices.azure.com", "k", retry_policy=sm.RetryPolicy(on_retry=hook))


def test_log_records_carry_their_fields(emulator: RunningEmulator, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="speech_models")
    fault(emulator, status=503, retry_after=1)
    pages("sync", make("sync", emulator.url, emulator.key, FakeClock()), max_items=1)
    retry = next(r for r in caplog.records if r.getMessage().startswith("retrying"))
    assert retry.name == "speech_models.retry"
    assert (retry.attempt, retry.wait, retry.status_code) == (1, 1.0, 503)  # type: ignore[attr-defined]
    assert retry.reason == "503, wait from retry-after"  # type: ignore[attr-defined]
    attempts = [r for r in caplog.records if "(attempt" in r.getMessage()]
    assert [r.attempt for r in attempts] == [1, 2]  # type: ignore[attr-defined]
    ids = {r.client_request_id for r in attempts}  # type: ignore[attr-defined]
    assert len(ids) == 1
    assert None not in ids


@KINDS
def test_with_options_shares_the_pool_and_leaves_the_original_alone(kind: str, emulator: RunningEmulator) -> None:
    connects = Connects()
    clock = FakeClock()
    transport = connects.sync_transport() if kind == "sync" else connects.async_transport()

    def run_all() -> tuple[Any, ...]:
        if kind == "sync":
            with make(kind, emulator.url, emulator.key, clock, transport=transport) as api:
                return steps(api, lambda paged: list(paged))

        async def go() -> tuple[Any, ...]:
            async with make(kind, emulator.url, emulator.key, clock, transport=transport) as api:

                async def collect(paged: Any) -> list[Any]:
                    return [m async for m in paged]

                return await asteps(api, collect)

        return asyncio.run(go())

    def steps(api: Any, collect: Any) -> tuple[Any, ...]:
        first = collect(api.list_models(top=10))
        strict = api.with_options(retry_policy=sm.RetryPolicy(max_retries=0), honor_retry_after=True)
        fault(emulator, status=503, retry_after=1)
        with pytest.raises(sm.ServiceError) as info:
            collect(strict.list_models(top=10))
        strict.close()  # does not close the shared pool
        paced = collect(strict.list_models(top=10))
        connections = connects.count
        fault(emulator, status=503, retry_after=1)
        again = collect(api.list_models(top=10))
        return first, info.value, paced, again, api.retry_policy, connections

    async def asteps(api: Any, collect: Any) -> tuple[Any, ...]:
        first = await collect(api.list_models(top=10))
        strict = api.with_options(retry_policy=sm.RetryPolicy(max_retries=0), honor_retry_after=True)
        fault(emulator, status=503, retry_after=1)
        with pytest.raises(sm.ServiceError) as info:
            await collect(strict.list_models(top=10))
        await strict.aclose()
        paced = await collect(strict.list_models(top=10))
        connections = connects.count
        fault(emulator, status=503, retry_after=1)
        again = await collect(api.list_models(top=10))
        return first, info.value, paced, again, api.retry_policy, connections

    first, error, paced, again, policy, connections = run_all()
    assert len(first) == len(paced) == len(again) == 30
    assert error.attempts is not None
    assert error.attempts.count == 1  # the derived client's policy: no retry
    assert clock.sleeps == [2.0, 2.0, 1.0]  # its pacing (Retry-After 2 between pages), then the original's retry
    assert policy == sm.RetryPolicy()
    assert connections == 1  # one connection, kept alive, for the original's listing and all of the derived's


@KINDS
def test_a_listing_takes_its_own_timeout_and_policy(kind: str) -> None:
    with ScriptedServer([stall(1.0)]) as server:
        clock = FakeClock()
        api = make(kind, server.url, "k", clock)  # the client's own timeout: 30 s
        with pytest.raises(sm.APITimeoutError) as info:
            pages(kind, api, timeout=0.1, retry_policy=sm.RetryPolicy(max_retries=1))
    assert info.value.attempts is not None
    assert info.value.attempts.count == 2
    assert api.retry_policy.max_retries == 3
