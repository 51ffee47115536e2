"""How a token is fetched and shared: a claims challenge never joins a fetch made without its claims (through
``get_token`` or ``get_token_info``), whatever a credential returns or raises becomes a ``CredentialError`` with its
cause (interrupts pass through untouched), and a credential that hangs is bounded by the call's deadline, its late
token kept for the next caller. Driven with events, never with sleeps."""

from __future__ import annotations

import asyncio
import base64
import threading
import time
from typing import Any

import httpx
import pytest
import speech_models as sm
from azure.core.credentials import AccessToken, AccessTokenInfo
from speech_models._auth import BearerTokenAuth

from tests.loopback import ScriptedServer, answer, page_body

KINDS = pytest.mark.parametrize("kind", ["sync", "async"])
CLAIMS = '{"access_token":{"nbf":{"essential":true,"value":"1700000000"}}}'
CHALLENGE = (
    f'Bearer realm="", error="insufficient_claims", claims="{base64.b64encode(CLAIMS.encode()).decode().rstrip("=")}"'
)


class Gated:
    """Issues ``t1``, ``t2``... (``claims-t3`` with claims); a fetch without claims waits at `gate` while it is
    closed, telling `entered` that it is there."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()
        self.calls: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def _next(self, claims: str | None) -> str:
        with self._lock:
            self.calls.append({"claims": claims})
            return f"{'claims-' if claims else ''}t{len(self.calls)}"

    def get_token(self, *scopes: str, claims: str | None = None, **kwargs: Any) -> AccessToken:
        if claims is None and not self.gate.is_set():
            self.entered.set()
            assert self.gate.wait(10)
        return AccessToken(self._next(claims), int(time.time()) + 3600)


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def test_a_claims_challenge_never_joins_a_refresh_without_claims() -> None:
    """B's 401 carries claims while A refreshes without them: B fetches with its claims at once, instead of
    waiting for A's token, which the service would refuse again."""
    credential, clock = Gated(), Clock()
    auth = BearerTokenAuth(credential, clock=clock)
    request_b = httpx.Request("GET", "https://x/b")
    flow_b = auth.sync_auth_flow(request_b)
    assert next(flow_b).headers["Authorization"] == "Bearer t1"
    clock.now += 3600  # t1 is due for a refresh
    credential.gate.clear()
    refresh_a = threading.Thread(target=lambda: next(auth.sync_auth_flow(httpx.Request("GET", "https://x/a"))))
    refresh_a.start()
    assert credential.entered.wait(10)  # A's fetch is under way, held at the gate
    retried: list[httpx.Request] = []
    challenged = threading.Thread(
        target=lambda: retried.append(
            flow_b.send(httpx.Response(401, headers={"WWW-Authenticate": CHALLENGE}, request=request_b))
        )
    )
    challenged.start()
    challenged.join(5)
    joined_a = challenged.is_alive()  # still waiting: it joined A's fetch
    credential.gate.set()
    challenged.join(10)
    refresh_a.join(10)
    assert not joined_a
    assert retried[0].headers["Authorization"].startswith("Bearer claims-t")
    assert {"claims": CLAIMS} in credential.calls


class InfoCredential:
    """The azure-identity >= 1.17 shape: ``get_token_info`` with ``options``; records them."""

    def __init__(self, is_async: bool) -> None:
        self.options: list[Any] = []
        if is_async:
            self.get_token_info = self._async_info  # type: ignore[method-assign,assignment]

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        raise AssertionError("get_token_info is preferred")

    def get_token_info(self, *scopes: str, options: dict[str, Any] | None = None) -> AccessTokenInfo:
        self.options.append(options)
        return AccessTokenInfo(f"t{len(self.options)}", int(time.time()) + 3600)

    async def _async_info(self, *scopes: str, options: dict[str, Any] | None = None) -> AccessTokenInfo:
        return InfoCredential.get_token_info(self, *scopes, options=options)


def _list(kind: str, url: str, credential: Any, **kwargs: Any) -> list[Any]:
    if kind == "sync":
        with sm.SpeechToTextModels(url, credential=credential, **kwargs) as api:
            return list(api.list_models())

    async def go() -> list[Any]:
        async with sm.AsyncSpeechToTextModels(url, credential=credential, **kwargs) as api:
            return [model async for model in api.list_models()]

    return asyncio.run(go())


