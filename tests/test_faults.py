"""Faults between the socket and the caller, each over a real loopback socket: bodies cut short, drips, stalls,
cancelled tasks, malformed pages and links that must not be followed."""

from __future__ import annotations

import asyncio
import traceback
from collections.abc import Iterator
from typing import Any

import pytest
import speech_models as sm
from speech_models_emulator import build_models, run_emulator
from speech_models_emulator.server import RunningEmulator

from tests.fakes import FakeClock
from tests.loopback import (
    ScriptedServer,
    answer,
    close_before_head,
    close_mid_body,
    drip,
    page_body,
    stall,
)
from tests.test_client import run

KINDS = pytest.mark.parametrize("kind", ["sync", "async"])


def make(kind: str, url: str, clock: FakeClock | None = None, key: str = "k", **kwargs: Any) -> Any:
    clock = clock or FakeClock()
    if kind == "sync":
        return sm.SpeechToTextModels(url, key, sleep=clock.sleep, clock=clock, **kwargs)
    return sm.AsyncSpeechToTextModels(url, key, sleep=clock.asleep, clock=clock, **kwargs)


def names(models: list[Any]) -> list[str]:
    return [m.display_name for m in models]


# --- bodies cut short, drips and stalls ---------------------------------------------------------------------


@KINDS
@pytest.mark.parametrize("sent", [0, 10, 60])
def test_a_connection_closed_in_the_middle_of_the_body_is_retried(kind: str, sent: int) -> None:
    with ScriptedServer([close_mid_body(sent=sent), answer()]) as server:
        models = run(kind, make(kind, server.url))
    assert names(models) == ["m0", "m1"]
    assert server.connections == 2


@KINDS
def test_a_connection_closed_before_the_head_is_retried(kind: str) -> None:
    with ScriptedServer([close_before_head(), answer()]) as server:
        models = run(kind, make(kind, server.url))
    assert names(models) == ["m0", "m1"]


@KINDS
def test_a_read_timeout_in_the_middle_of_the_body_is_retried(kind: str) -> None:
    # The first answer stalls after 5 bytes for longer than the attempt may take; the second is whole.
    with ScriptedServer([stall(3.0), answer()]) as server:
        models = run(kind, make(kind, server.url, timeout=0.2))
    assert names(models) == ["m0", "m1"]
    assert server.connections == 2


@KINDS
@pytest.mark.parametrize("given_to", ["client", "call"])
def test_a_drip_fails_the_attempt_when_its_total_time_is_spent(kind: str, given_to: str) -> None:
    # The fake clock moves 0.5 s at every reading; a byte arrives every 5 ms: a per-read timeout never fires,
    # the attempt's total of 2 s does, long before the 20-byte body is whole; given to the client or to the call.
    clock = FakeClock(step=0.5)
    body = b'{"values": [], "x": "' + b"y" * 200 + b'"}'
    policy = sm.RetryPolicy(max_retries=0, deadline=None)
    with ScriptedServer([drip(0.005, body=body)]) as server:
        if given_to == "client":
            api, options = make(kind, server.url, clock, timeout=2.0, retry_policy=policy), dict[str, Any]()
        else:
            api, options = make(kind, server.url, clock, retry_policy=policy), {"timeout": 2.0}
        with pytest.raises(sm.APITimeoutError) as info:
            run(kind, api, **options)
    assert "took longer than its 2s in total" in str(info.value)
    assert "1 attempt over" in str(info.value)


@KINDS
def test_an_endless_drip_fails_after_the_timeout(kind: str) -> None:
    # Real time: a byte every 50 ms for ever, timeout 0.3 s, no retries; pytest-timeout guards the test.
    policy = sm.RetryPolicy(max_retries=0)
    with ScriptedServer([drip(0.05, endless=True)]) as server:
        api: Any = sm.SpeechToTextModels(server.url, "k", timeout=0.3, retry_policy=policy)
        if kind == "async":
            api = sm.AsyncSpeechToTextModels(server.url, "k", timeout=0.3, retry_policy=policy)
        with pytest.raises(sm.APITimeoutError):
            run(kind, api)


