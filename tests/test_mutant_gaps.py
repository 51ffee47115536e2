"""Behaviour that surviving mutants of ``make mutate`` showed no test pinned: what the retry debug log records, the
exact deadline boundary, what ``on_retry`` is told for a body or an error, argument checks of the transports,
``ItemPaged``'s own defaults, the links that can be fetched ahead, and the texts and names a user sees (error
messages, reprs, thread names)."""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from email.utils import formatdate
from typing import Any

import anyio
import httpx
import pytest
import speech_models as sm
from azure.core.credentials import AccessToken
from speech_models._ahead import Plan, TaskWaves, ThreadWaves, links_after
from speech_models._endpoint import Endpoint
from speech_models._paging import AsyncItemPaged, ItemPaged, Page
from speech_models._retry import DECODE_EXTENSION, CallStopped

from tests.fakes import FakeClock
from tests.loopback import ScriptedServer, answer, page_body

ENDPOINT = "https://westus.api.cognitive.microsoft.com"
THROTTLED = {"code": "TooManyRequests", "message": "slow down"}


def answering(*responses: httpx.Response | Exception) -> Callable[[httpx.Request], httpx.Response]:
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        answer = queue.pop(0) if queue else httpx.Response(200, json={"values": []})
        if isinstance(answer, Exception):
            raise answer
        return answer

    return handler


def client(handler: Callable[[httpx.Request], httpx.Response], **options: Any) -> sm.SpeechToTextModels:
    clock = FakeClock()
    return sm.SpeechToTextModels(
        ENDPOINT, "k", transport=httpx.MockTransport(handler), clock=clock, sleep=clock.sleep, **options
    )


def test_the_debug_log_says_why_it_retries_and_why_it_gives_up(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="speech_models.retry")
    throttled = httpx.Response(429, headers={"Retry-After": "2"}, json=THROTTLED)
    with (
        client(answering(throttled, throttled), retry_policy=sm.RetryPolicy(max_retries=1)) as c,
        pytest.raises(sm.RateLimitError),
    ):
        list(c.list_models())
    retrying, giving_up = (r for r in caplog.records if r.getMessage().startswith(("retrying", "giving up")))
    url = f"{ENDPOINT}/speechtotext/models?api-version=2025-10-15"
    assert retrying.getMessage() == f"retrying GET {url} in 2.000s (retry 1 of 1): 429, wait from retry-after"
    assert (retrying.status_code, retrying.reason, retrying.wait) == (429, "429, wait from retry-after", 2.0)  # type: ignore[attr-defined]
    assert giving_up.getMessage() == f"giving up GET {url}: max_retries 1 reached (429, wait from retry-after)"
    assert (giving_up.status_code, giving_up.reason) == (429, "429, wait from retry-after")  # type: ignore[attr-defined]


def test_a_wait_that_ends_exactly_at_the_deadline_is_not_waited_for() -> None:
    throttled = httpx.Response(429, headers={"Retry-After": "10"}, json=THROTTLED)
    with (
        client(answering(throttled), retry_policy=sm.RetryPolicy(deadline=10)) as c,
        pytest.raises(sm.RateLimitError) as raised,
    ):
        list(c.list_models())
    assert raised.value.attempts is not None
    assert raised.value.attempts.gave_up == "a 10.000s wait would pass the 10s deadline"


def test_on_retry_is_told_the_request_the_body_or_the_error() -> None:
    events: list[sm.RetryEvent] = []
    garbage = httpx.Response(200, content=b"<html>proxy</html>")
    refused = httpx.ConnectError("refused")
    with client(answering(garbage, refused), retry_policy=sm.RetryPolicy(on_retry=events.append)) as c:
        assert list(c.list_models()) == []
    body, error = events
    assert body.reason == "200 with a body that does not decode (JSONDecodeError), wait from backoff"
    assert body.response is not None
    assert body.response.status_code == 200
    assert body.error is None
    assert body.request.url.path == "/speechtotext/models"
    assert error.reason == "ConnectError, wait from backoff"
    assert error.error is refused
    assert error.response is None
    assert error.request.url.path == "/speechtotext/models"


