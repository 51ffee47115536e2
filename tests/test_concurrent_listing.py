"""``list_models(concurrency=N)`` over real loopback sockets: the items of the sequential listing in the same order,
never more than N requests at once, ``max_items`` and the last page bounding what is fetched, the fallback to
following links when the service's links are not skip/top or not the predicted ones, errors that resume exactly,
throttling that slows the listing instead of failing it, and stopping that drops what is in flight."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import speech_models as sm
from speech_models import ConfigurationError, RetryPolicy
from speech_models._ahead import links_after
from speech_models_emulator import run_emulator

from tests.fakes import FakeClock

COUNT = 537
TOP = 50


class PageServer:
    """Pages of `count` models by skip/top (``@nextLink`` shaped by `link`), counting requests in flight.

    `hold`: requests after the first wait (at most `hold_for` seconds) until `hold` are in flight at once, then
    half a second more for one more to join them, so that a client running ahead shows its full window, and a
    window one too large shows too; then the gate stays open. `answer`: a hook that may answer a request itself
    (status, headers, body).
    """

    def __init__(self, count: int = COUNT, link: Callable[[str, int, int], str | None] | None = None) -> None:
        self.count = count
        self.link = link or (lambda base, skip, top: f"{base}/speechtotext/models?skip={skip}&top={top}&api-version=x")
        self.hold = 0
        self.hold_for = 30.0  # a readiness wait, not a sleep: it ends as soon as the crowd is there
        self.answer: Callable[[int, int], tuple[int, dict[str, str], bytes] | None] = lambda skip, n: None
        self.in_flight = 0
        self.max_in_flight = 0
        self.requests: list[str] = []
        self._lock = threading.Condition()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # the name http.server calls
                server.serve(self)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self) -> PageServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)

    def release(self) -> None:
        with self._lock:
            self.hold = 0
            self._lock.notify_all()

    def model(self, index: int) -> dict[str, Any]:
        return {"displayName": f"model {index}", "locale": "en-US", "status": "Succeeded", "n": index}

    def serve(self, handler: BaseHTTPRequestHandler) -> None:
        query = parse_qs(urlsplit(handler.path).query)
        skip = int(query.get("skip", ["0"])[0])
        top = int(query.get("top", [str(TOP)])[0])
        with self._lock:
            self.requests.append(handler.path)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self._lock.notify_all()
            if (  # the first page comes alone, before any window
                self.hold
                and len(self.requests) > 1
                and self._lock.wait_for(lambda: self.in_flight >= self.hold or not self.hold, timeout=self.hold_for)
            ):
                # the crowd came: give one more request the chance to join it, then open the gate for good
                self._lock.wait_for(lambda: self.in_flight > self.hold or not self.hold, timeout=0.5)
                self.hold = 0
                self._lock.notify_all()
            number = len(self.requests)
        try:
            special = self.answer(skip, number)
            if special is None:
                values = [self.model(i) for i in range(skip, min(skip + top, self.count))]
                page: dict[str, Any] = {"values": values}
                link = self.link(self.url, skip + top, top) if skip + top < self.count else None
                if link:
                    page["@nextLink"] = link
                special = (200, {}, json.dumps(page).encode())
            status, headers, body = special
            handler.send_response(status)
            for name, value in {"Content-Type": "application/json", **headers}.items():
                handler.send_header(name, value)
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
        finally:
            with self._lock:
                self.in_flight -= 1


@pytest.fixture
def server() -> Iterator[PageServer]:
    with PageServer() as running:
        yield running


def _names(models: Any) -> list[str | None]:
    return [model.display_name for model in models]


EVERY = [f"model {i}" for i in range(COUNT)]


@pytest.mark.parametrize("concurrency", [2, 4, 8])
def test_the_items_are_the_sequential_listings_in_order(server: PageServer, concurrency: int) -> None:
    with sm.SpeechToTextModels(server.url, "k") as client:
        assert _names(client.list_models(top=TOP, concurrency=concurrency)) == EVERY
    assert len(server.requests) <= 11 + concurrency - 1  # the 11 pages, and at most N-1 asked past the end


def test_async_items_are_the_sequential_listings_in_order(server: PageServer) -> None:
    async def listing() -> list[str | None]:
        async with sm.AsyncSpeechToTextModels(server.url, "k") as client:
            return [model.display_name async for model in client.list_models(top=TOP, concurrency=4)]

    assert asyncio.run(listing()) == EVERY


def test_against_the_emulator_with_a_filter_every_byte_of_its_links_kept() -> None:
    with run_emulator(count=537) as emulator, sm.SpeechToTextModels(emulator.url, emulator.key) as client:
        query = {"filter": "status eq 'Succeeded' or status eq 'Running'", "top": 20}
        sequential = [model.to_dict() for model in client.list_models(**query)]  # type: ignore[arg-type]
        emulator.state.journal.clear()
        ahead = [model.to_dict() for model in client.list_models(**query, concurrency=6)]  # type: ignore[arg-type]
        assert ahead == sequential
        assert len(sequential) > 40
        assert all(entry["status"] == 200 for entry in emulator.requests)


@pytest.mark.parametrize("concurrency", [3, 8])
def test_never_more_than_n_requests_at_once(server: PageServer, concurrency: int) -> None:
    server.hold = concurrency  # each request waits until N are in flight: a window of N shows, N+1 would too
    with sm.SpeechToTextModels(server.url, "k") as client:
        assert _names(client.list_models(top=TOP, concurrency=concurrency)) == EVERY
    assert server.max_in_flight == concurrency


def test_async_never_more_than_n_requests_at_once(server: PageServer) -> None:
    server.hold = 5

    async def listing() -> list[str | None]:
        async with sm.AsyncSpeechToTextModels(server.url, "k") as client:
            return [model.display_name async for model in client.list_models(top=TOP, concurrency=5)]

    assert asyncio.run(listing()) == EVERY
    assert server.max_in_flight == 5


def test_max_items_bounds_what_is_fetched(server: PageServer) -> None:
    with sm.SpeechToTextModels(server.url, "k") as client:
        assert _names(client.list_models(top=TOP, concurrency=8, max_items=120)) == EVERY[:120]
    assert len(server.requests) == 3  # 50 + 50 + 20: three pages, none ahead of need


def test_links_that_are_not_skip_top_are_followed_one_at_a_time(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="speech_models.paging")

    def cursor(base: str, skip: int, top: int) -> str:
        return f"{base}/speechtotext/models?top={top}&skip={skip}&skip={skip}&api-version=x"  # skip twice: no plan

    with PageServer(link=cursor) as server, sm.SpeechToTextModels(server.url, "k") as client:
        server.hold, server.hold_for = 2, 0.1  # a second request in flight would be let through at once
        assert _names(client.list_models(top=TOP, concurrency=4)) == EVERY
        assert server.max_in_flight == 1
    assert (
        "concurrency=4 is off: the service's @nextLink has no skip and top to fetch ahead by; following links one "
        "at a time"
    ) in caplog.messages


def test_a_link_that_is_not_the_predicted_one_ends_the_window(caplog: pytest.LogCaptureFixture) -> None:
    """Page 3's @nextLink jumps over a page: the listing follows the service's links, as the sequential one does."""
    caplog.set_level(logging.DEBUG, logger="speech_models.paging")

    def jumpy(base: str, skip: int, top: int) -> str:
        skip = skip + top if skip == 150 else skip
        return f"{base}/speechtotext/models?skip={skip}&top={top}&api-version=x"

    with PageServer(link=jumpy) as server, sm.SpeechToTextModels(server.url, "k") as client:
        sequential = _names(client.list_models(top=TOP))
        server.requests.clear()
        assert _names(client.list_models(top=TOP, concurrency=4)) == sequential
    assert sequential == EVERY[:150] + EVERY[200:]
    assert "the @nextLink is not the one fetched ahead; following links one at a time from here" in caplog.messages
    skips = [int(parse_qs(urlsplit(path).query).get("skip", ["0"])[0]) for path in server.requests]
    assert max(skips) == 500  # once the window ended, links are followed one at a time: none past the last page


def test_a_failed_page_raises_when_reached_and_resumes_exactly(server: PageServer) -> None:
    failing = {"on": True}

    def answer(skip: int, number: int) -> tuple[int, dict[str, str], bytes] | None:
        if skip == 250 and failing["on"]:
            return 400, {}, b'{"code": "InvalidArgument", "message": "no"}'
        return None

    server.answer = answer
    seen: list[str | None] = []
    with sm.SpeechToTextModels(server.url, "k") as client:
        listing = client.list_models(top=TOP, concurrency=4)
        with pytest.raises(sm.APIStatusError) as info:
            seen.extend(str(model.display_name) for model in listing)
        assert seen == EVERY[:250]
        token = info.value.continuation_token
        assert token is not None
        assert "skip=250" in token
        failing["on"] = False
        rest = _names(client.list_models(continuation_token=token, concurrency=4))
    assert seen + rest == EVERY


def test_each_pages_continuation_token_resumes_exactly(server: PageServer) -> None:
    with sm.SpeechToTextModels(server.url, "k") as client:
        pages = list(client.list_models(top=TOP, concurrency=4).by_page())
        token = pages[3].continuation_token
        assert token is not None
        assert _names(client.list_models(continuation_token=token)) == EVERY[200:]
    assert [len(page.items) for page in pages] == [50] * 10 + [37]


def test_a_throttled_service_slows_the_listing_instead_of_failing_it(server: PageServer) -> None:
    """Every page's first try is a 429: each is retried under the policy, on its own thread (time passes only
    when the client sleeps)."""
    tried: set[int] = set()
    lock = threading.Lock()
    clock = FakeClock()

    def answer(skip: int, number: int) -> tuple[int, dict[str, str], bytes] | None:
        with lock:
            if skip in tried:
                return None
            tried.add(skip)
        return 429, {"Retry-After": "2"}, b'{"code": "TooManyRequests", "message": "slow down"}'

    server.answer = answer
    policy = RetryPolicy(max_retries=2)
    with sm.SpeechToTextModels(server.url, "k", sleep=clock.sleep, clock=clock, retry_policy=policy) as client:
        assert _names(client.list_models(top=TOP, concurrency=4)) == EVERY
    assert clock.sleeps.count(2.0) >= 11  # each page waited as the service asked


def test_a_page_fetched_ahead_waits_out_a_short_retry_after_in_real_time(
    server: PageServer, caplog: pytest.LogCaptureFixture
) -> None:
    """With the real clock a fetch ahead waits on its wave's stop for as long as the service asked (10 ms), then
    retries; and a listing whose links are all the predicted ones never logs that one was not."""
    caplog.set_level(logging.DEBUG, logger="speech_models")
    tried: set[int] = set()

    def answer(skip: int, number: int) -> tuple[int, dict[str, str], bytes] | None:
        if skip != 100 or skip in tried:
            return None
        tried.add(skip)
        return 429, {"retry-after-ms": "10"}, b'{"code": "TooManyRequests", "message": "slow down"}'

    server.answer = answer
    with sm.SpeechToTextModels(server.url, "k") as client:
        assert _names(client.list_models(top=TOP, concurrency=4)) == EVERY
    assert any("in 0.010s" in message for message in caplog.messages)
    assert not any("not the one fetched ahead" in message for message in caplog.messages)


def test_stopping_after_the_first_page_asks_for_nothing_more(server: PageServer) -> None:
    """A wave starts only when the next page is wanted: a listing stopped after its first page asked for one."""
    with sm.SpeechToTextModels(server.url, "k") as client:
        listing = iter(client.list_models(top=TOP, concurrency=4))
        assert next(listing).display_name == "model 0"
        listing.close()  # type: ignore[attr-defined]
    assert len(server.requests) == 1


def test_async_stopping_after_the_first_page_asks_for_nothing_more(server: PageServer) -> None:
    async def stop_early() -> None:
        async with sm.AsyncSpeechToTextModels(server.url, "k") as client:
            pages = client.list_models(top=TOP, concurrency=4).by_page()
            await pages.__anext__()
            await pages.aclose()  # type: ignore[attr-defined]

    asyncio.run(stop_early())
    assert len(server.requests) == 1


def test_async_cancelling_a_wave_leaves_no_task_behind(server: PageServer) -> None:
    """The caller is cancelled while a wave's four requests are held at the server: within half a second no task
    of the listing is left (the wave's tasks and the calls they started all ended)."""

    async def cancel_mid_wave() -> set[asyncio.Task[Any]]:
        async with sm.AsyncSpeechToTextModels(server.url, "k") as client:
            pages = client.list_models(top=TOP, concurrency=4).by_page()
            await pages.__anext__()
            server.hold, server.hold_for = 100, 30.0  # the wave's requests wait for a crowd that never comes
            waiting: asyncio.Task[Any] = asyncio.create_task(pages.__anext__())  # type: ignore[arg-type]
            for _ in range(1000):  # a readiness wait: until the wave's requests are at the server
                if len(server.requests) == 1 + 4:
                    break
                await asyncio.sleep(0.01)
            waiting.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiting
            others: set[asyncio.Task[Any]] = set()
            for _ in range(50):
                others = {task for task in asyncio.all_tasks() if task is not asyncio.current_task()}
                if not others:
                    break
                await asyncio.sleep(0.01)
            server.release()
            return others

    assert asyncio.run(cancel_mid_wave()) == set()
    assert len(server.requests) == 1 + 4


def test_honor_retry_after_lists_one_page_at_a_time(server: PageServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="speech_models.paging")
    server.hold, server.hold_for = 2, 0.1
    with sm.SpeechToTextModels(server.url, "k") as client:
        assert _names(client.list_models(top=TOP, concurrency=4, honor_retry_after=True)) == EVERY
    assert server.max_in_flight == 1
    assert "concurrency=4 is off: honor_retry_after paces the pages one at a time" in caplog.messages


@pytest.mark.parametrize("value", [1, 64])
def test_concurrency_from_one_to_sixty_four_is_taken(value: int) -> None:
    with sm.SpeechToTextModels("https://x.example", "k") as client:
        client.list_models(concurrency=value)


@pytest.mark.parametrize("value", [0, 65, True, 2.0, "2"])
def test_a_bad_concurrency_is_a_configuration_error(value: object) -> None:
    with (
        sm.SpeechToTextModels("https://x.example", "k") as client,
        pytest.raises(ConfigurationError, match="concurrency"),
    ):
        client.list_models(concurrency=value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        ("https://x/m?skip=100&top=50&api-version=v", ["https://x/m?skip=100&top=50&api-version=v",
                                                        "https://x/m?skip=150&top=50&api-version=v"]),
        ("https://x/m?top=50&filter=a%20eq%20'skip=1'&skip=0", ["https://x/m?top=50&filter=a%20eq%20'skip=1'&skip=0",
                                                                 "https://x/m?top=50&filter=a%20eq%20'skip=1'&skip=50"]),
        ("https://x/m?top=50&filter=a%20eq%20'x?y'&skip=0", ["https://x/m?top=50&filter=a%20eq%20'x?y'&skip=0",
                                                              "https://x/m?top=50&filter=a%20eq%20'x?y'&skip=50"]),
        ("https://x/m?skip=100", None),
        ("https://x/m?top=50", None),
        ("https://x/m?skip=1&top=0", None),
        ("https://x/m?skip=1&top=5&skip=2", None),
        ("https://x/m?xskip=1&top=5", None),
        ("https://x/m?skip=1&top=5#f", None),
        ("https://x/m", None),
    ],
)  # fmt: skip
def test_the_links_ahead_keep_every_other_byte(link: str, expected: list[str] | None) -> None:
    links = links_after(link)
    assert (None if links is None else [links.at(0), links.at(1)]) == expected
