"""How requests are authenticated: a subscription key (a string, or a key credential read at every request so a
rotated key takes effect on the next page), or a Microsoft Entra ID token credential (cached, refreshed five
minutes before it expires, one refresh at a time, refreshed and retried once on a 401). Keys and tokens stay out
of every repr and log.

The credential shapes are protocols of our own, so the base install needs no azure package; azure-core's
``AzureKeyCredential`` and ``TokenCredential`` implementations (``DefaultAzureCredential``...) fit them.
"""

from __future__ import annotations

import inspect
import os
import threading
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator
from typing import Any, Protocol, runtime_checkable

import anyio
import httpx

from ._config import KEY_ENV, KEY_HEADER
from ._errors import ConfigurationError

__all__ = [
    "SCOPE",
    "AccessTokenLike",
    "AsyncTokenCredentialLike",
    "BearerTokenAuth",
    "KeyCredentialLike",
    "SubscriptionKeyAuth",
    "TokenCredentialLike",
    "auth_for",
]

SCOPE = "https://cognitiveservices.azure.com/.default"
REFRESH_AHEAD = 300.0  # seconds before expiry a token is replaced, as azure-core's bearer policy does


@runtime_checkable
class KeyCredentialLike(Protocol):
    """Anything with a ``key`` attribute, read at every request: ``azure.core.credentials.AzureKeyCredential``."""

    @property
    def key(self) -> str: ...


class AccessTokenLike(Protocol):
    """What ``get_token`` returns: ``azure.core.credentials.AccessToken`` (expires_on in POSIX seconds)."""

    @property
    def token(self) -> str: ...

    @property
    def expires_on(self) -> int: ...


@runtime_checkable
class TokenCredentialLike(Protocol):
    """``azure.core.credentials.TokenCredential``: ``DefaultAzureCredential`` and the other azure-identity classes."""

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessTokenLike: ...


@runtime_checkable
class AsyncTokenCredentialLike(Protocol):
    """``azure.core.credentials_async.AsyncTokenCredential`` (``azure.identity.aio``), for the async client."""

    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessTokenLike: ...


def _checked_key(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"no subscription key: pass key=... or set {KEY_ENV} (or pass credential=...)")
    value = value.strip()
    if not value.isprintable() or any(ch.isspace() for ch in value) or not value.isascii():
        raise ConfigurationError("the subscription key contains whitespace, control or non-ASCII characters")
    return value


class SubscriptionKeyAuth(httpx.Auth):
    """Sends the ``Ocp-Apim-Subscription-Key`` header: a fixed key, or a key credential's ``key`` read at every
    request (so ``AzureKeyCredential.update()`` takes effect on the next request). Its repr never shows the key."""

    def __init__(self, key: str | KeyCredentialLike | None = None) -> None:
        if key is None:
            key = os.environ.get(KEY_ENV)
        if isinstance(key, str) or key is None:
            fixed = _checked_key(key)
            self._read: Callable[[], str] = lambda: fixed
        else:
            credential = key
            _checked_key(credential.key)
            self._read = lambda: _checked_key(credential.key)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers[KEY_HEADER] = self._read()
        yield request

    def __repr__(self) -> str:
        return "SubscriptionKeyAuth(key=[redacted])"


class _TokenCache:
    """The current token and when to replace it; decisions only, no I/O."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self.token: str | None = None
        self.expires_on = 0.0
        self.generation = 0  # bumped at every refresh, so a request knows whether its token was replaced

    def needs_refresh(self, stale_generation: int | None) -> bool:
        """Whether to fetch a token now: none yet, one about to expire, or (after a 401) still the one refused."""
        if self.token is None:
            return True
        if stale_generation is not None:
            return self.generation == stale_generation  # another request may have refreshed it meanwhile
        return self._clock() >= self.expires_on - REFRESH_AHEAD

    def current(self) -> tuple[str, int]:
        assert self.token is not None
        return self.token, self.generation

    def store(self, access: AccessTokenLike) -> str:
        token = access.token
        if not isinstance(token, str) or not token or not token.isascii() or any(c.isspace() for c in token):
            raise ConfigurationError("the credential returned an empty or malformed token")
        self.token = token
        self.expires_on = float(access.expires_on)
        self.generation += 1
        return token


class BearerTokenAuth(httpx.Auth):
    """Sends ``Authorization: Bearer <token>`` from a token credential (scope ``SCOPE``), never with the key header.

    The token is cached and refreshed five minutes before it expires; however many threads or tasks list at once,
    one of them refreshes while the others wait for it. A 401 refreshes the token (unless another request already
    did) and retries the request once; a second 401 is the caller's ``AuthenticationError``.
    """

    def __init__(
        self,
        credential: TokenCredentialLike | AsyncTokenCredentialLike,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._credential = credential
        self._cache = _TokenCache(clock)
        self._thread_lock = threading.Lock()
        self._task_lock: anyio.Lock | None = None

    def _sync_token(self, stale_generation: int | None = None) -> tuple[str, int]:
        with self._thread_lock:
            cache = self._cache
            if cache.needs_refresh(stale_generation):
                access: Any = self._credential.get_token(SCOPE)
                if isinstance(access, Awaitable):
                    raise ConfigurationError("an async token credential needs AsyncSpeechToTextModels")
                cache.store(access)
            return cache.current()

    async def _async_token(self, stale_generation: int | None = None) -> tuple[str, int]:
        if self._task_lock is None:
            self._task_lock = anyio.Lock()
        async with self._task_lock:
            cache = self._cache
            if cache.needs_refresh(stale_generation):
                access: Any = self._credential.get_token(SCOPE)
                if isinstance(access, Awaitable):
                    access = await access
                cache.store(access)
            return cache.current()

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token, generation = self._sync_token()
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401:
            token, _ = self._sync_token(stale_generation=generation)
            request.headers["Authorization"] = f"Bearer {token}"
            yield request

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token, generation = await self._async_token()
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401:
            token, _ = await self._async_token(stale_generation=generation)
            request.headers["Authorization"] = f"Bearer {token}"
            yield request

    def __repr__(self) -> str:
        return f"BearerTokenAuth(credential={type(self._credential).__name__}, token=[redacted])"


def auth_for(
    key: str | None,
    credential: str | KeyCredentialLike | TokenCredentialLike | AsyncTokenCredentialLike | None,
    *,
    is_async: bool,
    host: str,
) -> httpx.Auth:
    """The httpx Auth for the constructor's `key` and `credential` (at most one of them), checked."""
    if key is not None and credential is not None:
        raise ConfigurationError("pass key=... or credential=..., not both")
    if credential is None or isinstance(credential, str):
        return SubscriptionKeyAuth(credential if credential is not None else key)
    if isinstance(credential, KeyCredentialLike):
        return SubscriptionKeyAuth(credential)
    if isinstance(credential, TokenCredentialLike | AsyncTokenCredentialLike):
        if not is_async and inspect.iscoroutinefunction(credential.get_token):
            raise ConfigurationError("an async token credential (azure.identity.aio) needs AsyncSpeechToTextModels")
        if host.endswith(".api.cognitive.microsoft.com"):
            raise ConfigurationError(
                f"Microsoft Entra ID tokens work only on a resource's custom subdomain endpoint "
                f"(https://<resource-name>.cognitiveservices.azure.com), not on the regional endpoint {host}: "
                "use the custom subdomain, or a subscription key"
            )
        return BearerTokenAuth(credential)
    raise ConfigurationError(
        f"credential must be a key string, a key credential (with .key) or a token credential (with .get_token), "
        f"not {type(credential).__name__}"
    )
