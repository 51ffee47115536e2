"""How requests are authenticated: a subscription key (a string, or a key credential read at every request so a
rotated key takes effect on the next page), or a Microsoft Entra ID token credential (cached, refreshed five
minutes before it expires, one refresh at a time, refreshed and retried once on a 401). Keys and tokens stay out
of every repr and log.

The credential shapes are protocols of our own, so the base install needs no azure package; azure-core's
``AzureKeyCredential`` and ``TokenCredential`` implementations (``DefaultAzureCredential``...) fit them.
"""

from __future__ import annotations

import base64
import contextvars
import inspect
import math
import os
import re
import threading
import time
from collections.abc import AsyncGenerator, Callable, Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    import anyio

import httpx

from ._config import KEY_ENV, KEY_HEADER
from ._errors import ConfigurationError, CredentialError
from ._retry import POLICY_EXTENSION

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
    request (so ``AzureKeyCredential.update()`` takes effect on the next request). With a key credential, a 401
    re-reads the key and, when it changed meanwhile (a rotation while the request was in flight), sends the request
    once more with the new key. Its repr never shows the key."""

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
        sent = request.headers[KEY_HEADER] = self._read()
        response = yield request
        if response.status_code == 401:  # a fixed key reads the same: only a credential's can have changed
            fresh = self._read()
            if fresh != sent:
                request.headers[KEY_HEADER] = fresh
                yield request

    def __repr__(self) -> str:
        return "SubscriptionKeyAuth(key=[redacted])"


@dataclass(frozen=True)
class _Token:
    value: str
    expires_on: float
    refresh_on: float | None
    generation: int  # bumped at every fetch, so a request knows whether the token it sent was replaced


class _Fetch:
    """One request to the credential, shared by every caller that needs a token with the same claims (a caller
    with claims never shares a fetch made without them). Its outcome, once it lands, is a token or an error; an
    async fetch whose task was cancelled lands neither, and its waiters look again."""

    def __init__(self, claims: str | None, is_async: bool) -> None:
        self.claims = claims
        self.token: _Token | None = None
        self.error: BaseException | None = None
        self.landed = threading.Event()
        self.async_landed: anyio.Event | None = None
        if is_async:  # imported here: a sync program does not load anyio
            import anyio

            self.async_landed = anyio.Event()


def _challenge_claims(response: httpx.Response) -> str | None:
    """The claims of a continuous access evaluation challenge (``WWW-Authenticate: Bearer ... claims="..."``,
    base64-encoded JSON), decoded as azure-core does; ``None`` when the 401 carries none (or garbage)."""
    for challenge in response.headers.get_list("www-authenticate"):
        match = _CLAIMS.search(challenge)
        if match:
            encoded = match.group(1)
            try:
                return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode("utf-8")
            except (ValueError, UnicodeDecodeError):
                return None
    return None


_CLAIMS = re.compile(r'claims="([^"]*)"')


def token_wait(request: httpx.Request, default: float | None) -> float | None:
    """How long a request may wait for a token: its call's retry deadline (a listing's own policy, if it has
    one), else `default`, the client's."""
    policy = request.extensions.get(POLICY_EXTENSION)
    return default if policy is None else policy.deadline


def _describe(error: BaseException) -> str:
    """The exception's type and the first line of its text (its type alone when it has none, or when its ``str()``
    raises)."""
    try:
        text = str(error)
    except Exception:
        return type(error).__name__
    first = (text.strip().splitlines() or [""])[0][:300]
    return f"{type(error).__name__}: {first}" if first else type(error).__name__


