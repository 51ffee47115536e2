"""Every error class, as a real call raises it, survives pickling with its fields, in-process and through a
``ProcessPoolExecutor`` worker (whose errors reach the caller only pickled)."""

from __future__ import annotations

import json
import multiprocessing
import pickle
import socket
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import httpx
import pytest
import speech_models as sm
from speech_models_emulator import run_emulator

from tests.loopback import ScriptedServer, answer, stall

NO_RETRY = sm.RetryPolicy(max_retries=0)
FIELDS = (
    "status_code", "code", "message", "text", "request_id", "client_request_id", "retry_after", "attempts",
    "continuation_token", "link", "model", "path", "expected", "found", "detailed_codes",
)  # fmt: skip


def fault(url: str, key: str, **body: Any) -> None:
    httpx.post(f"{url}/_emulator/faults", json=body, headers={"Ocp-Apim-Subscription-Key": key}).raise_for_status()


def listing(url: str, key: str, **kwargs: Any) -> sm.SpeechToTextModels:
    return sm.SpeechToTextModels(url, key, retry_policy=NO_RETRY, sleep=lambda _s: None, **kwargs)


def bad_request(urls: dict[str, str], key: str) -> None:
    with listing(urls["emulator"], key) as api:
        list(api.list_models(filter="bogus eq"))


def authentication(urls: dict[str, str], key: str) -> None:
    with listing(urls["emulator"], "wrong-key") as api:
        list(api.list_models())


def status(code: int, **extra: Any) -> Callable[[dict[str, str], str], None]:
    def case(urls: dict[str, str], key: str) -> None:
        fault(urls["emulator"], key, status=code, **extra)
        with listing(urls["emulator"], key) as api:
            list(api.list_models())

    return case


def mid_listing(urls: dict[str, str], key: str) -> None:
    """A 503 on the second page: the error carries the token of the page it failed on."""
    with listing(urls["emulator"], key) as api:
        pages = api.list_models(top=5).by_page()
        next(pages)
        fault(urls["emulator"], key, status=503, retry_after=1)
        next(pages)


def connection(urls: dict[str, str], key: str) -> None:
    with listing(urls["closed"], key) as api:
        list(api.list_models())


def timeout(urls: dict[str, str], key: str) -> None:
    with listing(urls["stall"], key, timeout=0.2) as api:
        list(api.list_models())


def invalid(urls: dict[str, str], key: str) -> None:
    fault(urls["emulator"], key, malformed=True)
    with listing(urls["emulator"], key) as api:
        list(api.list_models())


def field_value(urls: dict[str, str], key: str) -> None:
    with listing(urls["scripted"], key) as api:
        for model in api.list_models():
            model.created_date_time  # noqa: B018 - the read raises


def next_link(urls: dict[str, str], key: str) -> None:
    with listing(urls["offsite"], key) as api:
        list(api.list_models())


def configuration(urls: dict[str, str], key: str) -> None:
    sm.SpeechToTextModels("ftp://example.invalid", key)


CASES: dict[str, tuple[Callable[[dict[str, str], str], None], type[Exception]]] = {
    "bad-request": (bad_request, sm.BadRequestError),
    "authentication": (authentication, sm.AuthenticationError),
    "permission": (status(403), sm.PermissionDeniedError),
    "not-found": (status(404), sm.NotFoundError),
    "rate-limit": (status(429, retry_after=3600), sm.RateLimitError),
    "service": (status(500), sm.ServiceError),
    "other-status": (status(418), sm.APIStatusError),
    "mid-listing": (mid_listing, sm.ServiceError),
    "connection": (connection, sm.APIConnectionError),
    "timeout": (timeout, sm.APITimeoutError),
    "invalid-response": (invalid, sm.InvalidResponseError),
    "field-value": (field_value, sm.FieldValueError),
    "next-link": (next_link, sm.NextLinkError),
    "configuration": (configuration, sm.ConfigurationError),
}