@KINDS
def test_the_deadline_bounds_the_whole_call_attempts_included(kind: str) -> None:
    # Attempts may take 30 s each, but the call only 3 s: the drip is cut when the deadline is reached.
    clock = FakeClock(step=0.25)
    policy = sm.RetryPolicy(max_retries=5, deadline=3.0, backoff_base=0.1)
    with ScriptedServer([drip(0.005, endless=True)]) as server:
        api = make(kind, server.url, clock, timeout=30.0, retry_policy=policy)
        with pytest.raises(sm.APITimeoutError) as info:
            run(kind, api)
    attempts = info.value.attempts
    assert attempts is not None
    assert 3.0 <= attempts.seconds <= 5.0  # cut at the deadline (plus a few readings of the fake clock), not at 30 s
    assert "would pass the 3s deadline" in str(info.value)


@KINDS
def test_exhausted_retries_say_how_many_attempts_over_how_long(kind: str) -> None:
    clock = FakeClock()
    policy = sm.RetryPolicy(max_retries=2, backoff_base=1.0, backoff_max=1.0)
    with ScriptedServer([close_mid_body()]) as server:
        with pytest.raises(sm.APIConnectionError) as info:
            run(kind, make(kind, server.url, clock, retry_policy=policy))
        assert server.connections == 3
    message = str(info.value)
    assert "3 attempts over" in message
    assert "max_retries 2 reached" in message
    assert info.value.attempts is not None
    assert info.value.attempts.count == 3
    assert info.value.attempts.seconds == pytest.approx(sum(clock.sleeps))


@KINDS
def test_exhausted_retries_on_a_status_say_how_many_attempts(kind: str) -> None:
    throttled = answer(429, b'{"code": "TooManyRequests", "message": "slow down"}', {"Retry-After": "1"})
    with ScriptedServer([throttled]) as server, pytest.raises(sm.RateLimitError) as info:
        run(kind, make(kind, server.url, retry_policy=sm.RetryPolicy(max_retries=1)))
    assert "2 attempts over 1.0s, max_retries 1 reached" in str(info.value)


# --- pages that are not pages, links that must not be followed -----------------------------------------------


@KINDS
@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"values": [], "@nextLink": 5}', "'@nextLink' is a int"),
        (b'{"values": [], "@nextLink": {"href": "/speechtotext/models"}}', "'@nextLink' is a dict"),
        (b'{"values": {"a": 1}}', "'values' is a dict"),
        (b'{"values": "abc"}', "'values' is a str"),
    ],
)
def test_a_malformed_link_or_values_is_an_invalid_response_not_an_end(kind: str, body: bytes, message: str) -> None:
    with ScriptedServer([answer(body=body)]) as server, pytest.raises(sm.InvalidResponseError) as info:
        run(kind, make(kind, server.url))
    assert message in str(info.value)


@KINDS
@pytest.mark.parametrize(
    "link",
    [
        "/admin/keys",
        "../../admin/keys",
        "/speechtotext/models/../../admin",
        "/speechtotext/models/00000000",
        "/speechtotext/transcriptions?skip=2",
        "{base}/speechtotext/datasets?skip=2",
    ],
)
def test_a_next_link_off_the_list_path_is_refused_before_sending(kind: str, link: str) -> None:
    with ScriptedServer([]) as server:
        body = page_body(next_link=link.format(base=server.url))
        server._script.append(answer(body=body))
        with pytest.raises(sm.NextLinkError) as info:
            run(kind, make(kind, server.url))
        assert server.connections == 1
    assert "the list operation's" in str(info.value)


@KINDS
def test_an_empty_page_with_a_next_link_does_not_end_the_run(kind: str) -> None:
    with ScriptedServer([]) as server:
        server._script.extend(
            [
                answer(body=page_body(0, next_link=f"{server.url}/speechtotext/models?skip=0&x=1")),
                answer(body=page_body(2)),
            ]
        )
        models = run(kind, make(kind, server.url))
    assert names(models) == ["m0", "m1"]


@KINDS
def test_non_ascii_digits_in_retry_after_fall_back_to_backoff(kind: str) -> None:
    clock = FakeClock()
    throttled = answer(429, b'{"code": "TooManyRequests"}', {"Retry-After": "\u00b2"})
    with ScriptedServer([throttled, answer()]) as server:
        policy = sm.RetryPolicy(backoff_base=0.5, backoff_max=0.5)
        models = run(kind, make(kind, server.url, clock, retry_policy=policy))
    assert names(models) == ["m0", "m1"]
    assert len(clock.sleeps) == 1
    assert 0.25 <= clock.sleeps[0] <= 0.5


# --- what a new user hit -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    with run_emulator(count=250) as running:
        yield running


