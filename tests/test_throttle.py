"""The client-wide throttle (``_throttle``), on injected clocks: the pause every request waits out after a 429, the
window of pages at once that halves and grows again, the share a 429 measures, and ``rate_limit`` spacing across
threads and tasks; then the same through the clients and a listing under the emulator's quota."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import anyio
import httpx
import pytest
import speech_models as sm
from speech_models._ahead import Links, Plan
from speech_models._throttle import FORGET_AFTER, Throttle
from speech_models_emulator import build_models, create_app
from speech_models_emulator.inprocess import SyncASGITransport

from tests.fakes import FakeClock
from tests.loopback import ScriptedServer, answer, page_body

ENDPOINT = "https://westus.api.cognitive.microsoft.com"
PAGE = b'{"values": []}'


def admit(throttle: Throttle, pause: bool = True) -> tuple[float, str]:
    """``throttle.admit()``'s wait, rounded to a microsecond (the fake clock's sums are floats), and why."""
    wait, why, _ = throttle.admit(pause)
    return round(wait, 6), why


def test_after_a_429_every_request_waits_until_its_wait_has_passed() -> None:
    clock = FakeClock()
    throttle = Throttle(clock)
    assert admit(throttle) == (0.0, "")
    throttle.throttled(5.0, throttle.epoch)
    assert admit(throttle) == (5.0, "pause")
    throttle.throttled(2.0, throttle.epoch)  # a shorter wait later never shortens the pause
    clock.now += 4.0
    assert admit(throttle) == (1.0, "pause")
    assert admit(throttle, pause=False) == (0.0, "")  # a caller whose deadline would not outlast it sends through
    clock.now += 1.0
    assert admit(throttle) == (0.0, "")


def test_a_429_without_a_wait_pauses_no_one() -> None:
    throttle = Throttle(FakeClock())
    throttle.throttled(None, throttle.epoch)
    assert admit(throttle) == (0.0, "")


def test_the_window_halves_once_for_the_requests_in_flight_together_and_grows_with_successes() -> None:
    throttle = Throttle(FakeClock())
    assert throttle.width(8) == 8  # no 429 yet: what the listing asks for
    sent = throttle.epoch
    throttle.throttled(None, sent)
    assert throttle.width(8) == 4
    throttle.throttled(None, sent)  # another answer to the same wave: no second cut
    assert throttle.width(8) == 4
    throttle.throttled(None, throttle.epoch)
    assert throttle.width(8) == 2
    for _ in range(2):  # each success adds 1/window: 2.5, then 2.9
        throttle.succeeded(throttle.epoch)
    assert throttle.width(8) == 2
    throttle.succeeded(throttle.epoch)
    assert throttle.width(8) == 3
    for _ in range(200):
        throttle.succeeded(throttle.epoch)
    assert throttle.width(8) == 8  # never past what the listing asks for
    assert throttle.width(3) == 3
    for _ in range(10):
        throttle.throttled(None, throttle.epoch)
    assert throttle.width(8) == 1  # never below one


def test_a_later_429_of_the_same_wave_lengthens_the_pause_and_the_next_wall_halves_once() -> None:
    clock = FakeClock()
    throttle = Throttle(clock)
    throttle.width(8)
    wave = throttle.epoch
    throttle.throttled(5.0, wave)
    throttle.throttled(8.0, wave)  # another request of the wave, told to wait longer
    throttle.throttled(1.0, wave)  # and one told less: the pause is never shortened
    assert admit(throttle) == (8.0, "pause")
    assert throttle.width(8) == 4
    clock.now += 8.0
    second = throttle.epoch  # sent after the first wall
    throttle.throttled(None, second)
    throttle.throttled(None, second)
    assert throttle.width(8) == 2  # the second wall halves once too


def test_sends_exactly_one_share_window_ago_no_longer_count_against_it() -> None:
    clock = FakeClock()
    throttle = Throttle(clock)
    throttle.width(8)
    for _ in range(3):
        throttle.admit()
        throttle.succeeded(throttle.epoch)
    clock.now += 1.0
    throttle.throttled(9.0, throttle.epoch)
    assert throttle.share == (3, 10.0)
    clock.now += 9.0
    for _ in range(3):  # the share spent at once after the pause
        throttle.admit()
    assert throttle.width(8) == 1
    clock.now += 10.0  # those three sends are now exactly one share window old
    assert throttle.width(8) == 3  # the whole share again, within the halved window of 4


def test_a_refused_request_that_has_left_the_rate_window_is_no_error() -> None:
    clock = FakeClock()
    throttle = Throttle(clock, rate_limit=(2, 1.0))
    _, _, sent_at = throttle.admit()
    clock.now += 5.0
    throttle.admit()  # the first send has left the window, and the record
    throttle.throttled(None, throttle.epoch, sent_at)  # its late 429
    assert admit(throttle) == (0.0, "")


def test_a_429_measures_the_share_and_a_spent_share_narrows_the_waves_to_one() -> None:
    clock = FakeClock()
    throttle = Throttle(clock)
    assert throttle.width(8) == 8
    started = clock.now
    for _ in range(10):  # ten sends that succeed over 2 s, then a 429 that says 8 s more
        assert admit(throttle) == (0.0, "")
        throttle.succeeded(throttle.epoch)
        clock.now += 0.2
    last = throttle.epoch
    throttle.throttled(8.0, last)
    assert throttle.share is not None
    assert throttle.share[0] == 10
    assert throttle.share[1] == pytest.approx(clock.now + 8.0 - started)
    throttle.succeeded(last)  # in flight when the 429 came: it was part of that share
    assert throttle.share[0] == 11
    clock.now += 8.0
    assert throttle.width(8) == 4  # the halved window
    for _ in range(9):
        throttle.admit()
    assert throttle.width(8) == 2  # what is left of the share: two
    throttle.admit()
    throttle.admit()
    assert throttle.width(8) == 1  # spent: one page at a time, never held back
    assert admit(throttle) == (0.0, "")


def test_only_the_requests_in_flight_at_the_429_join_its_share() -> None:
    clock = FakeClock()
    throttle = Throttle(clock)
    older = throttle.epoch
    throttle.throttled(None, older)  # a 429 without a wait: a new epoch, no share
    measured = throttle.epoch
    throttle.admit()
    throttle.succeeded(measured)
    throttle.throttled(5.0, measured)  # measures (1, ...)
    assert throttle.share is not None
    assert throttle.share[0] == 1
    throttle.succeeded(older)  # a straggler from before the epoch that measured it: not part of that share
    assert throttle.share[0] == 1
    throttle.succeeded(measured)  # in flight when the 429 came: part of it
    assert throttle.share[0] == 2


def test_a_share_is_forgotten_after_six_of_its_windows_without_a_429() -> None:
    clock = FakeClock()
    throttle = Throttle(clock)
    throttle.admit()
    throttle.succeeded(throttle.epoch)
    throttle.throttled(9.0, throttle.epoch)
    assert throttle.share is not None
    seconds = throttle.share[1]
    clock.now += FORGET_AFTER * seconds - 0.01
    throttle.admit()
    assert throttle.share is not None
    clock.now += 0.01
    throttle.admit()
    assert throttle.share is None
    throttle.succeeded(throttle.epoch)  # the one success since it was forgotten
    throttle.throttled(9.0, throttle.epoch)
    assert throttle.share is not None
    assert throttle.share[0] == 1  # the next 429 measures anew, from nothing


@pytest.mark.parametrize(("elapsed", "wait", "measured"), [(110.0, 10.0, True), (100.0, 30.0, False)])
def test_a_share_is_measured_over_two_minutes_at_most(elapsed: float, wait: float, measured: bool) -> None:
    clock = FakeClock()
    throttle = Throttle(clock)
    throttle.admit()
    clock.now += elapsed
    throttle.throttled(wait, throttle.epoch)
    assert (throttle.share is not None) == measured


def test_a_429_long_after_the_first_send_measures_no_share() -> None:
    clock = FakeClock()
    throttle = Throttle(clock)
    throttle.admit()
    clock.now += 3600.0  # an hour's history is no quota window's measure
    throttle.throttled(5.0, throttle.epoch)
    assert throttle.share is None
    clock.now += 5.0
    throttle.admit()
    throttle.succeeded(throttle.epoch)
    throttle.throttled(10.0, throttle.epoch)  # the next one measures from the end of the pause
    assert throttle.share == (1, 10.0)


def test_a_rate_limit_spaces_the_sends_in_a_sliding_window_and_a_tenth() -> None:
    clock = FakeClock()
    throttle = Throttle(clock, rate_limit=(3, 10.0))
    for _ in range(3):  # sends at 0, 3 and 6 s
        assert admit(throttle) == (0.0, "")
        clock.now += 3.0
    assert admit(throttle) == (1.1, "rate")  # at 9: the first leaves the window (and its margin) at 10.1
    clock.now += 1.09
    assert admit(throttle) == (0.01, "rate")
    clock.now += 0.01
    assert admit(throttle) == (0.0, "")  # at 10.1: the first left; the second and third are in it
    assert admit(throttle) == (3.0, "rate")  # until the second leaves, at 13.1
    throttle.throttled(5.0, throttle.epoch)
    assert throttle.share is None  # the rate is known: no share is measured


def test_a_request_the_service_refused_no_longer_counts_against_the_rate() -> None:
    clock = FakeClock()
    throttle = Throttle(clock, rate_limit=(2, 10.0))
    assert admit(throttle) == (0.0, "")
    _, _, refused_at = throttle.admit()
    assert refused_at is not None
    assert admit(throttle)[1] == "rate"
    throttle.throttled(None, throttle.epoch, refused_at)  # a 429 without a wait: no pause
    assert admit(throttle) == (0.0, "")  # its retry takes the place it had
    assert admit(throttle)[1] == "rate"


@pytest.mark.parametrize("bad", [(0, 10.0), (10, 0), (10, -1.0), (1.5, 10.0), (True, 1.0), (10, float("inf")), 10, "x"])
def test_a_bad_rate_limit_is_a_configuration_error_that_names_it(bad: object) -> None:
    with pytest.raises(sm.ConfigurationError, match=r"rate_limit must be \(requests, seconds\)"):
        sm.SpeechToTextModels(ENDPOINT, "k", rate_limit=bad)  # type: ignore[arg-type]


def within_windows(times: list[float], requests: int, seconds: float) -> int:
    """The most of `times` in any window of `seconds` (closed at its end, open at its start)."""
    ordered = sorted(times)
    return max(sum(1 for t in ordered if start - seconds < t <= start) for start in ordered)


def sync_client(
    handler: Callable[[httpx.Request], httpx.Response], clock: FakeClock, **options: Any
) -> sm.SpeechToTextModels:
    """A client on a mock transport and the fake `clock` (its sleeps move the clock on)."""
    return sm.SpeechToTextModels(
        ENDPOINT, "k", transport=httpx.MockTransport(handler), clock=clock, sleep=clock.sleep, **options
    )


def async_client(
    handler: Callable[[httpx.Request], httpx.Response], clock: FakeClock, **options: Any
) -> sm.AsyncSpeechToTextModels:
    """The async twin of ``sync_client``."""
    return sm.AsyncSpeechToTextModels(
        ENDPOINT, "k", transport=httpx.MockTransport(handler), clock=clock, sleep=clock.asleep, **options
    )


class ThreadSafeClock(FakeClock):
    """A fake clock whose sleeps from many threads each move it on, under a lock."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds


