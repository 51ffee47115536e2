"""A storm of pool timeouts leaves every connection slot serving, sync and async, over a real socket.

httpcore strands a connection for good when a pool timeout fires just as a new connection is assigned to the
waiting request (encode/httpcore#550, #681); connections that close while requests queue (here: every response
says ``Connection: close``) make that happen many times a storm. The SDK keeps requests from queueing inside
httpcore's pool: they wait for one of its slots in the retry transport instead."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
import speech_models as sm

from tests.test_concurrent_listing import PageServer

SLOTS = 5
STORM = 400
LIMITS = httpx.Limits(max_connections=SLOTS, max_keepalive_connections=SLOTS)


ONE_MODEL = json.dumps({"values": [{"displayName": "m0", "locale": "en-US"}]}).encode()


class ClosingPageServer(PageServer):
    """Answers a one-model page `latency` seconds late and closes every connection after its response."""

    def __init__(self) -> None:
        super().__init__()
        self.latency = 0.05
        self.answer = self._closing

    def _closing(self, skip: int, number: int) -> tuple[int, dict[str, str], bytes]:
        time.sleep(self.latency)
        return 200, {"Connection": "close"}, ONE_MODEL


@pytest.fixture
def server() -> Iterator[ClosingPageServer]:
    running = ClosingPageServer()
    with running:
        yield running


def settle(server: PageServer) -> None:
    """Count afresh, and hold the next requests until every slot is in use at once."""
    server.max_in_flight = 0
    server.hold = SLOTS


OPTIONS: dict[str, Any] = {
    "timeout": httpx.Timeout(10, pool=0.2),
    "retry_policy": sm.RetryPolicy(max_retries=0, deadline=2),
    "limits": LIMITS,
}


def test_after_an_async_storm_of_pool_timeouts_every_slot_serves(server: ClosingPageServer) -> None:
    async def go() -> tuple[dict[str, int], list[int]]:
        transport = httpx.AsyncHTTPTransport(limits=LIMITS)
        async with sm.AsyncSpeechToTextModels(server.url, "k", transport=transport, **OPTIONS) as client:

            async def one() -> int:
                return len([model async for model in client.list_models(max_items=1)])

            storm = await asyncio.gather(*(one() for _ in range(STORM)), return_exceptions=True)
            settle(server)
            after = await asyncio.gather(*(one() for _ in range(SLOTS)))
        return _tally(storm), after

    storm, after = asyncio.run(go())
    assert storm.get("APITimeoutError", 0) > 0  # the storm did meet pool timeouts
    assert after == [1] * SLOTS
    assert server.max_in_flight == SLOTS  # all slots at once: none was stranded


def test_after_a_sync_storm_of_pool_timeouts_every_slot_serves(server: ClosingPageServer) -> None:
    transport = httpx.HTTPTransport(limits=LIMITS)
    with sm.SpeechToTextModels(server.url, "k", transport=transport, **OPTIONS) as client:

        def one(_: int) -> int | BaseException:
            try:
                return len(list(client.list_models(max_items=1)))
            except sm.SpeechModelsError as exc:
                return exc

        with ThreadPoolExecutor(50) as threads:
            storm = list(threads.map(one, range(STORM)))
        settle(server)
        with ThreadPoolExecutor(SLOTS) as threads:
            after = list(threads.map(one, range(SLOTS)))
    assert _tally(storm).get("APITimeoutError", 0) > 0
    assert after == [1] * SLOTS
    assert server.max_in_flight == SLOTS


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_request_that_waits_past_the_pool_timeout_for_a_slot_is_a_pool_timeout(
    kind: str, server: ClosingPageServer
) -> None:
    server.latency = 1.0
    options = {**OPTIONS, "limits": httpx.Limits(max_connections=1)}

    async def go() -> list[Any]:
        async with sm.AsyncSpeechToTextModels(server.url, "k", **options) as client:

            async def one() -> int:
                return len([model async for model in client.list_models(max_items=1)])

            return list(await asyncio.gather(one(), one(), return_exceptions=True))

    def threads() -> list[Any]:
        with sm.SpeechToTextModels(server.url, "k", **options) as client:

            def one() -> Any:
                try:
                    return len(list(client.list_models(max_items=1)))
                except sm.APITimeoutError as exc:
                    return exc

            with ThreadPoolExecutor(2) as pool:
                return list(pool.map(lambda _: one(), range(2)))

    results = asyncio.run(go()) if kind == "async" else threads()
    assert 1 in results
    errors = [result for result in results if isinstance(result, BaseException)]
    assert len(errors) == 1
    assert isinstance(errors[0], sm.APITimeoutError)
    assert "no connection was free within the pool timeout" in str(errors[0])


def _tally(results: list[Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for result in results:
        name = type(result).__name__
        counts[name] = counts.get(name, 0) + 1
    return counts
