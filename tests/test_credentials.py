"""Credentials' own failures and edges, over loopback: a credential that raises is a ``CredentialError`` (resumable
mid-listing), one failed fetch is shared by every caller waiting on it, ``refresh_on`` and the five-minute margin on
an injected clock, continuous access evaluation claims, and a key rotated while requests are in flight."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import speech_models as sm
from azure.core.credentials import AccessToken, AccessTokenInfo
from azure.core.exceptions import ClientAuthenticationError
from speech_models._auth import BearerTokenAuth
from speech_models_emulator import run_emulator
from speech_models_emulator.server import RunningEmulator

from tests.loopback import ScriptedServer, answer

KINDS = pytest.mark.parametrize("kind", ["sync", "async"])


class CredentialUnavailableError(ClientAuthenticationError):
    """The shape of azure-identity's error of that name (a ``ClientAuthenticationError``), without the package."""


class Flaky:
    """A token credential (sync or async) that issues trusted tokens, and fails from fetch `fail_from` on with
    `error`; counts every fetch and keeps its keyword arguments."""

    def __init__(
        self,
        emulator: RunningEmulator | None,
        error: Exception,
        fail_from: int = 1,
        lifetime: float = 3600,
        is_async: bool = False,
    ) -> None:
        self.emulator = emulator
        self.error = error
        self.fail_from = fail_from
        self.lifetime = lifetime
        self.calls = 0
        self.kwargs: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        if is_async:
            self.get_token = self._async_get_token  # type: ignore[method-assign,assignment]

    def _issue(self, kwargs: dict[str, Any]) -> AccessToken:
        with self._lock:
            self.calls += 1
            self.kwargs.append(kwargs)
            number = self.calls
        if number >= self.fail_from:
            raise self.error
        token = f"secret-token-{number}"
        if self.emulator is not None:
            self.emulator.state.tokens.add(token)
        return AccessToken(token, int(time.time() + self.lifetime))

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        time.sleep(0.05)  # a real fetch takes time: concurrent callers arrive while it runs
        return self._issue(kwargs)

    async def _async_get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        await anyio.sleep(0.05)
        return self._issue(kwargs)


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    with run_emulator(count=30, key=None) as running:
        yield running


def client(kind: str, url: str, credential: Any, **kwargs: Any) -> Any:
    cls = sm.SpeechToTextModels if kind == "sync" else sm.AsyncSpeechToTextModels
    return cls(url, credential=credential, **kwargs)


def listing(kind: str, api: Any, **list_kwargs: Any) -> list[Any]:
    if kind == "sync":
        with api:
            return list(api.list_models(**list_kwargs))

    async def go() -> list[Any]:
        async with api:
            return [m async for m in api.list_models(**list_kwargs)]

    return asyncio.run(go())


ERRORS = [
    ClientAuthenticationError("AADSTS70043: The refresh token has expired"),
    CredentialUnavailableError("DefaultAzureCredential failed to retrieve a token.\nAttempted credentials:\n ..."),
    RuntimeError("anything at all"),
]


@KINDS
@pytest.mark.parametrize("error", ERRORS, ids=lambda e: type(e).__name__)
def test_a_failing_credential_is_a_credential_error_with_the_cause(
    kind: str, error: Exception, emulator: RunningEmulator
) -> None:
    credential = Flaky(emulator, error, is_async=kind == "async")
    with pytest.raises(sm.CredentialError) as info:
        listing(kind, client(kind, emulator.url, credential))
    assert info.value.__cause__ is error
    assert isinstance(info.value, sm.SpeechModelsError)
    assert type(error).__name__ in str(info.value)
    assert "\n" not in str(info.value)


@KINDS
def test_a_credential_failing_mid_listing_resumes_at_that_page(kind: str, emulator: RunningEmulator) -> None:
    # Tokens inside the five-minute margin are fetched again for each page; the third fetch fails.
    is_async = kind == "async"
    failing = Flaky(emulator, ClientAuthenticationError("expired"), fail_from=3, lifetime=60, is_async=is_async)
    seen: list[Any] = []

    def read_all() -> None:
        if kind == "sync":
            with client(kind, emulator.url, failing) as api:
                seen.extend(api.list_models(top=10))
            return

        async def go() -> None:
            async with client(kind, emulator.url, failing) as api:
                async for model in api.list_models(top=10):
                    seen.append(model)

        asyncio.run(go())

    with pytest.raises(sm.CredentialError) as info:
        read_all()
    token = info.value.continuation_token
    assert token is not None
    assert len(seen) == 20
    working = Flaky(emulator, RuntimeError("unused"), fail_from=99, is_async=kind == "async")
    rest = listing(kind, client(kind, emulator.url, working), continuation_token=token)
    assert [m.display_name for m in seen + rest] == [
        m.display_name for m in listing(kind, client(kind, emulator.url, working))
    ]