@KINDS
def test_claims_reach_get_token_info_in_its_options(kind: str) -> None:
    script = [answer(401, b'{"code":"Unauthorized","message":"claims"}', {"WWW-Authenticate": CHALLENGE}), answer()]
    credential = InfoCredential(is_async=kind == "async")
    with ScriptedServer(script) as server:
        assert len(_list(kind, server.url, credential)) == 2
        assert [request.split("\r\n")[0] for request in server.requests][-1].startswith("GET")
    assert credential.options == [None, {"claims": CLAIMS}]


class Returns:
    """A credential (sync or async) whose ``get_token`` returns `access`, counting its calls."""

    def __init__(self, access: Any, is_async: bool = False) -> None:
        self.access = access
        self.calls = 0
        if is_async:
            self.get_token = self._async_get_token  # type: ignore[method-assign]

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        self.calls += 1
        return self.access

    async def _async_get_token(self, *scopes: str, **kwargs: Any) -> Any:
        self.calls += 1
        return self.access


def _access(**fields: Any) -> Any:
    return type("Access", (), fields)()


SOON = int(time.time()) + 3600


@KINDS
@pytest.mark.parametrize(
    ("access", "says"),
    [
        (None, "empty or malformed token"),
        (_access(token="t", expires_on="tomorrow"), "expires_on is not a number"),
        (_access(token="t", expires_on=None), "expires_on is not a number"),
        (_access(token="t"), "expires_on is not a number"),
        (_access(token="t", expires_on=float("nan")), "expires_on is not a number"),
        (_access(token=None, expires_on=SOON), "empty or malformed token"),
    ],
    ids=["none", "string-expiry", "none-expiry", "no-expiry", "nan-expiry", "none-token"],
)
def test_what_is_not_a_token_is_a_credential_error_after_one_call(kind: str, access: Any, says: str) -> None:
    credential = Returns(access, is_async=kind == "async")
    with ScriptedServer([answer()]) as server:
        with pytest.raises(sm.CredentialError, match=says):
            _list(kind, server.url, credential)
        assert server.requests == []
    assert credential.calls == 1


class Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no text for you")


class Raises:
    def __init__(self, error: BaseException, is_async: bool = False) -> None:
        self.error = error
        if is_async:
            self.get_token = self._async_get_token  # type: ignore[method-assign,assignment]

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        raise self.error

    async def _async_get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        raise self.error


@KINDS
def test_an_error_whose_text_cannot_be_read_is_a_credential_error_with_its_cause(kind: str) -> None:
    error = Unprintable()
    with ScriptedServer([answer()]) as server, pytest.raises(sm.CredentialError, match="Unprintable") as info:
        _list(kind, server.url, Raises(error, is_async=kind == "async"))
    assert info.value.__cause__ is error


@KINDS
@pytest.mark.parametrize("interrupt", [KeyboardInterrupt, SystemExit], ids=lambda e: e.__name__)
def test_an_interrupt_from_the_credential_passes_through_untouched(kind: str, interrupt: type[BaseException]) -> None:
    error = interrupt()
    with ScriptedServer([answer()]) as server, pytest.raises(interrupt) as info:
        _list(kind, server.url, Raises(error, is_async=kind == "async"))
    assert info.value is error


class Hangs:
    """Issues a token valid for an hour on `clock` at once the first time; the second fetch hangs until `release`
    (a sync credential)."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.release = threading.Event()
        self.calls = 0

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.calls += 1
        if self.calls == 2:
            assert self.release.wait(30)
        return AccessToken(f"t{self.calls}", int(self.clock.now) + 3600)


@KINDS
def test_a_hanging_credential_is_bounded_by_the_deadline_and_its_late_token_kept(kind: str) -> None:
    """Page 1 with t1; t1 is then due for a refresh that hangs: page 2 fails at the call's deadline with a token
    that resumes there; the hung fetch's token, once it comes, serves the resumed listing without another fetch."""
    clock = Clock()
    credential = Hangs(clock)
    policy = sm.RetryPolicy(deadline=0.3)
    link = "/speechtotext/models?skip=2"
    script = [answer(body=page_body(2, link, 0)), answer(body=page_body(2, None, 2))]
    with ScriptedServer(script) as server:
        if kind == "sync":
            with sm.SpeechToTextModels(server.url, credential=credential, retry_policy=policy, now=clock) as api:
                pages = api.list_models().by_page()
                next(pages)
                clock.now += 3600
                with pytest.raises(sm.CredentialError, match=r"within the call's 0\.3s deadline") as info:
                    next(pages)
                credential.release.set()
                token = info.value.continuation_token
                assert token is not None
                for _ in range(100):  # the abandoned fetch lands on its own thread
                    if auth_has_token(api, "t2"):
                        break
                    threading.Event().wait(0.05)
                rest = list(api.list_models(continuation_token=token))
        else:

            async def go() -> tuple[str | None, list[Any]]:
                async with sm.AsyncSpeechToTextModels(
                    server.url, credential=credential, retry_policy=policy, now=clock
                ) as api:
                    pages = api.list_models().by_page()
                    await pages.__anext__()
                    clock.now += 3600
                    with pytest.raises(sm.CredentialError, match=r"within the call's 0\.3s deadline") as info:
                        await pages.__anext__()
                    credential.release.set()
                    for _ in range(100):
                        if auth_has_token(api, "t2"):
                            break
                        await asyncio.sleep(0.05)
                    token = info.value.continuation_token
                    return token, [m async for m in api.list_models(continuation_token=token)]

            token, rest = asyncio.run(go())
        assert token is not None
        assert token.endswith("skip=2") or "skip=2" in token
        assert [m.display_name for m in rest] == ["m2", "m3"]
        assert "Bearer t2" in server.requests[-1]
    assert credential.calls == 2


