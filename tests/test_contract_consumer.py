"""Consumer side of the contract: the SDK (generated functions and overlay) against the emulator, over a real
loopback socket and in-process, sync and async."""

from __future__ import annotations

import asyncio
import http.server
import socket
import threading
from collections.abc import Iterator
from typing import Any, ClassVar

import httpx
import pytest
import speech_models as sm
from speech_models_client.api.models import models_list_custom_models
from speech_models_client.models import PaginatedCustomModels
from speech_models_emulator import Fault, build_models, create_app, run_emulator
from speech_models_emulator.inprocess import SyncASGITransport

COUNT = 120
EXPECTED = [m["displayName"] for m in build_models(COUNT)]
IN_PROCESS_ENDPOINT = "http://127.0.0.1"


class Target:
    """One way of reaching an emulator: its endpoint, key and app, and how to build sync and async SDK clients."""

    def __init__(self, mode: str, endpoint: str, key: str, app: Any) -> None:
        self.mode = mode
        self.endpoint = endpoint
        self.key = key
        self.app = app
        self.sleeps: list[float] = []

    def clock(self) -> float:
        """Time passes only in the (fake) sleeps: no test reads the wall clock."""
        return 1000.0 + sum(self.sleeps)

    @property
    def faults(self) -> Any:
        return self.app.state.emulator.faults

    def sync(self, **kwargs: Any) -> sm.SpeechToTextModels:
        if self.mode == "in-process":
            kwargs.setdefault("transport", SyncASGITransport(self.app))
        kwargs.setdefault("key", self.key)
        return sm.SpeechToTextModels(self.endpoint, sleep=self.sleeps.append, clock=self.clock, **kwargs)

    def async_(self, **kwargs: Any) -> sm.AsyncSpeechToTextModels:
        if self.mode == "in-process":
            kwargs.setdefault("transport", httpx.ASGITransport(self.app))
        kwargs.setdefault("key", self.key)

        async def sleep(seconds: float) -> None:
            self.sleeps.append(seconds)

        return sm.AsyncSpeechToTextModels(self.endpoint, sleep=sleep, clock=self.clock, **kwargs)

    def list(
        self, kind: str, what: str = "items", client_args: dict[str, Any] | None = None, **list_args: Any
    ) -> list[Any]:
        if kind == "sync":
            with self.sync(**(client_args or {})) as api:
                paged = api.list_models(**list_args)
                return list(paged.by_page()) if what == "pages" else list(paged)

        async def go() -> list[Any]:
            async with self.async_(**(client_args or {})) as api:
                paged = api.list_models(**list_args)
                if what == "pages":
                    return [page async for page in paged.by_page()]
                return [item async for item in paged]

        return asyncio.run(go())


@pytest.fixture(scope="module")
def loopback() -> Iterator[Target]:
    with run_emulator(count=COUNT) as emulator:
        yield Target("loopback", emulator.url, emulator.key, emulator.app)


@pytest.fixture(scope="module")
def in_process() -> Target:
    app = create_app(count=COUNT)
    return Target("in-process", IN_PROCESS_ENDPOINT, app.state.emulator.key.decode(), app)


@pytest.fixture(params=["loopback", "in-process"])
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    chosen: Target = request.getfixturevalue(request.param.replace("-", "_"))
    chosen.faults.clear()
    chosen.sleeps.clear()
    yield chosen
    chosen.faults.clear()


KINDS = pytest.mark.parametrize("kind", ["sync", "async"])


@KINDS
def test_items_across_pages(target: Target, kind: str) -> None:
    models = target.list(kind, top=25)
    assert [m.display_name for m in models] == EXPECTED
    assert all(isinstance(m.status, sm.Status) for m in models)


@KINDS
def test_pages_with_their_tokens(target: Target, kind: str) -> None:
    pages = target.list(kind, what="pages", top=50)
    assert [len(p) for p in pages] == [50, 50, 20]
    assert [p.retry_after for p in pages] == [0.0, 0.0, 0.0]
    assert pages[0].continuation_token.startswith(target.endpoint)
    assert pages[-1].continuation_token is None


@KINDS
def test_filter_and_max_items(target: Target, kind: str) -> None:
    running = target.list(kind, filter="status eq 'Running' and locale ne 'en-US'", top=10)
    expected = [m["displayName"] for m in build_models(COUNT) if m["status"] == "Running" and m["locale"] != "en-US"]
    assert [m.display_name for m in running] == expected
    assert len(target.list(kind, top=10, max_items=13)) == 13


@KINDS
def test_resume_from_a_page_token(target: Target, kind: str) -> None:
    first = target.list(kind, what="pages", top=40)[0]
    rest = target.list(kind, continuation_token=first.continuation_token)
    assert [m.display_name for m in rest] == EXPECTED[40:]


@KINDS
@pytest.mark.parametrize(
    ("status", "fmt", "expected_wait"),
    [(429, "seconds", 2.0), (503, "ms", 0.3), (429, "http-date", None)],
)
def test_retries_after_injected_throttling(
    target: Target, kind: str, status: int, fmt: str, expected_wait: float | None
) -> None:
    target.faults.add(Fault(status=status, retry_after=2 if fmt != "ms" else 0.3, retry_after_format=fmt), count=2)
    models = target.list(kind, top=60)
    assert len(models) == COUNT
    assert len(target.sleeps) == 2
    if expected_wait is not None:
        assert target.sleeps == [expected_wait, expected_wait]
    else:
        assert all(0 < wait <= 3.0 for wait in target.sleeps)


