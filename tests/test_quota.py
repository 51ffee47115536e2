"""The emulator's quota (the service's 100 requests per 10 s per resource): a sliding window on an injected clock,
shared by every key, answered with the service's 429; its admin route and command-line options; ``--latency``; and
an ``apim-request-id`` on every answer, recorded in the journal."""

from __future__ import annotations

import io
from collections.abc import Iterator

import httpx
import pytest
import speech_models as sm
from speech_models._cli import main as cli_main
from speech_models_emulator import build_models, create_app, run_emulator
from speech_models_emulator.__main__ import main as emulator_main
from speech_models_emulator.inprocess import SyncASGITransport
from speech_models_emulator.quota import Quota, parse_quota
from starlette.applications import Starlette

from tests.fakes import FakeClock
from tests.served import serving

LIST = "/speechtotext/models?api-version=2025-10-15&top=5"
KEYS = ("quota-key-one", "quota-key-two")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app(clock: FakeClock) -> Starlette:
    return create_app(count=30, key=list(KEYS), quota=(3, 10), clock=clock)


@pytest.fixture
def http(app: Starlette) -> Iterator[httpx.Client]:
    with httpx.Client(transport=SyncASGITransport(app), base_url="http://127.0.0.1") as client:
        yield client


def get(http: httpx.Client, key: str = KEYS[0]) -> httpx.Response:
    return http.get(LIST, headers={"Ocp-Apim-Subscription-Key": key})


def test_past_the_quota_a_429_with_the_services_error_and_whole_seconds(http: httpx.Client, clock: FakeClock) -> None:
    for _ in range(3):
        assert get(http).status_code == 200
        clock.now += 2.5  # sends at 0, 2.5 and 5.0 seconds
    refused = get(http)  # at 7.5: the first leaves the window at 10
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "3"  # 2.5 s, rounded up: waiting that long always finds room
    assert refused.json() == {"code": "TooManyRequests", "message": "Rate limit is exceeded. Try again in 3 seconds."}
    clock.now += 2.4
    assert get(http).status_code == 429  # 9.9: still full
    clock.now += 0.1
    assert get(http).status_code == 200  # 10.0: the first left (refused requests did not count)
    assert get(http).status_code == 429


def test_every_key_spends_the_same_quota(http: httpx.Client) -> None:
    assert [get(http, key).status_code for key in (KEYS[0], KEYS[1], KEYS[0], KEYS[1])] == [200, 200, 200, 429]


def test_the_journal_records_the_429s_as_quota_with_their_request_ids(http: httpx.Client, app: Starlette) -> None:
    answers = [get(http) for _ in range(4)]
    journal = app.state.emulator.journal
    assert [(entry["status"], entry["fault"]) for entry in journal] == [(200, None)] * 3 + [(429, "quota")]
    assert [entry["request_id"] for entry in journal] == [answer.headers["apim-request-id"] for answer in answers]


def test_every_answer_carries_its_own_request_id(http: httpx.Client) -> None:
    answers = [
        get(http),
        get(http, "not-a-key"),  # 401
        http.get("/speechtotext/models/"),  # 404
        http.get("/_emulator/health"),
        get(http),
        get(http),  # past the quota: 429
    ]
    assert [answer.status_code for answer in answers] == [200, 401, 404, 200, 200, 429]
    ids = [answer.headers["apim-request-id"] for answer in answers]
    assert len(set(ids)) == len(ids)


def test_the_sdk_reads_the_request_id_on_pages_and_errors(app: Starlette) -> None:
    with sm.SpeechToTextModels(
        "http://127.0.0.1", KEYS[0], transport=SyncASGITransport(app), retry_policy=sm.RetryPolicy(max_retries=0)
    ) as client:
        pages = client.list_models(top=5).by_page()
        first = next(pages)
        assert first.request_id == app.state.emulator.journal[-1]["request_id"]
        next(pages), next(pages)
        with pytest.raises(sm.RateLimitError) as raised:
            next(pages)
    assert raised.value.request_id == app.state.emulator.journal[-1]["request_id"]
    assert raised.value.retry_after == 10


def test_the_admin_route_sets_reads_and_removes_the_quota(http: httpx.Client, app: Starlette) -> None:
    admin = {"Ocp-Apim-Subscription-Key": KEYS[1]}
    assert http.get("/_emulator/quota", headers=admin).json() == {"requests": 3, "seconds": 10.0}
    changed = http.post("/_emulator/quota", headers=admin, json={"requests": 1, "seconds": 60})
    assert changed.json() == {"requests": 1, "seconds": 60.0}
    assert [get(http).status_code for _ in range(2)] == [200, 429]
    assert http.delete("/_emulator/quota", headers=admin).status_code == 204
    assert all(get(http).status_code == 200 for _ in range(5))
    assert http.post("/_emulator/reset", headers=admin).status_code == 204  # back to the quota it was made with
    assert [get(http).status_code for _ in range(4)] == [200, 200, 200, 429]


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"requests": 0, "seconds": 10}, "requests must be an integer from 1"),
        ({"requests": True, "seconds": 10}, "requests must be an integer"),
        ({"requests": 5, "seconds": 0}, "seconds must be a number over 0"),
        ({"requests": 5, "seconds": "10"}, "seconds must be a number"),
        ({"requests": 5}, '{"requests": N, "seconds": S}'),
        ({"requests": 5, "seconds": 1, "burst": 2}, '{"requests": N, "seconds": S}'),
        ([5, 10], '{"requests": N, "seconds": S}'),
    ],
)
def test_a_bad_quota_is_a_400_that_names_it_and_changes_nothing(http: httpx.Client, body: object, named: str) -> None:
    answer = http.post("/_emulator/quota", headers={"Ocp-Apim-Subscription-Key": KEYS[0]}, json=body)
    assert answer.status_code == 400
    assert named in answer.json()["message"]
    assert http.get("/_emulator/quota", headers={"Ocp-Apim-Subscription-Key": KEYS[0]}).json()["requests"] == 3