class BearerTokenAuth(httpx.Auth):
    """Sends ``Authorization: Bearer <token>`` from a token credential (scope ``SCOPE``), never with the key header.

    The token is cached and replaced when its ``refresh_on`` passes (``get_token_info`` credentials) or five minutes
    before it expires, as azure-core's bearer policy does. A lock guards only "is a new token needed, and is one
    already being fetched?": however many threads or tasks list at once, one fetch runs for each set of claims and
    the others wait for its outcome, token or failure. A 401 fetches a new token (unless another request already
    did), with the claims of a continuous access evaluation challenge when it carries one, and retries the request
    once; a second 401 is the caller's ``AuthenticationError``. A credential that fails, or returns something that
    is not a token, raises ``CredentialError``, with the credential's own exception as ``__cause__``.

    A wait for a token is bounded by the call's retry deadline (`wait`: the client's): a credential that hangs
    raises ``CredentialError`` then. A sync credential's fetch runs on a thread of its own, so it is abandoned,
    not stopped: the token it brings later is kept for the next caller. An async credential's fetch runs in the
    task that needs it first and is cancelled with it.
    """

    def __init__(
        self,
        credential: TokenCredentialLike | AsyncTokenCredentialLike,
        *,
        clock: Callable[[], float] = time.time,
        wait: float | None = None,
    ) -> None:
        self._credential = credential
        self._clock = clock
        self._wait = wait
        self._token: _Token | None = None
        self._generation = 0
        self._lock = threading.Lock()  # guards _fetches and the check before them; never held during a fetch
        self._fetches: dict[str | None, _Fetch] = {}  # the fetch under way for each claims value

    def _fresh(self, stale: int | None) -> _Token | None:
        """The cached token if it may be sent; ``None`` when a fetch is needed (none yet, refresh time reached,
        or, after a 401, still the token of generation `stale`)."""
        token = self._token
        if token is None:
            return None
        if stale is not None:
            return None if token.generation == stale else token
        now = self._clock()
        if token.refresh_on is not None and now >= token.refresh_on:
            return None
        return None if token.expires_on - now < REFRESH_AHEAD else token

    def _usable(self, stale: int | None, claims: str | None) -> _Token | None:
        """The cached token when this caller may send it (never for a claims challenge, which needs a new one)."""
        return None if claims is not None else self._fresh(stale)

    def _join(self, stale: int | None, claims: str | None, is_async: bool) -> tuple[_Token | None, _Fetch, bool]:
        """Under the lock: a token that is usable by now, or the fetch to wait for (and whether it is new)."""
        with self._lock:
            token = self._usable(stale, claims)
            if token is not None:
                return token, _NO_FETCH, False
            fetch = self._fetches.get(claims)
            if fetch is not None:
                return None, fetch, False
            fetch = self._fetches[claims] = _Fetch(claims, is_async)
            return None, fetch, True

    def _request(self, claims: str | None) -> Any:
        """Ask the credential: ``get_token_info`` when it has one (its ``refresh_on`` is honoured), else
        ``get_token``; with the challenge's claims when there are some."""
        get_info = getattr(self._credential, "get_token_info", None)
        if callable(get_info):
            return get_info(SCOPE, options={"claims": claims}) if claims else get_info(SCOPE)
        return self._credential.get_token(SCOPE, claims=claims) if claims else self._credential.get_token(SCOPE)

    def _token_of(self, access: Any) -> _Token:
        """The token in what the credential returned, stored as the current one; ``CredentialError`` when it is not
        a token (``None``, an empty or malformed string, an ``expires_on`` that is not a number)."""
        name = type(self._credential).__name__
        value = getattr(access, "token", None)
        if not isinstance(value, str) or not value or not value.isascii() or any(c.isspace() for c in value):
            raise CredentialError(f"the credential {name} returned an empty or malformed token")
        expires_on = getattr(access, "expires_on", None)
        if isinstance(expires_on, bool) or not isinstance(expires_on, int | float) or not math.isfinite(expires_on):
            raise CredentialError(f"the credential {name} returned a token whose expires_on is not a number")
        refresh_on = getattr(access, "refresh_on", None)
        if isinstance(refresh_on, bool) or not isinstance(refresh_on, int | float) or not refresh_on > 0:
            refresh_on = None  # absent, or not a time: the five-minute margin decides
        with self._lock:
            self._generation += 1
            self._token = _Token(value, float(expires_on), refresh_on, self._generation)
            return self._token

    def _failure(self, error: Exception) -> CredentialError:
        """The error a caller gets for a credential that failed: a new one for each caller that shares the fetch
        (the original is the cause)."""
        if isinstance(error, CredentialError):
            return CredentialError(str(error))
        return CredentialError(
            f"the credential {type(self._credential).__name__} could not provide a token: {_describe(error)}"
        )

    def _record_outcome(self, fetch: _Fetch, token: _Token | None = None, error: BaseException | None = None) -> None:
        """Record the outcome of `fetch` for everyone waiting on it."""
        fetch.token, fetch.error = token, error
        with self._lock:
            if self._fetches.get(fetch.claims) is fetch:
                del self._fetches[fetch.claims]
        fetch.landed.set()

    def _outcome(self, fetch: _Fetch) -> _Token | None:
        """The token `fetch` brought; raises what it failed with (a ``CredentialError``, or a
        ``ConfigurationError``, a ``KeyboardInterrupt``... as it is); ``None`` when it was cancelled."""
        error = fetch.error
        if isinstance(error, ConfigurationError) or not isinstance(error, Exception | type(None)):
            raise error
        if error is not None:
            raise self._failure(error) from error
        return fetch.token

    def _timed_out(self, wait: float | None) -> CredentialError:
        return CredentialError(
            f"the credential {type(self._credential).__name__} gave no token within the call's {wait:g}s deadline"
        )

    def _fetch_blocking(self, fetch: _Fetch) -> None:
        """Run a sync credential's fetch (on a thread of its own) and land its outcome."""
        try:
            access = self._request(fetch.claims)
            if inspect.isawaitable(access):
                if inspect.iscoroutine(access):
                    access.close()
                raise ConfigurationError("an async token credential needs AsyncSpeechToTextModels")
            self._record_outcome(fetch, token=self._token_of(access))
        except BaseException as exc:
            self._record_outcome(fetch, error=exc)

    def _sync_token(self, stale: int | None = None, claims: str | None = None, wait: float | None = None) -> _Token:
        token = self._usable(stale, claims)  # the common case needs no lock
        if token is not None:
            return token
        token, fetch, new = self._join(stale, claims, is_async=False)
        if token is not None:
            return token
        if new:
            run = contextvars.copy_context().run  # the caller's trace context, in the fetch's thread
            threading.Thread(
                target=run, args=(self._fetch_blocking, fetch), name="speech-models-token", daemon=True
            ).start()
        if not fetch.landed.wait(wait):
            raise self._timed_out(wait)
        token = self._outcome(fetch)
        assert token is not None  # a thread's fetch always lands a token or an error
        return token

    async def _async_token(
        self, stale: int | None = None, claims: str | None = None, wait: float | None = None
    ) -> _Token:
        import anyio

        with anyio.move_on_after(math.inf if wait is None else wait) as scope:
            while True:
                token = self._usable(stale, claims)
                if token is not None:
                    return token
                token, fetch, new = self._join(stale, claims, is_async=True)
                if token is not None:
                    return token
                if new:
                    await self._fetch_async(fetch)
                else:
                    assert fetch.async_landed is not None
                    await fetch.async_landed.wait()
                token = self._outcome(fetch)
                if token is not None:
                    return token
                # the task that fetched was cancelled: look again (another caller's fetch may have landed)
        assert scope.cancelled_caught
        raise self._timed_out(wait)

    async def _fetch_async(self, fetch: _Fetch) -> None:
        """Run a fetch in this task (a sync credential on a worker thread, abandoned if this task is cancelled: the
        token it brings is kept) and land its outcome; a cancellation lands nothing, and waiters look again."""
        import anyio

        assert fetch.async_landed is not None
        try:
            if inspect.iscoroutinefunction(self._credential.get_token) or inspect.iscoroutinefunction(
                getattr(self._credential, "get_token_info", None)
            ):
                access = await self._request(fetch.claims)
                self._record_outcome(fetch, token=self._token_of(access))
            else:
                await anyio.to_thread.run_sync(self._fetch_blocking, fetch, abandon_on_cancel=True)
        except anyio.get_cancelled_exc_class():
            self._record_outcome(fetch)
            raise
        except Exception as exc:
            self._record_outcome(fetch, error=exc)
        finally:
            fetch.async_landed.set()

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        wait = token_wait(request, self._wait)
        token = self._sync_token(wait=wait)
        request.headers["Authorization"] = f"Bearer {token.value}"
        response = yield request
        if response.status_code == 401:
            token = self._sync_token(stale=token.generation, claims=_challenge_claims(response), wait=wait)
            request.headers["Authorization"] = f"Bearer {token.value}"
            yield request

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        wait = token_wait(request, self._wait)
        token = await self._async_token(wait=wait)
        request.headers["Authorization"] = f"Bearer {token.value}"
        response = yield request
        if response.status_code == 401:
            token = await self._async_token(stale=token.generation, claims=_challenge_claims(response), wait=wait)
            request.headers["Authorization"] = f"Bearer {token.value}"
            yield request

    def __repr__(self) -> str:
        return f"BearerTokenAuth(credential={type(self._credential).__name__}, token=[redacted])"


_NO_FETCH = _Fetch(None, is_async=False)


def auth_for(
    key: str | None,
    credential: str | KeyCredentialLike | TokenCredentialLike | AsyncTokenCredentialLike | None,
    *,
    is_async: bool,
    host: str,
    now: Callable[[], float] = time.time,
    token_wait: float | None = None,
) -> httpx.Auth:
    """The httpx Auth for the constructor's `key` and `credential` (at most one of them), checked; a token
    credential's wait for a token is bounded by `token_wait` seconds (the client's retry deadline)."""
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
        return BearerTokenAuth(credential, clock=now, wait=token_wait)
    raise ConfigurationError(
        f"credential must be a key string, a key credential (with .key) or a token credential (with .get_token), "
        f"not {type(credential).__name__}"
    )