@pytest.mark.parametrize("bad", [0, -1, True, "3", 2.5])
def test_a_pool_size_that_is_not_a_positive_integer_is_named(bad: object) -> None:
    with pytest.raises(ValueError, match=rf"max_connections must be a positive integer, not {bad!r}"):
        sm.RetryTransport(httpx.MockTransport(answering()), max_connections=bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=rf"max_connections must be a positive integer, not {bad!r}"):
        sm.AsyncRetryTransport(httpx.MockTransport(answering()), max_connections=bad)  # type: ignore[arg-type]


class Edges:
    """A jitter source that always picks the low or the high end."""

    def __init__(self, pick: str) -> None:
        self.pick = pick

    def uniform(self, low: float, high: float) -> float:
        return high if self.pick == "high" else low


def test_backoff_jitter_lies_in_the_upper_half_of_its_ceiling() -> None:
    policy = sm.RetryPolicy(backoff_base=1.0, backoff_max=8.0)
    assert policy.backoff(2, Edges("high")) == 4.0  # type: ignore[arg-type]
    assert policy.backoff(2, Edges("low")) == 2.0  # type: ignore[arg-type]


def test_the_transports_draw_their_jitter_from_the_rng_they_are_given() -> None:
    busy = httpx.Response(503, json={"code": "ServiceUnavailable", "message": "busy"})
    policy = sm.RetryPolicy(max_retries=1, backoff_base=1.0, backoff_max=8.0)
    waits: list[float] = []
    sync = sm.RetryTransport(
        httpx.MockTransport(answering(busy)),
        policy=policy,
        rng=Edges("low"),  # type: ignore[arg-type]
        sleep=waits.append,
    )
    with httpx.Client(transport=sync) as raw:
        raw.get(ENDPOINT)

    async def asleep(seconds: float) -> None:
        waits.append(seconds)

    async def main() -> None:
        transport = sm.AsyncRetryTransport(
            httpx.MockTransport(answering(busy)),
            policy=policy,
            rng=Edges("low"),  # type: ignore[arg-type]
            sleep=asleep,
        )
        async with httpx.AsyncClient(transport=transport) as araw:
            await araw.get(ENDPOINT)

    anyio.run(main)
    assert waits == [policy.backoff(0, Edges("low"))] * 2 == [0.5, 0.5]  # type: ignore[arg-type]


def pages(count: int) -> Callable[[str | None], Page[int]]:
    def get_page(token: str | None) -> Page[int]:
        at = 0 if token is None else int(token.rsplit("=", 1)[1])
        link = f"https://x.test/m?top=1&skip={at + 1}" if at + 1 < count else None
        return Page(items=[at], continuation_token=link, retry_after=None, status_code=200)

    return get_page


def test_item_paged_fetches_one_page_at_a_time_by_default_and_with_concurrency_ahead_by_get_page() -> None:
    asked: list[str | None] = []

    def get_page(token: str | None) -> Page[int]:
        asked.append(token)
        return pages(5)(token)

    assert list(ItemPaged(get_page)) == [0, 1, 2, 3, 4]
    assert asked == [None, *(f"https://x.test/m?top=1&skip={k}" for k in range(1, 5))]
    asked.clear()
    assert list(ItemPaged(get_page, concurrency=3)) == [0, 1, 2, 3, 4]  # no fetch_ahead: get_page by link
    assert sorted(filter(None, asked)) == sorted(set(filter(None, asked)))
    assert None in asked