def test_the_quota_is_off_by_default() -> None:
    quota = Quota()
    assert quota.limit is None
    assert all(quota.take() is None for _ in range(1000))


@pytest.mark.parametrize(("text", "quota"), [("100/10", (100, 10.0)), (" 5 / 0.5 ", (5, 0.5)), ("600/60", (600, 60.0))])
def test_a_quota_on_the_command_line(text: str, quota: tuple[int, float]) -> None:
    assert parse_quota(text) == quota


@pytest.mark.parametrize("text", ["100", "100/", "/10", "ten/10", "0/10", "100/0", "100/-1", "100/nan", "1.5/10"])
def test_a_bad_quota_on_the_command_line_is_named(text: str) -> None:
    with pytest.raises(ValueError, match="a quota is REQUESTS/SECONDS, such as 100/10"):
        parse_quota(text)


@pytest.mark.parametrize(
    ("option", "named"),
    [(["--quota", "100"], "a quota is REQUESTS/SECONDS"), (["--latency", "-1"], "latency is a number of seconds")],
)
def test_bad_options_are_usage_errors(option: list[str], named: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        emulator_main(["--port", "0", *option])
    assert exited.value.code == 2
    assert named in capsys.readouterr().err


def test_latency_is_added_before_every_answer_and_reset_keeps_it() -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    app = create_app(count=3, latency=0.25, sleep=sleep)
    with httpx.Client(transport=SyncASGITransport(app), base_url="http://127.0.0.1") as http:
        key = {"Ocp-Apim-Subscription-Key": "emulator-key"}
        http.get(LIST, headers=key)
        http.post("/_emulator/faults", headers=key, json={"latency": 0.5})
        http.get(LIST, headers=key)
        http.post("/_emulator/reset", headers=key)
        http.get(LIST, headers=key)
    assert waits == [0.25, 0.5, 0.25]


def test_both_command_lines_take_the_same_options() -> None:
    """``speech-models emulator`` is the emulator's own parser: two keys, a quota and a latency."""
    options = ("--port", "0", "--count", "12", "--key", "k-one", "--key", "k-two", "--quota", "2/60")
    for command in (("speech_models_emulator", *options), ("speech_models", "emulator", *options, "--latency", "0")):
        with serving(*command) as (url, started):
            assert "quota 2 requests / 60 s" in started
            statuses = [
                httpx.get(f"{url}{LIST}", headers={"Ocp-Apim-Subscription-Key": key}).status_code
                for key in ("k-one", "k-two", "k-one")
            ]
            assert statuses == [200, 200, 429]


@pytest.mark.parametrize("rate_limit", [[], ["--rate-limit", "3/0.6"]])
def test_the_command_lines_rate_limit_keeps_a_listing_under_the_quota(rate_limit: list[str]) -> None:
    """Four requests against a quota of three in half a second: one meets the wall (and is retried after its
    Retry-After), or none when the command line is told a slightly tighter rate."""
    with run_emulator(count=20, quota=(3, 0.5)) as emulator:
        out, err = io.StringIO(), io.StringIO()
        argv = ["models", "list", "-o", "jsonl", "--quiet", "--top", "5", "--endpoint", emulator.url]
        code = cli_main([*argv, "--key", emulator.key, *rate_limit], out=out, err=err)
        assert (code, err.getvalue()) == (0, "")
        assert len(out.getvalue().splitlines()) == 20
        statuses = [entry["status"] for entry in emulator.requests]
    assert statuses.count(429) == (0 if rate_limit else 1)
    assert statuses.count(200) == 4


@pytest.mark.parametrize("value", ["100", "0/10", "10/0", "x/y", "10/inf"])
def test_a_bad_rate_limit_on_the_command_line_is_a_usage_error(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli_main(["models", "list", "--rate-limit", value])
    assert exited.value.code == 2
    assert "--rate-limit is REQUESTS/SECONDS, such as 100/10" in capsys.readouterr().err


@pytest.mark.parametrize("concurrency", [1, 4])
def test_a_listing_stopped_by_the_quota_resumes_to_each_model_once_over_a_socket(concurrency: int) -> None:
    """Over a real socket: the quota refuses the fourth request with a wait past max_wait, the listing raises
    RateLimitError with its continuation token, and once the window has room the resumed listing gives every model
    once, in order, after the ones already handed back."""
    with run_emulator(count=50, quota=(3, 60)) as emulator:
        policy = sm.RetryPolicy(max_wait=1)
        with sm.SpeechToTextModels(emulator.url, emulator.key, retry_policy=policy) as client:
            got: list[str] = []

            def take(listing: Iterator[sm.CustomModel]) -> None:
                got.extend(str(model.display_name) for model in listing)

            with pytest.raises(sm.RateLimitError) as raised:
                take(iter(client.list_models(top=5, concurrency=concurrency)))
            assert raised.value.continuation_token is not None
            emulator.state.quota.set(None)  # the window has room again
            resumed = client.with_options(retry_policy=sm.RetryPolicy(max_wait=0))
            take(iter(resumed.list_models(continuation_token=raised.value.continuation_token)))
        assert got == [model["displayName"] for model in build_models(50)]