def auth_has_token(api: Any, value: str) -> bool:
    auth = api._auth
    assert isinstance(auth, BearerTokenAuth)
    return auth._token is not None and auth._token.value == value


def test_an_async_credential_that_hangs_is_cancelled_at_the_deadline() -> None:
    release = asyncio.Event()
    calls: list[int] = []

    class AsyncHangs:
        async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
            calls.append(1)
            if len(calls) == 1:
                await release.wait()
            return AccessToken(f"t{len(calls)}", int(time.time()) + 3600)

    auth = BearerTokenAuth(AsyncHangs())

    async def go() -> str:
        with pytest.raises(sm.CredentialError, match=r"within the call's 0\.2s deadline"):
            await auth._async_token(wait=0.2)
        return (await auth._async_token(wait=5)).value

    assert asyncio.run(go()) == "t2"
    assert calls == [1, 1]


@KINDS
def test_a_claims_challenge_fetches_anew_even_after_another_refresh_landed(kind: str) -> None:
    """A refreshed A's token without claims while B's request was in flight: B's claims challenge still fetches a
    token with its claims, instead of sending A's."""
    credential, clock = Gated(), Clock()
    auth = BearerTokenAuth(credential, clock=clock)
    request_a, request_b = httpx.Request("GET", "https://x/a"), httpx.Request("GET", "https://x/b")
    challenge = httpx.Response(401, headers={"WWW-Authenticate": CHALLENGE}, request=request_b)

    async def sent() -> list[str]:
        """The Authorization of B's request, A's, and B's again after the challenge (B's is one request object)."""
        if kind == "sync":
            flow_b: Any = auth.sync_auth_flow(request_b)
            first = next(flow_b).headers["Authorization"]
            clock.now += 3600
            second = next(auth.sync_auth_flow(request_a)).headers["Authorization"]
            return [first, second, flow_b.send(challenge).headers["Authorization"]]
        flow_b = auth.async_auth_flow(request_b)
        first = (await flow_b.__anext__()).headers["Authorization"]
        clock.now += 3600
        second = (await auth.async_auth_flow(request_a).__anext__()).headers["Authorization"]
        return [first, second, (await flow_b.asend(challenge)).headers["Authorization"]]

    assert asyncio.run(sent()) == ["Bearer t1", "Bearer t2", "Bearer claims-t3"]
    assert credential.calls[-1] == {"claims": CLAIMS}


@KINDS
def test_the_fetch_after_a_401_is_bounded_by_the_deadline_too(kind: str) -> None:
    """The first token is refused; the fetch of a new one hangs: the caller gets a CredentialError at the call's
    deadline, not a wait as long as the credential's."""
    clock = Clock()
    credential = Hangs(clock)
    policy = sm.RetryPolicy(deadline=0.3)
    script = [answer(401, b'{"code":"Unauthorized","message":"expired"}'), answer()]
    with ScriptedServer(script) as server:
        try:
            with pytest.raises(sm.CredentialError, match=r"within the call's 0\.3s deadline"):
                _list(kind, server.url, credential, retry_policy=policy, now=clock)
        finally:
            credential.release.set()


class Scoped:
    """Records the scopes ``get_token`` is asked for."""

    def __init__(self) -> None:
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.scopes.append(scopes)
        return AccessToken(f"t{len(self.scopes)}", int(time.time()) + 3600)