@KINDS
def test_max_items_bounds_pages_too(kind: str, emulator: RunningEmulator) -> None:
    pages = run(kind, make(kind, emulator.url, key=emulator.key), "pages", max_items=7, top=3)
    assert [len(page) for page in pages] == [3, 3, 1]
    assert pages[-1].continuation_token is None
    assert [m.display_name for page in pages for m in page] == [m["displayName"] for m in build_models(7)]


@KINDS
def test_every_page_has_an_int_status(kind: str, emulator: RunningEmulator) -> None:
    pages = run(kind, make(kind, emulator.url, key=emulator.key), "pages", max_items=9, top=3)
    assert [type(page.status_code) for page in pages] == [int, int, int]


@KINDS
@pytest.mark.parametrize("suffix", ["/", "/speechtotext", "/speechtotext/", "/speechtotext/models"])
def test_an_endpoint_with_the_api_path_is_normalised(kind: str, suffix: str, emulator: RunningEmulator) -> None:
    api = make(kind, emulator.url + suffix, key=emulator.key)
    assert api.endpoint == emulator.url
    assert len(run(kind, api, max_items=150, top=100)) == 150


@pytest.mark.parametrize("secret", ["hunter2", "p%40ss"])
def test_an_endpoint_with_credentials_is_refused_without_echoing_them(secret: str) -> None:
    for endpoint in (f"https://user:{secret}@example.com", f"https://{secret}@example.com/x", f"http://:{secret}@[::1"):
        with pytest.raises(sm.ConfigurationError) as info:
            sm.SpeechToTextModels(endpoint, "k")
        assert secret not in str(info.value)
        assert info.value.__cause__ is None  # httpx's error would echo the URL: it is not chained
        assert secret not in "".join(traceback.format_exception(info.value))


@KINDS
def test_a_token_that_is_not_this_clients_is_a_configuration_error(kind: str, emulator: RunningEmulator) -> None:
    api = make(kind, emulator.url, key=emulator.key)
    for token in ("garbage", "https://elsewhere.example/speechtotext/models?skip=3", "/admin?skip=3"):
        with pytest.raises(sm.ConfigurationError) as info:
            api.list_models(continuation_token=token)
        assert "is not one of this client's" in str(info.value)
    with pytest.raises(sm.ConfigurationError, match="non-empty string"):
        api.list_models(continuation_token="")
    by_page = api.list_models().by_page("garbage")

    def first() -> Any:
        return next(by_page) if kind == "sync" else asyncio.run(by_page.__anext__())

    with pytest.raises(sm.ConfigurationError, match="is not one of this client's"):
        first()


@KINDS
@pytest.mark.parametrize(
    ("argument", "value", "carried"), [("filter", "status eq 'Running'", None), ("top", 5, "3"), ("skip", 0, "3")]
)
def test_arguments_that_contradict_the_token_are_named(
    kind: str, argument: str, value: Any, carried: str | None, emulator: RunningEmulator
) -> None:
    pages = run(kind, make(kind, emulator.url, key=emulator.key), "pages", top=3, max_items=4)
    token = pages[0].continuation_token
    with pytest.raises(sm.ConfigurationError) as info:
        make(kind, emulator.url, key=emulator.key).list_models(continuation_token=token, **{argument: value})
    assert str(info.value) == (
        f"{argument}={value!r} contradicts the continuation token, which carries {argument}={carried!r}: the token "
        f"already says where to resume; drop {argument}"
    )
    # The same values as the token's are fine, and resume where the token says.
    resumed = run(kind, make(kind, emulator.url, key=emulator.key), continuation_token=token, top=3, max_items=2)
    assert names(resumed) == [m["displayName"] for m in build_models(5)[3:5]]


@pytest.mark.parametrize("max_items", [-1, 1.5, "3", True])
def test_a_bad_max_items_is_a_configuration_error(max_items: Any) -> None:
    api = sm.SpeechToTextModels("http://127.0.0.1:9", "k")
    with pytest.raises(sm.ConfigurationError, match="max_items"):
        api.list_models(max_items=max_items)


def test_parse_retry_after_reads_any_mapping_in_any_case() -> None:
    assert sm.parse_retry_after({"Retry-After": "7"}) == 7.0
    assert sm.parse_retry_after({"RETRY-AFTER-MS": "1500"}) == 1.5
    assert sm.parse_retry_after({"retry-after": "\u00b2"}) is None
    assert sm.parse_retry_after({"retry-after": "\u0663"}) is None
    assert sm.parse_retry_after({"Retry-After": "-1"}) is None
    assert sm.parse_retry_after({"Retry-After": "1e999"}) is None