def test_fifty_async_listings_share_one_failed_fetch(emulator: RunningEmulator) -> None:
    calls: list[dict[str, Any]] = []

    class AsyncHeldOpen:
        """Fails its fetch once all fifty listings have joined it."""

        everyone: asyncio.Event

        async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
            calls.append(kwargs)
            await asyncio.wait_for(self.everyone.wait(), 30)
            raise error

    error = ClientAuthenticationError("no login")
    credential = AsyncHeldOpen()

    async def go() -> list[Any]:
        credential.everyone = asyncio.Event()
        async with sm.AsyncSpeechToTextModels(emulator.url, credential=credential) as api:
            _count_joins(api._auth, until=50, then=credential.everyone.set)

            async def one() -> int:
                return len([m async for m in api.list_models()])

            return list(await asyncio.gather(*(one() for _ in range(50)), return_exceptions=True))

    results = asyncio.run(go())
    assert all(isinstance(result, sm.CredentialError) for result in results)
    assert all("ClientAuthenticationError: no login" in str(result) for result in results)
    assert len(calls) == 1
    assert len({id(result) for result in results}) == 50  # each caller its own error, the same cause
    assert {id(result.__cause__) for result in results if isinstance(result, BaseException)} == {id(error)}


def _count_joins(auth: object, until: int, then: Callable[[], object]) -> None:
    """Spy on the auth's one entry to a fetch: call `then` once `until` callers have asked for a token."""
    assert isinstance(auth, BearerTokenAuth)
    join = auth._join
    counted = {"n": 0}
    lock = threading.Lock()

    def counting(*args: Any, **kwargs: Any) -> Any:
        result = join(*args, **kwargs)
        with lock:
            counted["n"] += 1
            if counted["n"] == until:
                then()
        return result

    auth._join = counting  # type: ignore[method-assign]


class HeldOpen(Flaky):
    """Fails its fetch, but only once `everyone` is set: every caller has joined the fetch by then."""

    def __init__(self, error: Exception) -> None:
        super().__init__(None, error)
        self.everyone = threading.Event()

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        assert self.everyone.wait(30)
        return self._issue(kwargs)