class ScopedInfo(Scoped):
    """Records the scopes ``get_token_info`` is asked for (preferred to ``get_token``)."""

    def get_token_info(self, *scopes: str, options: dict[str, Any] | None = None) -> AccessTokenInfo:
        self.scopes.append(scopes)
        return AccessTokenInfo(f"t{len(self.scopes)}", int(time.time()) + 3600)


@pytest.mark.parametrize("info", [False, True], ids=["get_token", "get_token_info"])
def test_every_fetch_asks_for_the_cognitive_services_scope(info: bool) -> None:
    """The first token and the one after a claims challenge alike."""
    script = [answer(401, b'{"code":"Unauthorized","message":"claims"}', {"WWW-Authenticate": CHALLENGE}), answer()]
    credential = ScopedInfo() if info else Scoped()
    with ScriptedServer(script) as server:
        assert len(_list("sync", server.url, credential)) == 2
    assert credential.scopes == [("https://cognitiveservices.azure.com/.default",)] * 2


def test_a_listings_own_deadline_bounds_its_token_wait() -> None:
    """The client's deadline is two minutes; the listing's own policy (with_options) says 0.3 s, and rules."""
    clock = Clock()
    credential = Hangs(clock)
    script = [answer(body=page_body(2, "/speechtotext/models?skip=2", 0)), answer(body=page_body(2, None, 2))]
    with ScriptedServer(script) as server:
        try:
            with sm.SpeechToTextModels(server.url, credential=credential, now=clock) as client:
                quick = client.with_options(retry_policy=sm.RetryPolicy(deadline=0.3))
                pages = quick.list_models().by_page()
                next(pages)
                clock.now += 3600
                with pytest.raises(sm.CredentialError, match=r"within the call's 0\.3s deadline"):
                    next(pages)
        finally:
            credential.release.set()


class RefreshesOn:
    """``get_token_info`` with a fixed ``refresh_on``; counts its calls."""

    def __init__(self, refresh_on: float) -> None:
        self.refresh_on = refresh_on
        self.calls = 0

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        raise AssertionError("get_token_info is preferred")

    def get_token_info(self, *scopes: str, options: dict[str, Any] | None = None) -> AccessTokenInfo:
        self.calls += 1
        return AccessTokenInfo(f"t{self.calls}", int(time.time()) + 3600, refresh_on=self.refresh_on)  # type: ignore[arg-type]


@pytest.mark.parametrize(("refresh_on", "fetches"), [(0, 1), (0.5, 2), (1, 2)])
def test_a_refresh_on_of_zero_is_no_refresh_on_and_any_later_time_is_one(refresh_on: float, fetches: int) -> None:
    """``refresh_on`` 0 is "not set" (the five-minute margin decides); a time long past refreshes at every use."""
    credential = RefreshesOn(refresh_on)
    auth = BearerTokenAuth(credential)
    for _ in range(2):
        next(auth.sync_auth_flow(httpx.Request("GET", "https://x/")))
    assert credential.calls == fetches


def test_a_token_wait_past_the_deadline_names_the_credential() -> None:
    credential = Gated()
    credential.gate.clear()
    auth = BearerTokenAuth(credential)
    try:
        with pytest.raises(sm.CredentialError) as info:
            auth._sync_token(wait=0.05)
    finally:
        credential.gate.set()
    assert str(info.value) == "the credential Gated gave no token within the call's 0.05s deadline"


def test_a_second_claims_challenge_with_the_same_claims_fetches_again() -> None:
    """The token fetched with the claims was refused too: the next challenge asks the credential again instead of
    taking the earlier fetch's token."""
    credential = Gated()
    auth = BearerTokenAuth(credential)
    for _ in range(2):
        request = httpx.Request("GET", "https://x/")
        flow = auth.sync_auth_flow(request)
        next(flow)
        flow.send(httpx.Response(401, headers={"WWW-Authenticate": CHALLENGE}, request=request))
    assert [call["claims"] for call in credential.calls] == [None, CLAIMS, CLAIMS]


def test_a_token_that_landed_before_the_lock_was_taken_is_used_without_a_fetch() -> None:
    """The lock-free look found no token; another caller's fetch landed before this caller took the lock."""
    credential = Gated()
    auth = BearerTokenAuth(credential)
    next(auth.sync_auth_flow(httpx.Request("GET", "https://x/")))
    token, _, new = auth._join(None, None, is_async=False)
    assert (token is not None and token.value, new) == ("t1", False)
    assert len(credential.calls) == 1
