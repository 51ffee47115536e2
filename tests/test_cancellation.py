"""Cancellation and caller exceptions strand no pool slot, over real loopback sockets.

The deterministic test cancels the caller at each await point of an attempt, reached through httpcore's public
``trace`` extension (connect, send, headers, body, close); the storm cancels 1,200 listings at random points on a
10-slot pool. Both then need every slot back: the next listings run on the same pool, with a short pool timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import random
from typing import Any

import anyio
import httpx
import pytest
import speech_models as sm
from speech_models_emulator import run_emulator
from speech_models_emulator.server import RunningEmulator

from tests.fakes import Traced

TRACE_EVENTS = [
    f"{step}.{edge}"
    for step in (
        "connection.connect_tcp",
        "http11.send_request_headers",
        "http11.send_request_body",
        "http11.receive_response_headers",
        "http11.receive_response_body",
        "http11.response_closed",
    )
    for edge in ("started", "complete")
]


def busy_connections(transport: httpx.AsyncHTTPTransport | httpx.HTTPTransport) -> int:
    """Connections of the pool that are neither idle nor closed. httpx keeps its httpcore pool in ``_pool`` (httpx
    is pinned in requirements/constraints.txt; an AttributeError here means the pin moved); ``connections``,
    ``is_idle`` and ``is_closed`` are httpcore's public API."""
    pool = transport._pool
    return sum(1 for conn in pool.connections if not conn.is_idle() and not conn.is_closed())


def client(url: str, key: str, transport: httpx.AsyncBaseTransport, pool: float = 3.0) -> sm.AsyncSpeechToTextModels:
    # A pool timeout short enough that a stranded slot fails the next listing quickly.
    return sm.AsyncSpeechToTextModels(url, key, transport=transport, timeout=httpx.Timeout(10.0, pool=pool))


@pytest.fixture(scope="module")
def emulator() -> Any:
    with run_emulator(count=23) as running:
        yield running


# The second page reuses the first page's connection: it has no connect step.
POINTS = [(event, 0) for event in TRACE_EVENTS] + [(e, 1) for e in TRACE_EVENTS if not e.startswith("connection.")]


@pytest.mark.parametrize(("event", "occurrence"), POINTS, ids=[f"{e}-page{n + 1}" for e, n in POINTS])
def test_a_cancel_at_each_await_point_of_an_attempt_strands_no_slot(
    emulator: RunningEmulator, event: str, occurrence: int
) -> None:
    async def go() -> tuple[bool, int, int]:
        caller: asyncio.Task[Any] | None = None
        seen = 0
        fired = False

        async def trace(name: str, info: dict[str, Any]) -> None:
            nonlocal seen, fired
            if name == event and not fired:
                if seen == occurrence:
                    fired = True
                    assert caller is not None
                    caller.cancel()
                    await asyncio.sleep(0)  # the cancellation lands here, inside httpcore
                seen += 1

        inner = httpx.AsyncHTTPTransport(limits=httpx.Limits(max_connections=1))
        async with client(emulator.url, emulator.key, Traced(inner, trace)) as api:

            async def listing() -> list[Any]:
                return [m async for m in api.list_models(top=10)]

            caller = asyncio.create_task(listing())
            with contextlib.suppress(asyncio.CancelledError):
                await caller
            models = [m async for m in api.list_models(top=10)]
            return fired, len(models), busy_connections(inner)

    fired, count, busy = asyncio.run(go())
    assert fired, f"{event} was never reached"
    assert count == 23
    assert busy == 0


def test_a_storm_of_cancelled_listings_returns_every_slot() -> None:
    """The reported storm: waves of 50 listings on a 10-slot pool, each cancelled within 0.2 s."""
    rng = random.Random(16)

    async def go(server: RunningEmulator) -> tuple[list[int], int, int]:
        inner = httpx.AsyncHTTPTransport(limits=httpx.Limits(max_connections=10))
        # The default pool timeout: the listings cancelled while queued for a slot keep their place until they get
        # one, and httpcore 1.0.9 strands a slot when a pool timeout races the hand-over of one.
        async with client(server.url, server.key, inner, pool=30.0) as api:

            async def listing() -> int:
                return len([m async for m in api.list_models(top=50)])

            cancelled = 0
            for _wave in range(24):
                tasks = [asyncio.create_task(listing()) for _ in range(50)]
                for task in tasks:
                    asyncio.get_running_loop().call_later(rng.uniform(0, 0.2), task.cancel)
                results = await asyncio.gather(*tasks, return_exceptions=True)
                cancelled += sum(isinstance(result, asyncio.CancelledError) for result in results)
            counts = await asyncio.gather(*(listing() for _ in range(10)))
            return counts, cancelled, busy_connections(inner)

    with run_emulator(count=537, validate=False) as server:  # a load test: the contract is checked elsewhere
        counts, cancelled, busy = asyncio.run(go(server))
    assert cancelled >= 1000, f"only {cancelled} of 1,200 listings were cancelled before they ended"
    assert counts == [537] * 10
    assert busy == 0


def test_an_exception_in_the_callers_loop_strands_nothing(emulator: RunningEmulator) -> None:
    inner = httpx.HTTPTransport(limits=httpx.Limits(max_connections=1))
    timeout = httpx.Timeout(10.0, pool=3.0)
    with sm.SpeechToTextModels(emulator.url, emulator.key, transport=inner, timeout=timeout) as api:

        def fail_at(stop_after: int) -> None:
            for index, _model in enumerate(api.list_models(top=5)):
                if index == stop_after:
                    raise LookupError("the caller's own failure")

        for stop_after in range(0, 23, 4):
            with pytest.raises(LookupError):
                fail_at(stop_after)
        assert len(list(api.list_models(top=5))) == 23
        assert busy_connections(inner) == 0