def test_eight_threads_share_one_failed_fetch(emulator: RunningEmulator) -> None:
    credential = HeldOpen(ClientAuthenticationError("no login"))
    errors: list[BaseException] = []
    with sm.SpeechToTextModels(emulator.url, credential=credential) as api:
        _count_joins(api._auth, until=8, then=credential.everyone.set)

        def one() -> None:
            try:
                list(api.list_models())
            except sm.CredentialError as exc:
                errors.append(exc)

        threads = [threading.Thread(target=one) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert len(errors) == 8
    assert credential.calls == 1


def test_a_valid_token_is_not_fetched_again_under_the_lock(emulator: RunningEmulator) -> None:
    """Check, lock, check again: a fresh token is read without the fetch lock, so a slow fetch elsewhere does not
    hold up requests that have a token."""
    credential = Flaky(emulator, RuntimeError("unused"), fail_from=99)
    with sm.SpeechToTextModels(emulator.url, credential=credential) as api:
        list(api.list_models(top=10))
        auth = api._auth
        assert isinstance(auth, BearerTokenAuth)
        counts: list[int] = []
        worker = threading.Thread(target=lambda: counts.append(len(list(api.list_models(top=10)))))
        assert auth._lock.acquire(timeout=1)  # held, as by a fetch on another thread
        try:
            worker.start()
            worker.join(10)
            finished = not worker.is_alive()
        finally:
            auth._lock.release()
            worker.join(10)
    assert finished
    assert counts == [30]
    assert credential.calls == 1


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


class Timed:
    """Issues tokens that expire at a fixed time, through ``get_token_info`` when `info` (with ``refresh_on``)."""

    def __init__(self, emulator: RunningEmulator, expires_on: float, refresh_on: float | None = None) -> None:
        self.emulator = emulator
        self.expires_on = expires_on
        self.refresh_on = refresh_on
        self.calls = 0

    def _token(self) -> str:
        self.calls += 1
        token = f"secret-token-t{self.calls}"
        self.emulator.state.tokens.add(token)
        return token

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(self._token(), int(self.expires_on))

    def get_token_info(self, *scopes: str, options: dict[str, Any] | None = None) -> AccessTokenInfo:
        refresh = None if self.refresh_on is None else int(self.refresh_on)
        return AccessTokenInfo(self._token(), int(self.expires_on), refresh_on=refresh)


@pytest.mark.parametrize(("before_expiry", "fetches"), [(301, 1), (300, 1), (299, 2)])  # azure-core: < 300 s left
def test_the_five_minute_margin_on_the_clients_clock(
    before_expiry: float, fetches: int, emulator: RunningEmulator
) -> None:
    clock = Clock()
    credential = Timed(emulator, expires_on=clock.now + 3600)
    credential.get_token_info = None  # type: ignore[assignment,method-assign]  # get_token only
    with sm.SpeechToTextModels(emulator.url, credential=credential, now=clock) as api:
        list(api.list_models(max_items=1))
        clock.now = credential.expires_on - before_expiry
        list(api.list_models(max_items=1))
    assert credential.calls == fetches


@pytest.mark.parametrize(("after_refresh_on", "fetches"), [(-1, 1), (0, 2), (1, 2)])
def test_refresh_on_is_honoured(after_refresh_on: float, fetches: int, emulator: RunningEmulator) -> None:
    clock = Clock()
    credential = Timed(emulator, expires_on=clock.now + 86_400, refresh_on=clock.now + 600)
    with sm.SpeechToTextModels(emulator.url, credential=credential, now=clock) as api:
        list(api.list_models(max_items=1))
        clock.now = credential.refresh_on + after_refresh_on  # type: ignore[operator]
        list(api.list_models(max_items=1))
    assert credential.calls == fetches


@KINDS
def test_a_claims_challenge_is_passed_to_the_credential_once(kind: str) -> None:
    claims = '{"access_token":{"nbf":{"essential":true,"value":"1700000000"}}}'
    encoded = base64.b64encode(claims.encode()).decode().rstrip("=")
    challenge = (
        'Bearer realm="", authorization_uri="https://login.example/authorize", '
        f'error="insufficient_claims", claims="{encoded}"'
    )
    script = [answer(401, b'{"code":"Unauthorized","message":"claims"}', {"WWW-Authenticate": challenge}), answer()]
    with ScriptedServer(script) as server:
        credential = Flaky(None, RuntimeError("unused"), fail_from=99, is_async=kind == "async")
        models = listing(kind, client(kind, server.url, credential))
    assert len(models) == 2
    assert credential.kwargs == [{}, {"claims": claims}]


def test_twenty_listings_survive_a_key_rotation_in_flight() -> None:
    """The resource's key is regenerated while every listing has a request in flight; the application's key
    credential already reads the new key, so each 401 re-reads it and sends once more."""
    with run_emulator(count=30, key="old-key-123") as running:

        class Live:
            @property
            def key(self) -> str:
                current = running.state.key
                assert current is not None
                return current.decode()

        httpx.post(
            f"{running.url}/_emulator/faults", json={"latency": 0.1}, headers=running.admin_headers
        ).raise_for_status()

        async def go() -> list[int]:
            async with sm.AsyncSpeechToTextModels(running.url, credential=Live()) as api:

                async def one() -> int:
                    return len([m async for m in api.list_models(top=10)])

                def rotate() -> None:
                    running.state.key = b"new-key-456"

                asyncio.get_running_loop().call_later(0.15, rotate)
                return list(await asyncio.gather(*(one() for _ in range(20))))

        assert asyncio.run(go()) == [30] * 20
        assert running.state.key == b"new-key-456"


def test_the_command_line_says_a_missing_login_in_one_line(tmp_path: Path, emulator: RunningEmulator) -> None:
    """``--auth entra`` with no login anywhere: azure-identity's DefaultAzureCredential raises a long
    CredentialUnavailableError; a stand-in package of that name does the same without probing the network."""
    package = tmp_path / "azure" / "identity"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(
        "from azure.core.exceptions import ClientAuthenticationError\n"
        "class CredentialUnavailableError(ClientAuthenticationError):\n    pass\n"
        "class DefaultAzureCredential:\n"
        "    def get_token(self, *scopes, **kwargs):\n"
        "        lines = ['DefaultAzureCredential failed to retrieve a token from the included credentials.']\n"
        "        lines += [f'- Credential {n}: unavailable.' for n in range(60)]\n"
        "        raise CredentialUnavailableError(message='\\n'.join(lines))\n",
        encoding="utf-8",
    )
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AZURE_SPEECH_")}
    environment["AZURE_SPEECH_ENDPOINT"] = emulator.url
    environment["PYTHONPATH"] = os.pathsep.join([str(tmp_path), *sys.path])
    command = [sys.executable, "-m", "speech_models", "models", "list", "--auth", "entra"]
    result = subprocess.run(command, capture_output=True, text=True, env=environment, timeout=60, check=False)
    assert result.returncode == 3
    assert result.stdout in ("", "[]\n", "[\n]\n")
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "CredentialError" in lines[0]
    assert "DefaultAzureCredential failed to retrieve a token" in lines[0]
    json.dumps(lines)  # plain text, no traceback


def test_a_401_after_another_request_refreshed_uses_that_token() -> None:
    """Two requests sent with the same token both get a 401: the first refreshes it, the second sends the token the
    first fetched instead of fetching a third."""
    credential = Flaky(None, RuntimeError("unused"), fail_from=99)
    auth = BearerTokenAuth(credential)
    first, second = httpx.Request("GET", "https://x/a"), httpx.Request("GET", "https://x/b")
    flow_a, flow_b = auth.sync_auth_flow(first), auth.sync_auth_flow(second)
    sent_a, sent_b = next(flow_a), next(flow_b)
    assert sent_a.headers["Authorization"] == sent_b.headers["Authorization"] == "Bearer secret-token-1"
    retry_a = flow_a.send(httpx.Response(401, request=first))
    assert retry_a.headers["Authorization"] == "Bearer secret-token-2"
    retry_b = flow_b.send(httpx.Response(401, request=second))
    assert retry_b.headers["Authorization"] == "Bearer secret-token-2"
    assert credential.calls == 2


class Returns:
    """A credential that returns what it is given as its token."""

    def __init__(self, token: object) -> None:
        self.token = token

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        return type("Access", (), {"token": self.token, "expires_on": int(time.time()) + 3600})()


@pytest.mark.parametrize("token", ["", "two words", "caf\u00e9", None, 42, "tab\there"])
def test_a_malformed_token_is_a_credential_error_naming_the_credential(token: object) -> None:
    with ScriptedServer([answer()]) as server:
        with pytest.raises(sm.CredentialError, match="the credential Returns returned an empty or malformed token"):
            listing("sync", client("sync", server.url, Returns(token)))
        assert server.requests == []  # nothing was sent


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (
            "DefaultAzureCredential failed to retrieve a token.\nAttempted: EnvironmentCredential",
            "CredentialUnavailableError: DefaultAzureCredential failed to retrieve a token.",
        ),
        ("x" * 400, "CredentialUnavailableError: " + "x" * 300),
        (" \n", "CredentialUnavailableError"),
    ],
    ids=["first-line", "cut-at-300", "no-text"],
)
def test_a_failure_message_keeps_the_first_line_of_the_credentials_own(text: str, says: str) -> None:
    with ScriptedServer([answer()]) as server, pytest.raises(sm.CredentialError) as info:
        listing("sync", client("sync", server.url, Flaky(None, CredentialUnavailableError(text))))
    assert str(info.value) == f"the credential Flaky could not provide a token: {says}"