def test_item_paged_by_default_fetches_every_page_on_the_callers_thread_or_task() -> None:
    """Concurrency 1, the default, starts no thread and no task: a resumed listing (a token, so links to fetch
    ahead by) included."""
    threads: set[threading.Thread] = set()

    def get_page(token: str | None) -> Page[int]:
        threads.add(threading.current_thread())
        return pages(6)(token)

    assert list(ItemPaged(get_page)) == [0, 1, 2, 3, 4, 5]
    assert list(ItemPaged(get_page, continuation_token="https://x.test/m?top=1&skip=2")) == [2, 3, 4, 5]
    assert threads == {threading.current_thread()}

    async def main() -> list[int]:
        tasks: set[object] = set()

        async def aget_page(token: str | None) -> Page[int]:
            tasks.add(anyio.get_current_task().id)
            return pages(6)(token)

        items = [item async for item in AsyncItemPaged(aget_page)]
        items += [item async for item in AsyncItemPaged(aget_page, continuation_token="https://x.test/m?top=1&skip=3")]
        assert tasks == {anyio.get_current_task().id}
        return items

    assert anyio.run(main) == [0, 1, 2, 3, 4, 5, 3, 4, 5]


def test_item_paged_honours_retry_after_up_to_sixty_seconds_by_default(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="speech_models.paging")
    waits: list[float] = []

    def get_page(token: str | None) -> Page[int]:
        link = None if token else "https://x.test/m?top=1&skip=1"
        return Page(items=[1], continuation_token=link, retry_after=90, status_code=200)

    assert list(ItemPaged(get_page, honor_retry_after=True, sleep=waits.append)) == [1, 1]
    assert waits == [60.0]
    assert "pacing: waiting 60.000s before the next page (Retry-After 90s)" in caplog.messages

    async def main() -> list[int]:
        async def aget_page(token: str | None) -> Page[int]:
            return get_page(token)

        async def asleep(seconds: float) -> None:
            waits.append(seconds)

        listing = AsyncItemPaged(aget_page, honor_retry_after=True, sleep=asleep)
        return [item async for item in listing]

    waits.clear()
    assert anyio.run(main) == [1, 1]
    assert waits == [60.0]


def test_async_item_paged_runs_its_own_waves_by_default() -> None:
    async def get_page(token: str | None) -> Page[int]:
        return pages(6)(token)

    async def main() -> list[int]:
        return [item async for item in AsyncItemPaged(get_page, concurrency=4)]

    assert anyio.run(main) == [0, 1, 2, 3, 4, 5]


@pytest.mark.parametrize(
    ("link", "fetched_ahead"),
    [
        ("?skip=10&top=10", True),  # a query and nothing before it
        ("https://x.test/m?skip=10&top=1", True),  # pages of one model
        ("https://x.test/m?skip=10&top=0", False),
        ("https://x.test/m?skip=10&top=10#frag", False),
        ("https://x.test/m#?skip=10&top=10", False),
        ("https://x.test/m", False),
    ],
)
def test_the_links_that_can_be_fetched_ahead(link: str, fetched_ahead: bool) -> None:
    assert (links_after(link) is not None) == fetched_ahead


def test_an_invalid_page_without_a_request_id_says_so_plainly() -> None:
    with (
        client(answering(*[httpx.Response(200, content=b"[]")] * 4)) as c,
        pytest.raises(sm.InvalidResponseError) as raised,
    ):
        list(c.list_models())
    assert str(raised.value) == "the 200 response is not a valid page of models: a JSON list, not an object"


def test_a_closed_clients_listing_says_what_to_do() -> None:
    c = client(answering())
    c.close()
    with pytest.raises(sm.ClientClosedError) as raised:
        list(c.list_models())
    assert str(raised.value) == (
        "the client is closed (its with block ended, or close() was called): iterate the listing inside the with "
        "block, or use a new client"
    )


def test_reprs_name_the_auth_and_never_the_secret() -> None:
    from speech_models._auth import auth_for

    assert repr(auth_for("secret-key", None, is_async=False, host="x", now=lambda: 0.0)) == (
        "SubscriptionKeyAuth(key=[redacted])"
    )

    class MyCredential:
        def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
            raise AssertionError

    bearer = auth_for(None, MyCredential(), is_async=False, host="x.cognitiveservices.azure.com", now=lambda: 0.0)
    assert repr(bearer) == "BearerTokenAuth(credential=MyCredential, token=[redacted])"
    assert repr(Endpoint("https://westus.api.cognitive.microsoft.com/")) == (
        "Endpoint('https://westus.api.cognitive.microsoft.com')"
    )
    gateway = Endpoint("https://gateway.example/speech/speechtotext/")  # a gateway's prefix kept, the API's dropped
    assert (str(gateway), gateway.list_path) == ("https://gateway.example/speech", "/speech/speechtotext/models")