def test_a_call_cancelled_while_queued_for_a_slot_never_reaches_the_server() -> None:
    async def go(emulator: RunningEmulator) -> list[dict[str, Any]]:
        inner = httpx.AsyncHTTPTransport(limits=httpx.Limits(max_connections=1))
        sent = asyncio.Event()

        async def trace(name: str, info: dict[str, Any]) -> None:
            if name == "http11.send_request_body.complete":
                sent.set()

        async with client(emulator.url, emulator.key, Traced(inner, trace), pool=30.0) as api:

            async def first_page() -> Any:
                return await api.list_models(top=50).by_page().__anext__()

            holder = asyncio.create_task(first_page())
            await sent.wait()  # the holder's request is at the server (0.3 s of latency) and holds the only slot
            queued = asyncio.create_task(first_page())
            for _ in range(20):  # let it reach the pool's queue (it cannot pass it while the holder waits)
                await asyncio.sleep(0)
            queued.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await queued
            await holder
            for _ in range(300):  # the abandoned call gets the slot, then stops before it sends anything
                if busy_connections(inner) == 0:
                    break
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.1)
        return emulator.requests

    with run_emulator(count=5) as emulator:
        httpx.post(
            f"{emulator.url}/_emulator/faults", json={"latency": 0.3}, headers=emulator.admin_headers
        ).raise_for_status()
        sent = asyncio.run(go(emulator))
    assert len(sent) == 1  # the holder's request only


@pytest.mark.parametrize(
    "where",
    ["stalled-body", "retry-wait", "throttle-pause", "async-on-retry", "async-on-retry-after-error", "slot-wait"],
)
def test_a_cancelled_callers_call_ends_through_its_scope(where: str, caplog: pytest.LogCaptureFixture) -> None:
    """The caller is cancelled while its call reads a body that stalls for 30 s, waits the 60 s a 503 asked for,
    waits out the client's 60 s pause after another call's 429, awaits an async ``on_retry`` that takes a minute,
    or waits for the pool's one slot, which another call's stalled body holds: the call running apart from it ends
    within half a second (its cancel scope is cancelled), not when the body or the wait would. The caller's own
    ``trace`` hook sees every event with httpcore's information. The abandoned call's outcome is taken: asyncio
    never logs it as an exception nobody retrieved."""
    from speech_models._retry import POLICY_EXTENSION

    from tests.loopback import ScriptedServer, answer, close_mid_body, stall

    busy = answer(503, b'{"code": "ServiceUnavailable", "message": "busy"}', {"Retry-After": "60"})
    throttled = answer(429, b'{"code": "TooManyRequests", "message": "slow down"}', {"Retry-After": "60"})
    soon = answer(503, b'{"code": "ServiceUnavailable", "message": "busy"}', {"Retry-After": "1"})
    cut = close_mid_body()
    script = {
        "retry-wait": busy,
        "throttle-pause": throttled,
        "async-on-retry": soon,
        "async-on-retry-after-error": cut,
    }
    with ScriptedServer([script.get(where, stall(30))]) as server:

        async def go() -> tuple[set[asyncio.Task[Any]], list[Any]]:
            there = asyncio.Event()
            infos: list[Any] = []

            async def trace(event: str, info: dict[str, Any]) -> None:
                infos.append(info)
                if event == "http11.receive_response_body.started" and where in ("stalled-body", "slot-wait"):
                    there.set()

            async def on_retry(event: sm.RetryEvent) -> None:
                if where.startswith("async-on-retry"):
                    there.set()
                    await anyio.sleep(60)

            async def sleep(seconds: float) -> None:
                there.set()
                await anyio.sleep(seconds)

            policy = sm.RetryPolicy(max_wait=120, deadline=300, on_retry=on_retry)
            transport = sm.AsyncRetryTransport(
                httpx.AsyncHTTPTransport(), policy=policy, attempt_timeout=120, sleep=sleep, max_connections=1
            )
            url = f"{server.url}/speechtotext/models"
            if where == "throttle-pause":  # another call meets the 429 and gives up at once: the client pauses
                once = httpx.Request(
                    "GET", url, extensions={POLICY_EXTENSION: sm.RetryPolicy(max_retries=0), "trace": trace}
                )
                assert (await transport.handle_async_request(once)).status_code == 429
            holder = None
            if where == "slot-wait":  # another call holds the one slot, reading a body that stalls
                first = httpx.Request("GET", url, extensions={"trace": trace})
                holder = asyncio.create_task(transport.handle_async_request(first))
                await asyncio.wait_for(there.wait(), 10)
            before = set(transport._calls)
            request = httpx.Request("GET", url, extensions={"trace": trace})
            caller = asyncio.create_task(transport.handle_async_request(request))
            if where == "slot-wait":
                assert transport._slots is not None
                while transport._slots.statistics().tasks_waiting == 0:  # noqa: ASYNC110 - no event says it
                    await asyncio.sleep(0.01)
            else:
                await asyncio.wait_for(there.wait(), 10)
            caller.cancel()
            with pytest.raises(asyncio.CancelledError):
                await caller
            calls = set(transport._calls) - before
            assert calls  # the call runs apart from its caller
            _done, pending = await asyncio.wait(calls, timeout=0.5)
            if holder is not None:
                holder.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await holder
            await transport.aclose()
            return pending, infos

        pending, infos = asyncio.run(go())
    gc.collect()  # an unretrieved exception is logged when its task is collected
    assert "never retrieved" not in caplog.text
    assert pending == set()
    assert infos
    assert all(isinstance(info, dict) for info in infos)
