"""Fetching ahead starts, stops and closes the same way in the sync and async clients: nothing is fetched while
the caller holds a page, the fetches past the end of a listing stop at their next safe point instead of retrying,
a closed client answers ``ClientClosedError`` whatever the concurrency, and it runs on trio as on asyncio. Over
real loopback sockets."""

from __future__ import annotations

import asyncio
import gc
import os
import subprocess
import sys
import textwrap
import threading
import warnings
from pathlib import Path
from typing import Any

import httpx
import pytest
import speech_models as sm
import trio
from speech_models import AsyncRetryTransport, RetryPolicy, RetryTransport
from speech_models._retry import CallStopped

from tests.test_concurrent_listing import COUNT, EVERY, TOP, PageServer

PAST_THE_END = COUNT - COUNT % TOP + TOP  # the skip of the first page after the last (short) one


def _throttle_past_the_end(server: PageServer, retry_after: str) -> None:
    def answer(skip: int, number: int) -> tuple[int, dict[str, str], bytes] | None:
        if skip >= PAST_THE_END:
            return 429, {"Retry-After": retry_after}, b'{"code": "TooManyRequests", "message": "slow down"}'
        return None

    server.answer = answer


def _page_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name.startswith("speech-models-page")]


def _waiting_threads() -> list[threading.Thread]:
    """The page threads whose stack is in the retry transport's wait. Under ``make mutate`` the function is
    mutmut's renamed copy (``xǁRetryTransportǁ_wait__mutmut_orig``), hence the name is read through that."""
    frames = sys._current_frames()
    waiting = []
    for thread in _page_threads():
        frame = frames.get(thread.ident or 0)
        while frame is not None and frame.f_code.co_name.rsplit("ǁ", 1)[-1].split("__mutmut_", 1)[0] != "_wait":
            frame = frame.f_back
        if frame is not None:
            waiting.append(thread)
    return waiting


def test_fetches_past_the_end_stop_instead_of_retrying() -> None:
    """Pages past the end are throttled; each waits (on a sleep the test holds) until the listing is over, then
    must stop: one request each, never a retry."""
    over = threading.Event()
    with PageServer() as server:
        _throttle_past_the_end(server, "2")

        def held(seconds: float) -> None:
            over.wait(10)

        with sm.SpeechToTextModels(server.url, "k", sleep=held) as client:
            names = [model.display_name for model in client.list_models(top=TOP, concurrency=4)]
            over.set()
            for thread in _page_threads():
                thread.join(10)
            past = [path for path in server.requests if f"skip={PAST_THE_END}" in path]
            past += [path for path in server.requests if f"skip={PAST_THE_END + TOP}" in path]
    assert names == EVERY
    assert len(past) == len(set(past)) >= 1  # asked for at most once each: stopped in their wait
    assert not _page_threads()


def test_a_retry_wait_past_the_end_is_cut_short_by_the_stop() -> None:
    """With the real sleep, a page past the end told to wait 60 s ends when its wave does, and close() returns."""
    policy = RetryPolicy(max_wait=120, deadline=300)
    with PageServer() as server:
        _throttle_past_the_end(server, "60")
        with sm.SpeechToTextModels(server.url, "k", retry_policy=policy) as client:
            assert [model.display_name for model in client.list_models(top=TOP, concurrency=4)] == EVERY
        for thread in _page_threads():
            thread.join(10)  # a bound: the 60 s wait would outlast it
        assert not _page_threads()


def test_a_wave_waiting_out_the_clients_pause_is_stopped_by_close() -> None:
    """Another call's 429 pauses the client for 60 s; a wave that starts meanwhile waits it out on its stop, so
    closing the client (from another thread) ends the wait at once, with the real sleep."""
    with PageServer() as server:
        refusal = (429, {"Retry-After": "60"}, b'{"code": "TooManyRequests", "message": "slow down"}')
        server.answer = lambda skip, number: refusal if number == 2 else None  # the other call's request
        client = sm.SpeechToTextModels(server.url, "k", retry_policy=RetryPolicy(max_wait=120, deadline=300))
        pages = client.list_models(top=TOP, concurrency=4).by_page()
        next(pages)
        with pytest.raises(sm.RateLimitError):
            list(client.with_options(retry_policy=RetryPolicy(max_retries=0)).list_models())
        outcome: list[BaseException] = []

        def next_page() -> None:
            try:
                next(pages)
            except sm.ClientClosedError as exc:
                outcome.append(exc)

        walk = threading.Thread(target=next_page)
        walk.start()
        for _ in range(1000):  # a readiness wait, bounded: a fetch of the wave is in the transport's wait
            if _waiting_threads():
                break
            walk.join(0.01)
        assert _waiting_threads()
        client.close()
        walk.join(10)  # a bound: the 60 s pause would outlast it
        for thread in _page_threads():
            thread.join(10)
        assert not walk.is_alive()
        assert not _page_threads()
        assert len(outcome) == 1
        assert len(server.requests) == 2  # the first page and the other call's: the wave sent nothing