def test_fetches_ahead_run_on_named_daemon_threads() -> None:
    seen: list[tuple[str, bool]] = []

    def get_page(token: str | None) -> Page[int]:
        thread = threading.current_thread()
        seen.append((thread.name, thread.daemon))
        return pages(4)(token)

    assert list(ItemPaged(get_page, concurrency=3)) == [0, 1, 2, 3]
    ahead = sorted(entry for entry in seen if entry[0] != threading.main_thread().name)
    assert ahead == [("speech-models-page-0", True), ("speech-models-page-1", True), ("speech-models-page-2", True)]


def test_a_transport_error_without_a_request_names_the_request_it_failed() -> None:
    class Bare(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            raise httpx.ConnectError("refused")  # no request= given

    with (
        sm.SpeechToTextModels(ENDPOINT, "k", transport=Bare(), retry_policy=sm.RetryPolicy(max_retries=0)) as c,
        pytest.raises(sm.APIConnectionError) as raised,
    ):
        list(c.list_models())
    assert "/speechtotext/models" in str(raised.value)


def test_a_sync_token_fetch_runs_on_a_named_daemon_thread() -> None:
    seen: list[tuple[str, bool]] = []

    class Credential:
        def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
            thread = threading.current_thread()
            seen.append((thread.name, thread.daemon))
            return AccessToken("a-token", 4_000_000_000)

    with sm.SpeechToTextModels(
        "https://r.cognitiveservices.azure.com",
        credential=Credential(),
        transport=httpx.MockTransport(answering()),
    ) as c:
        assert list(c.list_models()) == []
    assert seen == [("speech-models-token", True)]


def test_a_closed_transport_finds_nothing_in_flight_after_its_calls_ended() -> None:
    """close() gives attempts under way a grace period; after calls that ended (answered, failed, retried, two at
    once) it finds none, so it does not wait. A miscount would hold every close() for the whole grace."""
    sequential = answering(httpx.Response(503, headers={"Retry-After": "0"}), httpx.ConnectError("x"))
    both = threading.Barrier(2, timeout=10)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/together":
            both.wait()  # the two calls are in flight at once
            return httpx.Response(200)
        return sequential(request)

    transport = sm.RetryTransport(httpx.MockTransport(handler), sleep=lambda seconds: None)
    with httpx.Client(transport=transport) as http:
        assert http.get("https://x.test/").status_code == 200
        with ThreadPoolExecutor(2) as pool:
            together = pool.map(lambda _: http.get("https://x.test/together").status_code, range(2))
            assert list(together) == [200, 200]
    settled_before: list[bool] = []
    condition = transport._settled

    class Spy:
        def __enter__(self) -> Spy:
            condition.__enter__()
            return self

        def __exit__(self, *exc: Any) -> None:
            condition.__exit__(*exc)

        def wait_for(self, predicate: Callable[[], bool], timeout: float | None = None) -> bool:
            settled_before.append(predicate())
            return condition.wait_for(predicate, timeout)

    transport._settled = Spy()  # type: ignore[assignment]
    transport.close()
    assert settled_before == [True]


@pytest.mark.parametrize("max_wait", [0, 0.5])
def test_a_max_wait_of_zero_or_under_a_second_is_taken(max_wait: float) -> None:
    assert sm.RetryPolicy(max_wait=max_wait).max_wait == max_wait


def test_a_pool_without_a_pool_timeout_waits_for_a_slot_as_long_as_it_takes() -> None:
    """``httpx.Timeout(pool=None)`` and no deadline: the transports' own connection slots are waited for without a
    bound."""
    timeout, endless = httpx.Timeout(5.0, pool=None), sm.RetryPolicy(deadline=None)
    transport = sm.RetryTransport(httpx.MockTransport(answering()), policy=endless, max_connections=1)
    with httpx.Client(transport=transport, timeout=timeout) as raw:
        assert raw.get(ENDPOINT).status_code == 200

    async def main() -> int:
        wrapped = sm.AsyncRetryTransport(httpx.MockTransport(answering()), policy=endless, max_connections=1)
        async with httpx.AsyncClient(transport=wrapped, timeout=timeout) as araw:
            return (await araw.get(ENDPOINT)).status_code

    assert anyio.run(main) == 200


def test_the_retry_transports_keep_what_the_wire_said_of_the_response() -> None:
    """The response handed back (its body read into memory) keeps the wrapped transport's extensions: the reason
    phrase and HTTP version the server sent."""
    said = {"reason_phrase": b"Fine Thanks", "http_version": b"HTTP/1.0"}

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"values": []}, extensions=said)

    with httpx.Client(transport=sm.RetryTransport(httpx.MockTransport(handler))) as raw:
        response = raw.get(ENDPOINT)
    assert (response.reason_phrase, response.http_version) == ("Fine Thanks", "HTTP/1.0")

    async def main() -> httpx.Response:
        async with httpx.AsyncClient(transport=sm.AsyncRetryTransport(httpx.MockTransport(handler))) as araw:
            return await araw.get(ENDPOINT)

    response = anyio.run(main)
    assert (response.reason_phrase, response.http_version) == ("Fine Thanks", "HTTP/1.0")


