"""Credentials over loopback against the emulator: rotating keys, Microsoft Entra ID tokens (refresh ahead of
expiry, after a 401, one fetch for many listings), azure-core's own classes, and secrets kept out of sight."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import anyio
import httpx
import pytest
import speech_models as sm
from azure.core.credentials import AccessToken, AccessTokenInfo, AzureKeyCredential, TokenCredential
from azure.core.credentials_async import AsyncTokenCredential
from speech_models_emulator import run_emulator
from speech_models_emulator.server import RunningEmulator

KINDS = pytest.mark.parametrize("kind", ["sync", "async"])
SCOPE = "https://cognitiveservices.azure.com/.default"


class Issuer(TokenCredential):
    """A token credential (azure-core's protocol) whose tokens the emulator trusts; counts every fetch.

    `lifetime` is how long each token lives; `trusted=False` issues tokens the emulator does not know."""

    def __init__(self, emulator: RunningEmulator, lifetime: float = 3600, trusted: bool = True) -> None:
        self.emulator = emulator
        self.lifetime = lifetime
        self.trusted = trusted
        self.calls = 0
        self.scopes: list[tuple[str, ...]] = []
        self._lock = threading.Lock()

    def _issue(self, *scopes: str) -> AccessToken:
        with self._lock:
            self.calls += 1
            self.scopes.append(scopes)
            token = f"secret-token-{self.calls}"
        if self.trusted:
            self.emulator.state.tokens.add(token)
        return AccessToken(token, int(time.time() + self.lifetime))

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        time.sleep(0.02)  # a real fetch takes time: concurrent callers must wait for this one, not start theirs
        return self._issue(*scopes)


class AsyncIssuer(Issuer):
    """The async shape (azure.identity.aio): ``await get_token(...)``."""

    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:  # type: ignore[override]
        await anyio.sleep(0.02)
        return self._issue(*scopes)


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    with run_emulator(count=30, key=None) as running:  # key authentication off, as with disableLocalAuth
        yield running


def issuer(kind: str, emulator: RunningEmulator, lifetime: float = 3600, trusted: bool = True) -> Issuer:
    return (Issuer if kind == "sync" else AsyncIssuer)(emulator, lifetime, trusted)


def client(kind: str, emulator: RunningEmulator, credential: Any) -> Any:
    if kind == "sync":
        return sm.SpeechToTextModels(emulator.url, credential=credential)
    return sm.AsyncSpeechToTextModels(emulator.url, credential=credential)


def pages(kind: str, api: Any, between: Any = None, **list_kwargs: Any) -> list[Any]:
    """All pages; `between(n)` runs after page n arrives, before the next is fetched."""
    if kind == "sync":
        out = []
        with api:
            for page in api.list_models(**list_kwargs).by_page():
                out.append(page)
                if between:
                    between(len(out))
        return out

    async def go() -> list[Any]:
        out = []
        async with api:
            async for page in api.list_models(**list_kwargs).by_page():
                out.append(page)
                if between:
                    between(len(out))
        return out

    return asyncio.run(go())


# --- keys ---------------------------------------------------------------------------------------------------


@KINDS
def test_a_key_rotated_between_two_pages_is_used_for_the_next_page(kind: str) -> None:
    with run_emulator(count=30, key="old-key-123") as running:
        credential = AzureKeyCredential("old-key-123")

        def rotate(page: int) -> None:
            if page == 1:
                running.state.key = b"new-key-456"  # the resource's key is regenerated...
                credential.update("new-key-456")  # ...and the application picks up the new one

        got = pages(kind, client(kind, running, credential), rotate, top=10)
        assert sum(len(p) for p in got) == 30
        with pytest.raises(sm.AuthenticationError):  # the old key is refused now
            pages(kind, client(kind, running, "old-key-123"), top=10)


def test_a_key_credential_with_a_bad_key_is_refused_at_once() -> None:
    with pytest.raises(sm.ConfigurationError, match="whitespace"):
        sm.SpeechToTextModels("https://x.cognitiveservices.azure.com", credential=AzureKeyCredential("a b"))


# --- tokens ---------------------------------------------------------------------------------------------------


@KINDS
def test_a_token_is_fetched_once_for_a_whole_listing(kind: str, emulator: RunningEmulator) -> None:
    credential = issuer(kind, emulator)
    got = pages(kind, client(kind, emulator, credential), top=5)
    assert len(got) == 6
    assert credential.calls == 1
    assert credential.scopes == [(SCOPE,)]


@KINDS
def test_a_token_about_to_expire_is_refreshed_before_use(kind: str, emulator: RunningEmulator) -> None:
    credential = issuer(kind, emulator, lifetime=200)  # inside the 5-minute margin: never good enough to reuse
    got = pages(kind, client(kind, emulator, credential), top=10)
    assert len(got) == 3
    assert credential.calls == 3


@KINDS
def test_a_token_revoked_by_the_server_is_refreshed_after_the_401(kind: str, emulator: RunningEmulator) -> None:
    credential = issuer(kind, emulator)

    def revoke(page: int) -> None:
        if page == 1:
            httpx.post(f"{emulator.url}/_emulator/faults", json={"revoke_tokens": True}).raise_for_status()

    got = pages(kind, client(kind, emulator, credential), revoke, top=10)
    assert sum(len(p) for p in got) == 30
    assert credential.calls == 2


@KINDS
def test_a_second_401_is_an_authentication_error(kind: str, emulator: RunningEmulator) -> None:
    credential = issuer(kind, emulator, trusted=False)
    with pytest.raises(sm.AuthenticationError) as info:
        pages(kind, client(kind, emulator, credential))
    assert credential.calls == 2  # the first token, then one refresh, then no more
    assert "bearer token is unknown, expired or revoked" in str(info.value)


def test_fifty_async_listings_share_one_token_fetch(emulator: RunningEmulator) -> None:
    credential = AsyncIssuer(emulator)

    async def go() -> list[int]:
        async with sm.AsyncSpeechToTextModels(emulator.url, credential=credential) as api:

            async def one() -> int:
                return len([m async for m in api.list_models(top=10)])

            return list(await asyncio.gather(*(one() for _ in range(50))))

    assert asyncio.run(go()) == [30] * 50
    assert credential.calls == 1


def test_eight_threads_share_one_token_fetch(emulator: RunningEmulator) -> None:
    credential = Issuer(emulator)
    counts: list[int] = []
    with sm.SpeechToTextModels(emulator.url, credential=credential) as api:

        def one() -> None:
            counts.append(len(list(api.list_models(top=10))))

        threads = [threading.Thread(target=one) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert counts == [30] * 8
    assert credential.calls == 1


def test_bearer_and_key_are_never_sent_together() -> None:
    seen: list[httpx.Headers] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers)
        return httpx.Response(200, json={"values": []})

    class Static:
        def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
            return AccessToken("tok", int(time.time()) + 3600)

    transport = httpx.MockTransport(handler)
    with sm.SpeechToTextModels(
        "https://res.cognitiveservices.azure.com", credential=Static(), transport=transport
    ) as api:
        list(api.list_models())
    assert seen[0]["authorization"] == "Bearer tok"
    assert "ocp-apim-subscription-key" not in seen[0]


@pytest.mark.parametrize(
    ("endpoint", "message"),
    [
        ("https://westus.api.cognitive.microsoft.com", "only on a resource's custom subdomain endpoint"),
    ],
)
def test_a_token_credential_on_a_regional_endpoint_is_a_clear_error(endpoint: str, message: str) -> None:
    class Static:
        def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
            raise AssertionError("no token is fetched for a client that cannot use it")

    with pytest.raises(sm.ConfigurationError, match=message):
        sm.SpeechToTextModels(endpoint, credential=Static())


def test_credential_misuse_is_a_configuration_error() -> None:
    endpoint = "https://res.cognitiveservices.azure.com"
    with pytest.raises(sm.ConfigurationError, match="not both"):
        sm.SpeechToTextModels(endpoint, "key", credential="key")
    with pytest.raises(sm.ConfigurationError, match="needs AsyncSpeechToTextModels"):
        sm.SpeechToTextModels(endpoint, credential=AsyncIssuer.__new__(AsyncIssuer))  # type: ignore[arg-type]
    with pytest.raises(sm.ConfigurationError, match="credential must be"):
        sm.SpeechToTextModels(endpoint, credential=42)  # type: ignore[arg-type]


def test_azure_core_classes_fit_the_sdks_protocols() -> None:
    """azure-core's own protocols and classes are assignable to the SDK's: checked by mypy (make typecheck), which
    fails here when a signature of either side drifts; every azure-identity credential implements these protocols."""

    def sync_credential(credential: TokenCredential) -> sm.TokenCredentialLike:
        return credential

    def async_credential(credential: AsyncTokenCredential) -> sm.AsyncTokenCredentialLike:
        return credential

    def token(access: AccessToken) -> sm.AccessTokenLike:
        return access

    def token_info(access: AccessTokenInfo) -> sm.AccessTokenLike:
        return access

    key: sm.KeyCredentialLike = AzureKeyCredential("abc")
    assert isinstance(key, sm.KeyCredentialLike)
    assert token(AccessToken("t", 1)).expires_on == 1
    assert token_info(AccessTokenInfo("t", 2, refresh_on=1)).expires_on == 2


@KINDS
def test_tokens_never_appear_in_logs_reprs_errors_or_urls(
    kind: str, emulator: RunningEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    credential = issuer(kind, emulator, trusted=False)
    api = client(kind, emulator, credential)
    with pytest.raises(sm.AuthenticationError) as info:
        pages(kind, api)
    error = info.value
    texts = [caplog.text, repr(api), repr(api._auth), str(error), repr(error), str(error.response.request.url)]
    texts += [str(error.response.request.headers), str(error.response.request.headers.get("authorization"))]
    for text in texts:
        assert "secret-token" not in text
    assert error.response.request.headers["authorization"] == "[redacted]"