def test_an_interpreter_exit_is_not_held_by_a_stalled_fetch_ahead(tmp_path: Any) -> None:
    """A listing stopped while a page fetched ahead stalls for ten minutes: the program still ends (the bound of two
    minutes is for a loaded machine; the stall would outlast it)."""
    script = tmp_path / "stop.py"
    script.write_text(
        textwrap.dedent(
            """
            import sys, speech_models as sm
            from tests.test_concurrent_listing import PageServer, TOP
            import time
            server = PageServer().__enter__()
            real = server.answer
            def answer(skip, number):
                if skip >= 2 * TOP:
                    time.sleep(600)
                return real(skip, number)
            server.answer = answer
            client = sm.SpeechToTextModels(server.url, "k", timeout=120)
            pages = client.list_models(top=TOP, max_items=2 * TOP, concurrency=8).by_page()
            print(len(next(pages)), flush=True)
            print(len(next(pages)), flush=True)
            sys.exit(0)
            """
        )
    )
    root = str(Path(__file__).resolve().parent.parent)
    done = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "PYTHONPATH": root},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(TOP), str(TOP)]


def _listing_after_close(kind: str, concurrency: int) -> BaseException:
    """Take the first page, close the client, go on iterating: what is raised."""
    with PageServer() as server:
        if kind == "sync":
            client = sm.SpeechToTextModels(server.url, "k")
            pages = client.list_models(top=TOP, concurrency=concurrency).by_page()
            next(pages)
            client.close()
            with pytest.raises((sm.SpeechModelsError, sm.ConfigurationError, RuntimeError)) as info:
                next(pages)
            return info.value

        async def go() -> BaseException:
            client = sm.AsyncSpeechToTextModels(server.url, "k")
            pages = client.list_models(top=TOP, concurrency=concurrency).by_page()
            await pages.__anext__()
            await client.aclose()
            with pytest.raises((sm.SpeechModelsError, sm.ConfigurationError, RuntimeError)) as info:
                await pages.__anext__()
            return info.value

        return asyncio.run(go())


@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize("concurrency", [1, 4])
def test_iterating_after_close_is_client_closed_error_whatever_the_concurrency(kind: str, concurrency: int) -> None:
    error = _listing_after_close(kind, concurrency)
    assert isinstance(error, sm.ClientClosedError), repr(error)
    assert isinstance(error.__context__, sm.ClientClosedError | type(None))


def test_close_from_another_thread_stops_a_wave_under_way() -> None:
    """A wave waits on pages the server holds; closing the client from another thread ends the wait at once with
    ClientClosedError (the wave's fetches are stopped), not after the pages arrive."""
    with PageServer() as server:
        client = sm.SpeechToTextModels(server.url, "k")
        pages = client.list_models(top=TOP, concurrency=4).by_page()
        next(pages)
        server.hold, server.hold_for = 100, 60.0  # the wave's requests wait for a crowd that never comes

        def close_once_the_wave_is_at_the_server() -> None:
            with server._lock:  # a readiness wait: all four requests of the wave are held there
                server._lock.wait_for(lambda: server.in_flight >= 4, timeout=30)
            client.close()

        closer = threading.Thread(target=close_once_the_wave_is_at_the_server)
        closer.start()
        try:
            with pytest.raises(sm.ClientClosedError):
                next(pages)
        finally:
            closer.join()
            server.release()


def test_concurrent_listing_on_trio_lists_every_model_in_order() -> None:
    async def listing() -> list[str | None]:
        with PageServer() as server:
            async with sm.AsyncSpeechToTextModels(server.url, "k") as client:
                return [model.display_name async for model in client.list_models(top=TOP, concurrency=4)]

    assert trio.run(listing) == EVERY