def test_an_async_on_retry_is_told_the_body_that_did_not_decode() -> None:
    events: list[sm.RetryEvent] = []
    garbage = httpx.Response(200, content=b"<html>proxy</html>")

    async def main() -> int:
        transport = sm.AsyncRetryTransport(
            httpx.MockTransport(answering(garbage)), policy=sm.RetryPolicy(on_retry=events.append), sleep=_no_wait
        )
        async with httpx.AsyncClient(transport=transport) as raw:
            request = raw.build_request("GET", ENDPOINT, extensions={DECODE_EXTENSION: json.loads})
            return (await raw.send(request)).status_code

    assert anyio.run(main) == 200
    (body,) = events
    assert body.reason == "200 with a body that does not decode (JSONDecodeError), wait from backoff"


async def _no_wait(seconds: float) -> None:
    pass


def test_an_async_transport_keeps_no_call_after_its_calls_ended() -> None:
    """Each detached call leaves the transport's set when it ends (answered, failed, retried), its outcome taken:
    nothing for aclose() to wait for, and nothing kept."""
    answers = answering(httpx.Response(503, headers={"Retry-After": "0"}), httpx.ConnectError("x"))
    transport = sm.AsyncRetryTransport(httpx.MockTransport(answers), sleep=_no_wait)

    async def main() -> int:
        async with httpx.AsyncClient(transport=transport) as raw:
            status = (await raw.get(ENDPOINT)).status_code
            assert transport._calls == set()
            return status

    assert anyio.run(main, backend="asyncio") == 200


def test_a_detached_step_given_to_an_abandoned_call_closes_its_coroutine() -> None:
    """A coroutine handed to an abandoned call is closed, not left to warn that it was never awaited; abandoning
    a call between its steps is safe."""
    from speech_models._async_retry_transport import _Abandoned, _Detached, _Phase

    async def main() -> None:
        detached = _Detached(httpx.Request("GET", ENDPOINT))
        assert await detached.step(_Phase.READING, _no_wait(0)) is None
        detached.abandon()  # after a step, in a phase that is cancelled through a scope: no scope is left
        pending = _no_wait(0)
        with pytest.raises(_Abandoned):
            await detached.step(_Phase.WAITING, pending)
        assert inspect.getcoroutinestate(pending) == inspect.CORO_CLOSED

    anyio.run(main)