def recording(clock: Callable[[], float], sent: list[float]) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(clock())
        return httpx.Response(200, content=PAGE)

    return handler


def test_a_rate_limit_holds_across_threads() -> None:
    clock = ThreadSafeClock()
    sent: list[float] = []
    with sync_client(recording(clock, sent), clock, rate_limit=(3, 10.0)) as client:

        def lists() -> None:
            for _ in range(5):
                list(client.list_models())

        threads = [threading.Thread(target=lists) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert len(sent) == 20
    assert within_windows(sent, 3, 10.0) == 3, str(sent)


def test_a_rate_limit_holds_across_tasks() -> None:
    clock = FakeClock()
    sent: list[float] = []

    async def main() -> None:
        async with async_client(recording(clock, sent), clock, rate_limit=(3, 10.0)) as client:

            async def lists() -> None:
                for _ in range(5):
                    [model async for model in client.list_models()]

            async with anyio.create_task_group() as group:
                for _ in range(4):
                    group.start_soon(lists)

    anyio.run(main)
    assert len(sent) == 20
    assert within_windows(sent, 3, 10.0) == 3, str(sent)


def throttling_once(clock: FakeClock, seen: list[float]) -> Callable[[httpx.Request], httpx.Response]:
    """Answers the first request 429 with ``Retry-After: 7``, every later one with an empty page; records when."""

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(clock.now)
        if len(seen) == 1:
            return httpx.Response(429, headers={"Retry-After": "7"}, json={"code": "TooManyRequests", "message": "m"})
        return httpx.Response(200, content=PAGE)

    return handler


def test_a_429_to_one_call_makes_the_clients_next_call_wait_sync() -> None:
    clock, seen = FakeClock(), list[float]()
    with sync_client(throttling_once(clock, seen), clock, retry_policy=sm.RetryPolicy(max_retries=0)) as client:
        with pytest.raises(sm.RateLimitError):
            list(client.list_models())
        assert list(client.list_models()) == []  # another call, which never met the 429 itself
    assert clock.sleeps == [7.0]
    assert seen == [1000.0, 1007.0]


def test_a_429_to_one_call_makes_the_clients_next_call_wait_async() -> None:
    clock, seen = FakeClock(), list[float]()

    async def main() -> None:
        async with async_client(
            throttling_once(clock, seen), clock, retry_policy=sm.RetryPolicy(max_retries=0)
        ) as client:
            with pytest.raises(sm.RateLimitError):
                [model async for model in client.list_models()]
            assert [model async for model in client.list_models()] == []

    anyio.run(main)
    assert clock.sleeps == [7.0]
    assert seen == [1000.0, 1007.0]


@pytest.mark.parametrize("hurry", [{"max_wait": 5}, {"deadline": 7}], ids=["past-max_wait", "ends-at-the-deadline"])
def test_a_pause_a_call_cannot_wait_out_is_sent_through_and_answered_by_the_service(
    hurry: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    """A call whose ``max_wait`` is shorter than the 7 s pause, or whose deadline the pause would spend to the end."""
    caplog.set_level(logging.DEBUG, logger="speech_models.retry")
    clock, seen = FakeClock(), list[float]()
    with sync_client(throttling_once(clock, seen), clock, retry_policy=sm.RetryPolicy(max_retries=0)) as client:
        with pytest.raises(sm.RateLimitError):
            list(client.list_models())
        hurried = client.with_options(retry_policy=sm.RetryPolicy(max_retries=0, **hurry))
        assert list(hurried.list_models()) == []
    assert clock.sleeps == []
    assert seen == [1000.0, 1000.0]
    assert "not waiting out the client's 7.000s pause after a 429: past max_wait or the deadline" in caplog.messages


def test_a_pause_as_long_as_a_calls_max_wait_is_waited_out() -> None:
    clock, seen = FakeClock(), list[float]()
    with sync_client(throttling_once(clock, seen), clock, retry_policy=sm.RetryPolicy(max_retries=0)) as client:
        with pytest.raises(sm.RateLimitError):
            list(client.list_models())
        patient = client.with_options(retry_policy=sm.RetryPolicy(max_retries=0, max_wait=7))
        assert list(patient.list_models()) == []
    assert clock.sleeps == [7.0]


@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize("wire", ["mock", "loopback"])
def test_a_sleep_that_does_not_move_the_clock_waits_out_a_pause_once(kind: str, wire: str) -> None:
    """A test's fake sleep with the real clock: the pause after a 429 is slept through once, not in a loop that
    spins until the real clock has caught up (it made millions of calls in the pause's ten seconds); on a mock
    transport and over a loopback socket."""
    waits: list[float] = []
    sent: list[httpx.Request] = []
    refusal = b'{"code": "TooManyRequests", "message": "m"}'

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        if len(sent) == 1:
            return httpx.Response(429, headers={"Retry-After": "10"}, content=refusal)
        return httpx.Response(200, content=PAGE)

    policy = sm.RetryPolicy(max_retries=0)
    with ScriptedServer([answer(429, refusal, {"Retry-After": "10"}), answer(body=page_body(0))]) as server:
        options: dict[str, Any] = {"transport": httpx.MockTransport(handler)} if wire == "mock" else {}
        endpoint = ENDPOINT if wire == "mock" else server.url
        if kind == "sync":
            with sm.SpeechToTextModels(endpoint, "k", sleep=waits.append, retry_policy=policy, **options) as client:
                with pytest.raises(sm.RateLimitError):
                    list(client.list_models())
                assert list(client.list_models()) == []
        else:

            async def asleep(seconds: float) -> None:
                waits.append(seconds)

            async def main() -> None:
                async with sm.AsyncSpeechToTextModels(
                    endpoint, "k", sleep=asleep, retry_policy=policy, **options
                ) as client:
                    with pytest.raises(sm.RateLimitError):
                        [model async for model in client.list_models()]
                    assert [model async for model in client.list_models()] == []

            anyio.run(main)
    assert len(waits) == 1
    assert waits[0] == pytest.approx(10.0, abs=0.5)


def test_a_rate_limit_that_leaves_no_send_before_the_deadline_is_a_timeout_error() -> None:
    clock, sent = FakeClock(), list[float]()
    with sync_client(
        recording(clock, sent), clock, rate_limit=(1, 60.0), retry_policy=sm.RetryPolicy(deadline=30)
    ) as client:
        list(client.list_models())
        with pytest.raises(
            sm.APITimeoutError, match=r"rate_limit \(1, 60\.0\) leaves no send before the 30s deadline"
        ) as info:
            list(client.list_models())
    assert info.value.attempts is not None
    assert info.value.attempts.gave_up == "rate_limit (1, 60.0) leaves no send before the 30s deadline"
    assert len(sent) == 1
    assert clock.sleeps == []


def test_a_wave_is_as_wide_as_the_throttle_allows() -> None:
    links = Links("https://x.test/speechtotext/models?skip=", "&top=10", 10, 10)
    plan = Plan(links, 8)
    assert len(plan.wave(links.at(0), None, lambda concurrency: concurrency)) == 8
    assert plan.wave(links.at(0), None, lambda concurrency: 3) == [links.at(k) for k in range(3)]
    assert len(plan.wave(links.at(0), 2, lambda concurrency: 3)) == 2


@pytest.mark.parametrize("concurrency", [1, 4])
def test_a_listing_under_the_emulators_quota_is_exact_and_meets_the_wall_once(concurrency: int) -> None:
    """The emulator and the client on one fake clock: 30 pages under a quota of 10 requests in 10 s."""
    clock = ThreadSafeClock()
    app = create_app(count=300, quota=(10, 10), clock=clock)
    expected = [model["displayName"] for model in build_models(300)]
    with sm.SpeechToTextModels(
        "http://127.0.0.1", "emulator-key", transport=SyncASGITransport(app), clock=clock, sleep=clock.sleep
    ) as client:
        got = [model.display_name for model in client.list_models(top=10, concurrency=concurrency)]
    assert got == expected
    journal = list(app.state.emulator.journal)
    throttled = [entry for entry in journal if entry["status"] == 429]
    assert len(journal) - len(throttled) >= 30
    if concurrency == 1:
        assert len(throttled) <= 3  # one per wall: the pause keeps a second request from meeting it


def throttling(clock: FakeClock, statuses: list[int]) -> Callable[[httpx.Request], httpx.Response]:
    """Answers with `statuses` in turn (429s with ``Retry-After: 1``), then empty pages."""

    def handler(request: httpx.Request) -> httpx.Response:
        status = statuses.pop(0) if statuses else 200
        if status == 429:
            return httpx.Response(429, headers={"Retry-After": "1"}, json={"code": "TooManyRequests", "message": "m"})
        return httpx.Response(200, content=PAGE)

    return handler


def test_the_clients_window_halves_at_each_wall_and_grows_back_as_pages_succeed() -> None:
    clock = FakeClock()
    with sync_client(throttling(clock, [429, 200, 429, 200]), clock) as client:

        def window() -> int:
            clock.now += 100.0  # past the share each 429 measures (what it caps is tested above)
            client._throttle.admit()
            return client._waves.width(8)

        assert window() == 8
        list(client.list_models())  # a 429, then its retry succeeds
        assert window() == 4  # halved, and 4.25 after the success
        list(client.list_models())  # sent after that 429: another wall, another cut
        assert window() == 2
        for _ in range(3):
            list(client.list_models())
        assert window() == 3  # grown back by one for a window's worth of pages that succeeded


def test_the_share_a_client_measures_counts_its_requests_that_succeeded() -> None:
    clock, answers = FakeClock(), [200, 200, 200, 429]

    def handler(request: httpx.Request) -> httpx.Response:
        status = answers.pop(0) if answers else 200
        if status == 429:
            return httpx.Response(429, headers={"Retry-After": "5"}, json={"code": "TooManyRequests", "message": "m"})
        return httpx.Response(200, content=PAGE)

    with sync_client(handler, clock, retry_policy=sm.RetryPolicy(max_retries=0)) as client:
        for _ in range(3):
            list(client.list_models())
        with pytest.raises(sm.RateLimitError):
            list(client.list_models())
        assert client._throttle.share is not None
        assert client._throttle.share[0] == 3


class Narrow(sm._ahead.ThreadWaves):
    """Waves that the throttle lets be two pages wide; records each wave's links."""

    def __init__(self) -> None:
        super().__init__()
        self.waves: list[int] = []

    def width(self, concurrency: int) -> int:
        return 2

    def run(self, fetch: Any, links: list[str], plan: Plan) -> list[Any]:
        self.waves.append(len(links))
        return super().run(fetch, links, plan)


def test_a_listings_waves_are_as_wide_as_the_throttle_lets_them_be() -> None:
    app = create_app(count=50)
    waves = Narrow()
    with sm.SpeechToTextModels("http://127.0.0.1", "emulator-key", transport=SyncASGITransport(app)) as client:
        listing = client.list_models(top=5, concurrency=8)
        listing._waves = waves
        assert len(list(listing)) == 50
    assert len(waves.waves) >= 5  # 50 models in pages of 5: the first alone, then waves of two
    assert set(waves.waves) == {2}


def test_a_refused_request_is_retried_without_waiting_for_the_rate_it_no_longer_spends() -> None:
    clock = FakeClock()
    refused_once = [httpx.Response(429, headers={"Retry-After": "0"}, json={"code": "TooManyRequests", "message": "m"})]

    def handler(request: httpx.Request) -> httpx.Response:
        return refused_once.pop() if refused_once else httpx.Response(200, content=PAGE)

    with sync_client(handler, clock, rate_limit=(1, 60.0)) as client:
        assert list(client.list_models()) == []
    assert clock.sleeps == [0.0]  # the retry's own wait, not a minute for the rate


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_client_waits_out_a_pause_of_less_than_a_second(kind: str) -> None:
    clock, seen = FakeClock(), list[float]()

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(clock.now)
        if len(seen) == 1:
            return httpx.Response(
                429, headers={"retry-after-ms": "400"}, json={"code": "TooManyRequests", "message": "m"}
            )
        return httpx.Response(200, content=PAGE)

    policy = sm.RetryPolicy(max_retries=0)

    async def main() -> None:
        async with async_client(handler, clock, retry_policy=policy) as client:
            with pytest.raises(sm.RateLimitError):
                [model async for model in client.list_models()]
            assert [model async for model in client.list_models()] == []

    if kind == "async":
        anyio.run(main)
    else:
        with sync_client(handler, clock, retry_policy=policy) as client:
            with pytest.raises(sm.RateLimitError):
                list(client.list_models())
            assert list(client.list_models()) == []
    assert clock.sleeps == [pytest.approx(0.4)]
    assert seen[1] == pytest.approx(seen[0] + 0.4)