def raised(name: str, urls: dict[str, str], key: str) -> Exception:
    case, expected = CASES[name]
    with pytest.raises(expected) as info:
        case(urls, key)
    assert type(info.value) is expected
    return info.value


def in_worker(name: str, urls: dict[str, str], key: str) -> None:
    """Run in a worker process: the case's error reaches the parent only through pickle."""
    CASES[name][0](urls, key)


def fields(error: BaseException) -> dict[str, Any]:
    found = {name: getattr(error, name) for name in FIELDS if hasattr(error, name)}
    found["str"] = str(error)
    found["args"] = error.args
    return found


@pytest.fixture(scope="module")
def urls() -> Iterator[dict[str, str]]:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    bad_field = json.dumps({"values": [{"displayName": "x", "createdDateTime": 5}]}).encode()
    with (
        run_emulator(count=12) as emulator,
        ScriptedServer([answer(body=bad_field)]) as scripted,
        ScriptedServer([answer(body=json.dumps({"values": [], "@nextLink": "http://evil.example/x"}).encode())]) as off,
        ScriptedServer([stall(5)]) as stalled,
    ):
        yield {
            "emulator": emulator.url,
            "key": emulator.key,
            "closed": f"http://127.0.0.1:{closed_port}",
            "scripted": scripted.url,
            "offsite": off.url,
            "stall": stalled.url,
        }


@pytest.fixture(autouse=True)
def _no_faults_left(urls: dict[str, str]) -> Iterator[None]:
    yield
    httpx.delete(f"{urls['emulator']}/_emulator/faults", headers={"Ocp-Apim-Subscription-Key": urls["key"]})


@pytest.mark.parametrize("name", list(CASES))
def test_each_error_round_trips_through_pickle_with_its_fields(name: str, urls: dict[str, str]) -> None:
    error = raised(name, urls, urls["key"])
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert fields(copy) == fields(error)
    if isinstance(error, sm.APIStatusError):
        assert isinstance(copy, sm.APIStatusError)
        assert copy.response is not None
        assert copy.response.status_code == error.status_code
        assert copy.response.request.headers.get("Ocp-Apim-Subscription-Key") in (None, "[redacted]")


def test_the_fields_that_matter_are_set(urls: dict[str, str]) -> None:
    """The round trip above compares real values, not a row of Nones."""
    throttled = raised("rate-limit", urls, urls["key"])
    assert isinstance(throttled, sm.RateLimitError)
    assert throttled.status_code == 429
    assert throttled.retry_after == 3600
    assert throttled.client_request_id
    failed = raised("mid-listing", urls, urls["key"])
    assert isinstance(failed, sm.ServiceError)
    assert failed.continuation_token is not None
    assert failed.attempts is not None
    assert failed.attempts.count == 1
    link = raised("next-link", urls, urls["key"])
    assert isinstance(link, sm.NextLinkError)
    assert link.link == "http://evil.example/x"
    value = raised("field-value", urls, urls["key"])
    assert isinstance(value, sm.FieldValueError)
    assert (value.path, value.found) == ("values[0].createdDateTime", 5)


@pytest.fixture(scope="module")
def workers() -> Iterator[ProcessPoolExecutor]:
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        yield pool


@pytest.mark.parametrize("name", list(CASES))
def test_each_error_crosses_a_process_pool(name: str, urls: dict[str, str], workers: ProcessPoolExecutor) -> None:
    expected = CASES[name][1]
    future = workers.submit(in_worker, name, urls, urls["key"])
    with pytest.raises(expected) as info:
        future.result(timeout=60)
    assert type(info.value) is expected
    here = fields(raised(name, urls, urls["key"]))
    there = fields(info.value)
    for per_call in ("client_request_id", "request_id", "attempts", "str", "args"):
        here.pop(per_call, None), there.pop(per_call, None)
    assert there == here