@pytest.mark.parametrize("answer_after", [0.3, 30.0], ids=["ends-within-the-grace", "outlasts-it"])
def test_an_async_transport_closes_after_its_calls_under_way_or_after_a_second(answer_after: float) -> None:
    """aclose() lets a call under way end first (its answer arrives, the pool is not closed under it), but waits
    no longer than its grace of a second for one that does not."""
    done = threading.Event()

    def late(conn: Any) -> None:
        done.wait(answer_after)  # the test's end cuts a long one short
        answer(body=page_body(1))(conn)

    with ScriptedServer([late]) as server:

        async def main() -> tuple[bool, int | None]:
            transport = sm.AsyncRetryTransport(httpx.AsyncHTTPTransport())
            caller = asyncio.create_task(transport.handle_async_request(httpx.Request("GET", server.url)))
            while not server.requests:  # noqa: ASYNC110 - the server records the request on its own thread
                await asyncio.sleep(0.01)
            await asyncio.wait_for(transport.aclose(), 10)  # a bound: waiting for the 30 s answer would pass it
            ended = caller.done()
            try:
                status: int | None = (await caller).status_code
            except (httpx.TransportError, CallStopped):  # the pool closed under it; its retry met the closed transport
                status = None
            return ended, status

        try:
            ended, status = anyio.run(main, backend="asyncio")
        finally:
            done.set()
    if answer_after < 1:
        assert (ended, status) == (True, 200)
    else:
        assert status is None  # aclose() returned before its answer came: the call ends with an error


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"top": 0}, "top must be a positive integer, not 0"),
        ({"skip": -1}, "skip must be a non-negative integer, not -1"),
        ({"top": "5"}, "top must be a positive integer, not '5'"),
        ({"filter": 5}, "filter must be a string, not int"),
    ],
)
def test_a_bad_argument_is_named_with_what_it_must_be(options: dict[str, Any], message: str) -> None:
    with client(answering()) as c, pytest.raises(sm.ConfigurationError) as raised:
        c.list_models(**options)
    assert str(raised.value) == message


def test_the_smallest_top_and_skip_are_taken() -> None:
    with client(answering()) as c:
        assert list(c.list_models(top=1, skip=0)) == []


def test_a_calls_own_timeout_and_max_wait_reach_its_requests() -> None:
    """A call's httpx timeouts are the ones its requests carry, and its policy's max_wait caps its pacing."""
    seen: list[dict[str, Any]] = []
    paced = httpx.Response(
        200, headers={"Retry-After": "90"}, json={"values": [], "@nextLink": f"{ENDPOINT}/speechtotext/models?skip=1"}
    )

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return paced if len(seen) == 1 else httpx.Response(200, json={"values": []})

    clock = FakeClock()
    with sm.SpeechToTextModels(
        ENDPOINT, "k", transport=httpx.MockTransport(handler), clock=clock, sleep=clock.sleep, timeout=30
    ) as c:
        policy = sm.RetryPolicy(max_wait=5)
        listing = c.list_models(timeout=httpx.Timeout(7.0), retry_policy=policy, honor_retry_after=True)
        assert list(listing) == []
    assert [timeouts["read"] for timeouts in seen] == [7.0, 7.0]
    assert clock.sleeps == [5.0]


def test_a_wave_started_after_its_runner_closed_is_stopped_from_the_start() -> None:
    """close() stops the waves under way and any started later (a listing that raced the client's close)."""
    links = ["https://x.test/m?skip=0&top=1", "https://x.test/m?skip=1&top=1"]
    stopped: list[bool] = []

    def fetch(link: str, stop: threading.Event) -> Page[int]:
        stopped.append(stop.is_set())
        if stop.is_set():  # as the retry transport ends a stopped call before it sends
            raise CallStopped
        return pages(2)(None if link == links[0] else link)

    threads = ThreadWaves()
    threads.close()
    plan = Plan(links_after(links[0]), 2)  # type: ignore[arg-type]
    assert threads.run(fetch, links, plan) == []
    assert all(stopped)  # a fetch that starts at all finds the wave stopped

    started: list[str] = []

    async def afetch(link: str) -> Page[int]:
        started.append(link)
        await anyio.sleep(5)
        raise AssertionError("a stopped wave's fetch ran on")

    async def main() -> list[Any]:
        tasks = TaskWaves()
        tasks.close()
        return await tasks.run(afetch, links, Plan(links_after(links[0]), 2))  # type: ignore[arg-type]

    assert anyio.run(main) == []