def test_a_failed_page_on_trio_raises_when_reached_and_resumes_exactly() -> None:
    failing = {"on": True}

    async def listing() -> tuple[list[str], list[str]]:
        with PageServer() as server:

            def answer(skip: int, number: int) -> tuple[int, dict[str, str], bytes] | None:
                if skip == 250 and failing["on"]:
                    return 400, {}, b'{"code": "InvalidArgument", "message": "no"}'
                return None

            server.answer = answer
            seen: list[str] = []
            async with sm.AsyncSpeechToTextModels(server.url, "k") as client:
                try:
                    async for model in client.list_models(top=TOP, concurrency=4):
                        seen.append(str(model.display_name))
                except sm.BadRequestError as error:
                    token = error.continuation_token
                failing["on"] = False
                rest = [str(m.display_name) async for m in client.list_models(continuation_token=token, concurrency=4)]
            return seen, rest

    seen, rest = trio.run(listing)
    assert seen == EVERY[:250]
    assert seen + rest == EVERY


def test_nothing_is_fetched_while_the_caller_holds_a_page() -> None:
    """Between two waves no request is in flight, sync and async alike: stopping the listing there leaves none."""
    with PageServer() as server:
        with sm.SpeechToTextModels(server.url, "k") as client:
            pages = client.list_models(top=TOP, concurrency=4).by_page()
            next(pages)
            next(pages)  # from the first wave
            asked = len(server.requests)
            pages.close()  # type: ignore[attr-defined]
        assert len(server.requests) == asked == 1 + 4

        async def go() -> int:
            async with sm.AsyncSpeechToTextModels(server.url, "k") as client:
                apages = client.list_models(top=TOP, concurrency=4).by_page()
                await apages.__anext__()
                await apages.__anext__()
                asked = len(server.requests)
                await apages.aclose()  # type: ignore[attr-defined]
                return asked

        before = len(server.requests)
        assert asyncio.run(go()) - before == 1 + 4
        assert len(server.requests) - before == 1 + 4


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_closed_transport_lets_no_call_into_its_pool(kind: str) -> None:
    """A fetch ahead past its stop check when the client closes must not reach the pool, which would open a
    connection that nothing closes: the closed retry transport refuses it, and no socket is left to the collector."""
    with PageServer() as server, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        request = httpx.Request("GET", f"{server.url}/speechtotext/models?top=5")
        if kind == "sync":
            transport = RetryTransport(httpx.HTTPTransport())
            transport.close()  # the client closed; the call below was already on its way
            with pytest.raises(CallStopped):
                transport.handle_request(request)
            del transport  # dropped, so that an unclosed socket would be collected now
        else:

            async def late() -> None:
                atransport = AsyncRetryTransport(httpx.AsyncHTTPTransport())
                await atransport.aclose()
                with pytest.raises(CallStopped):
                    await atransport.handle_async_request(request)

            asyncio.run(late())
        gc.collect()
        assert server.requests == []
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_page_that_failed_in_a_wave_is_not_fetched_again(kind: str) -> None:
    """The wave's failure is handed back as it was: the walk raises it without asking for the page once more."""
    with PageServer() as server:

        def answer(skip: int, number: int) -> tuple[int, dict[str, str], bytes] | None:
            if skip == 250:
                return 400, {}, b'{"code": "InvalidArgument", "message": "no"}'
            return None

        server.answer = answer
        if kind == "sync":
            with sm.SpeechToTextModels(server.url, "k") as client, pytest.raises(sm.BadRequestError):
                list(client.list_models(top=TOP, concurrency=4))
        else:

            async def go() -> None:
                async with sm.AsyncSpeechToTextModels(server.url, "k") as client:
                    with pytest.raises(sm.BadRequestError):
                        [m async for m in client.list_models(top=TOP, concurrency=4)]

            asyncio.run(go())
        assert len([path for path in server.requests if "skip=250" in path]) == 1


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_wave_leaves_nothing_for_close_to_stop(kind: str) -> None:
    """Each wave's stop is forgotten when the wave ends: the client's close() has nothing left to stop."""
    with PageServer() as server:
        if kind == "sync":
            with sm.SpeechToTextModels(server.url, "k") as client:
                assert len(list(client.list_models(top=TOP, concurrency=4))) == COUNT
                assert client._waves._under_way == set()
        else:

            async def go() -> set[Any]:
                async with sm.AsyncSpeechToTextModels(server.url, "k") as client:
                    assert len([m async for m in client.list_models(top=TOP, concurrency=4)]) == COUNT
                    return client._waves._under_way

            assert asyncio.run(go()) == set()