@KINDS
def test_throttling_beyond_the_cap_is_a_rate_limit_error_with_a_token(target: Target, kind: str) -> None:
    target.faults.add(Fault(), count=1)  # the first page passes
    target.faults.add(Fault(status=429, retry_after=600), count=1)  # the second is throttled past the cap
    with pytest.raises(sm.RateLimitError) as info:
        target.list(kind, top=60, client_args={"retry_policy": sm.RetryPolicy(max_wait=10)})
    assert info.value.retry_after == 600.0
    assert info.value.code is sm.ErrorCode.TOOMANYREQUESTS
    assert target.sleeps == []
    token = info.value.continuation_token
    assert token is not None
    assert "skip=60" in token
    rest = target.list(kind, continuation_token=token)
    assert len(rest) == COUNT - 60


@KINDS
def test_a_bad_filter_is_a_bad_request_error(target: Target, kind: str) -> None:
    with pytest.raises(sm.BadRequestError) as info:
        target.list(kind, filter="status gt 'Running'")
    error = info.value
    assert error.status_code == 400
    assert error.detailed_codes == [sm.DetailedErrorCode.UNSUPPORTEDFILTER]
    assert "createdDateTime and lastActionDateTime only" in str(error)


@KINDS
def test_a_wrong_key_is_an_authentication_error(target: Target, kind: str) -> None:
    with pytest.raises(sm.AuthenticationError) as info:
        target.list(kind, client_args={"key": "not-the-key"})
    assert info.value.status_code == 401
    assert info.value.code is sm.ErrorCode.UNAUTHORIZED
    assert "not-the-key" not in str(info.value)


@KINDS
def test_an_unsupported_api_version_is_a_bad_request_error(target: Target, kind: str) -> None:
    with pytest.raises(sm.BadRequestError, match="api-version"):
        target.list(kind, client_args={"api_version": "2023-01-01"})


@KINDS
def test_a_malformed_body_is_an_invalid_response_error(target: Target, kind: str) -> None:
    target.faults.add(Fault(malformed=True), count=4)  # the first try and the default policy's three retries
    with pytest.raises(sm.InvalidResponseError, match="not a valid page"):
        target.list(kind)


@KINDS
def test_a_malformed_body_once_is_retried_and_the_listing_is_whole(target: Target, kind: str) -> None:
    whole = [model.to_dict() for model in target.list(kind)]
    target.faults.add(Fault(malformed=True))
    assert [model.to_dict() for model in target.list(kind)] == whole
    assert len(target.sleeps) == 1  # one backoff, before the second try


def test_generated_functions_against_the_emulator(target: Target) -> None:
    with target.sync() as api:
        response = models_list_custom_models.sync_detailed(
            client=api.generated_client, top=3, filter_="locale eq 'de-DE'"
        )
    assert response.status_code == 200
    assert isinstance(response.parsed, PaginatedCustomModels)
    assert [m.locale for m in response.parsed.values] == ["de-DE"] * 3  # type: ignore[union-attr]
    assert response.headers["Retry-After"] == "0"


def test_the_pytest_plugin_fixture_serves_a_fresh_emulator(speech_emulator: Any) -> None:
    with sm.SpeechToTextModels(speech_emulator.url, speech_emulator.key) as api:
        assert len(list(api.list_models())) == 250
    assert speech_emulator.url.startswith("http://127.0.0.1:")


class _ForwardProxy(http.server.BaseHTTPRequestHandler):
    """A minimal HTTP forward proxy that records the absolute URLs it was asked for."""

    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.seen.append(self.path)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "proxy-connection")}
        with httpx.Client(trust_env=False) as upstream:
            response = upstream.get(self.path, headers=headers)
        self.send_response(response.status_code)
        for name in ("content-type", "retry-after"):
            if name in response.headers:
                self.send_header(name, response.headers[name])
        self.send_header("content-length", str(len(response.content)))
        self.end_headers()
        self.wfile.write(response.content)

    def log_message(self, format: str, *args: Any) -> None:
        return None


@KINDS
def test_the_environments_proxy_is_used(kind: str, loopback: Target, monkeypatch: pytest.MonkeyPatch) -> None:
    proxy = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _ForwardProxy)
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    loopback.sleeps.clear()
    loopback.faults.clear()
    try:
        _ForwardProxy.seen.clear()
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.server_address[1]}")
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        loopback.faults.add(Fault(status=503, retry_after=1))
        models = loopback.list(kind, top=60)
    finally:
        proxy.shutdown()
        proxy.server_close()
        thread.join()
    assert len(models) == COUNT
    assert len(_ForwardProxy.seen) == 3  # the throttled first request, its retry, and the second page
    assert all(url.startswith(loopback.endpoint) for url in _ForwardProxy.seen)
    assert loopback.sleeps == [1.0]


@KINDS
def test_no_proxy_sends_straight_to_the_endpoint(kind: str, loopback: Target, monkeypatch: pytest.MonkeyPatch) -> None:
    """NO_PROXY names the endpoint's host: the proxy the environment names (here one that refuses every
    connection) is not used."""
    dead = socket.socket()
    dead.bind(("127.0.0.1", 0))
    port = dead.getsockname()[1]
    dead.close()
    loopback.faults.clear()
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert len(loopback.list(kind, top=60)) == COUNT
    monkeypatch.delenv("NO_PROXY")
    monkeypatch.delenv("no_proxy", raising=False)
    with pytest.raises(sm.APIConnectionError):  # the same environment without NO_PROXY does use the proxy
        loopback.list(kind, top=60, client_args={"retry_policy": sm.RetryPolicy(max_retries=0)})