@pytest.mark.parametrize("status", [429, 503])
def test_an_http_date_retry_after_is_measured_from_the_transports_own_now(status: int) -> None:
    """``now=`` (the wall clock, injectable) is what an HTTP-date ``Retry-After`` is measured from."""
    fixed = 1_700_000_000.0
    later = httpx.Response(status, headers={"Retry-After": formatdate(fixed + 10, usegmt=True)})
    waits: list[float] = []
    transport = sm.RetryTransport(httpx.MockTransport(answering(later)), now=lambda: fixed, sleep=waits.append)
    with httpx.Client(transport=transport) as raw:
        assert raw.get(ENDPOINT).status_code == 200
    assert waits == [10.0]


@pytest.mark.parametrize(("status", "retried"), [(429, True), (503, True), (500, False), (502, False)])
def test_a_request_that_is_not_idempotent_is_retried_only_when_the_service_says_it_was_not_done(
    status: int, retried: bool
) -> None:
    """A POST through the retry transport is sent again only after a 429 or a 503 (the service did not act on it)."""
    answers = answering(httpx.Response(status, headers={"Retry-After": "0"}))
    bodies: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(request.read())
        return answers(request)

    transport = sm.RetryTransport(httpx.MockTransport(handler), sleep=lambda seconds: None)
    with httpx.Client(transport=transport) as raw:
        assert raw.post(ENDPOINT, content=b'{"a": 1}').status_code == (200 if retried else status)
    assert bodies == [b'{"a": 1}'] * (2 if retried else 1)  # each attempt carries the body


def test_a_wait_past_max_wait_gives_up_and_says_why(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="speech_models.retry")
    throttled = httpx.Response(429, headers={"Retry-After": "100"}, json=THROTTLED)
    busy = httpx.Response(503, json={"code": "ServiceUnavailable", "message": "busy"})
    events: list[sm.RetryEvent] = []
    policy = sm.RetryPolicy(max_wait=60, on_retry=events.append)
    with client(answering(busy, throttled), retry_policy=policy) as c, pytest.raises(sm.RateLimitError) as raised:
        list(c.list_models())
    assert [event.reason for event in events] == ["503, wait from backoff"]
    assert raised.value.attempts is not None
    assert raised.value.attempts.gave_up == "the service asked to wait 100s, over max_wait 60s"
    (record,) = (r for r in caplog.records if r.getMessage().startswith("not retrying"))
    url = f"{ENDPOINT}/speechtotext/models?api-version=2025-10-15"
    assert record.getMessage() == (
        f"not retrying GET {url}: the service asked to wait 100s, over max_wait 60s (retry-after)"
    )
    assert record.status_code == 429  # type: ignore[attr-defined]
    assert record.http_method == "GET"  # type: ignore[attr-defined]
    assert [m for m in caplog.messages if "(attempt" in m] == [f"GET {url} (attempt 1)", f"GET {url} (attempt 2)"]


@pytest.mark.parametrize("bad", [0, -1.0])
def test_an_attempt_timeout_that_is_not_positive_is_refused(bad: float) -> None:
    with pytest.raises(ValueError, match=r"^attempt_timeout must be a positive number of seconds$"):
        sm.RetryTransport(httpx.MockTransport(answering()), attempt_timeout=bad)


def test_a_pool_timeout_of_none_under_a_deadline_waits_what_the_deadline_leaves() -> None:
    """``httpx.Timeout(pool=None)`` with the policy's deadline: the attempt's timeouts are cut to what is left."""
    seen: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return httpx.Response(200, json={"values": []})

    transport = sm.RetryTransport(httpx.MockTransport(handler), policy=sm.RetryPolicy(deadline=100))
    with httpx.Client(transport=transport, timeout=httpx.Timeout(5.0, pool=None)) as raw:
        assert raw.get(ENDPOINT).status_code == 200
    (timeouts,) = seen
    assert timeouts["read"] == 5.0
    assert 99 < timeouts["pool"] <= 100