def test_a_credential_that_returns_an_awaitable_to_the_sync_client_is_a_configuration_error() -> None:
    async def fetch() -> AccessToken:
        return AccessToken("t", int(time.time()) + 3600)

    class Sneaky:  # not a coroutine function, so the constructor cannot tell
        def get_token(self, *scopes: str, **kwargs: Any) -> Any:
            return fetch()

    with (
        ScriptedServer([answer()]) as server,
        pytest.raises(sm.ConfigurationError, match="needs AsyncSpeechToTextModels"),
    ):
        listing("sync", client("sync", server.url, Sneaky()))


def test_a_fetch_cancelled_midway_hands_over_to_a_waiting_caller() -> None:
    """The task fetching the token is cancelled while another waits for that fetch: the waiter fetches itself."""
    calls: list[str] = []
    release = asyncio.Event()

    class Slow:
        async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
            calls.append("fetch")
            if len(calls) == 1:
                await release.wait()  # the first fetch hangs until its task is cancelled
            return AccessToken(f"secret-token-{len(calls)}", int(time.time()) + 3600)

    auth = BearerTokenAuth(Slow())

    async def go() -> str:
        first = asyncio.create_task(auth._async_token())
        await asyncio.sleep(0)
        second = asyncio.create_task(auth._async_token())
        await asyncio.sleep(0)
        first.cancel()
        token = await asyncio.wait_for(second, 5)
        with pytest.raises(asyncio.CancelledError):
            await first
        return token.value

    assert asyncio.run(go()) == "secret-token-2"
    assert calls == ["fetch", "fetch"]
