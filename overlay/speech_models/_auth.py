"""How requests are authenticated: a subscription key (a string, or a key credential read at every request so a
rotated key takes effect on the next page), or a Microsoft Entra ID token credential (cached, refreshed five
minutes before it expires, one refresh at a time, refreshed and retried once on a 401). Keys and tokens stay out
of every repr and log.

The credential shapes are protocols of our own, so the base install needs no azure package; azure-core's
``AzureKeyCredential`` and ``TokenCredential`` implementations (``DefaultAzureCredential``...) fit them.
"""

from __future__ import annotations

import base64
import contextlib
import inspect
import os
import re
import threading
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    import anyio

import httpx

from ._config import KEY_ENV, KEY_HEADER
from ._errors import ConfigurationError, CredentialError

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
        self._rotates = not (isinstance(key, str) or key is None)
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
        if response.status_code == 401 and self._rotates:
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


class _Flight:
    """One token fetch that concurrent callers wait for and whose outcome they share."""

    def __init__(self, is_async: bool) -> None:
        self.thread_done = threading.Event()
        self.task_done: anyio.Event | None = None
        if is_async:  # imported here: a sync program does not load anyio
            import anyio

            self.task_done = anyio.Event()
        self.token: _Token | None = None
        self.error: Exception | None = None  # None with no token: the fetch was interrupted; try again


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


class BearerTokenAuth(httpx.Auth):
    """Sends ``Authorization: Bearer <token>`` from a token credential (scope ``SCOPE``), never with the key header.

    The token is cached and replaced when its ``refresh_on`` passes (``get_token_info`` credentials) or five minutes
    before it expires, as azure-core's bearer policy does; however many threads or tasks list at once, one of them
    fetches while the others wait for that fetch and share its outcome, token or failure. A 401 fetches a new token
    (unless another request already did), with the claims of a continuous access evaluation challenge when it
    carries one, and retries the request once; a second 401 is the caller's ``AuthenticationError``. A credential
    that fails raises ``CredentialError``, with the credential's own exception as ``__cause__``.
    """

    def __init__(
        self,
        credential: TokenCredentialLike | AsyncTokenCredentialLike,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._credential = credential
        self._clock = clock
        self._token: _Token | None = None
        self._generation = 0
        self._lock = threading.Lock()  # guards _flight only; never held during a fetch
        self._flight: _Flight | None = None

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

    def _join(self, stale: int | None, claims: str | None, is_async: bool) -> tuple[_Token | None, _Flight, bool]:
        """Under the lock: a token that is fresh by now, or the flight to wait for (and whether we fly it)."""
        with self._lock:
            if claims is None:
                token = self._fresh(stale)
                if token is not None:
                    return token, _NO_FLIGHT, False
            if self._flight is not None:
                return None, self._flight, False
            self._flight = _Flight(is_async)
            return None, self._flight, True

    def _land(self, flight: _Flight, access: Any = None, error: Exception | None = None) -> None:
        """Record the outcome of our fetch (a token, a failure, or neither: we were interrupted) for everyone
        waiting on `flight`; raise ``CredentialError`` for a failure."""
        try:
            if access is not None:
                flight.token = self._store(access)
            elif error is not None:
                flight.error = error
        except CredentialError as exc:
            flight.error = exc
        finally:
            with self._lock:
                self._flight = None
            flight.thread_done.set()
            if flight.task_done is not None:
                flight.task_done.set()
        if flight.error is not None:
            raise self._failed(flight.error) from flight.error

    def _store(self, access: Any) -> _Token:
        value = getattr(access, "token", None)
        if not isinstance(value, str) or not value or not value.isascii() or any(c.isspace() for c in value):
            name = type(self._credential).__name__
            raise CredentialError(f"the credential {name} returned an empty or malformed token")
        refresh_on = getattr(access, "refresh_on", None)
        self._generation += 1
        self._token = _Token(
            value,
            float(access.expires_on),
            float(refresh_on) if isinstance(refresh_on, int | float) and refresh_on else None,
            self._generation,
        )
        return self._token

    def _request(self, claims: str | None) -> Any:
        """Ask the credential: ``get_token_info`` when it has one (its ``refresh_on`` is honoured), else
        ``get_token``; with the challenge's claims when there are some."""
        get_info = getattr(self._credential, "get_token_info", None)
        if callable(get_info):
            return get_info(SCOPE, options={"claims": claims}) if claims else get_info(SCOPE)
        return self._credential.get_token(SCOPE, claims=claims) if claims else self._credential.get_token(SCOPE)

    def _failed(self, error: Exception) -> CredentialError:
        """A new ``CredentialError`` for each caller that shares a failed fetch (the original is the cause)."""
        if isinstance(error, CredentialError):
            return CredentialError(str(error))
        first = (str(error).strip().splitlines() or [""])[0][:300]
        return CredentialError(
            f"the credential {type(self._credential).__name__} could not provide a token: "
            f"{type(error).__name__}: {first}"
        )

    def _shared(self, flight: _Flight) -> _Token | None:
        if flight.error is not None:
            raise self._failed(flight.error) from flight.error
        return flight.token

    @contextlib.contextmanager
    def _landing(self, flight: _Flight, passthrough: tuple[type[Exception], ...] = ()) -> Iterator[list[Any]]:
        """Around our fetch: the body appends what the credential returned; whatever happens, the outcome lands on
        `flight` for its waiters (an interruption lands nothing: they look again)."""
        fetched: list[Any] = []
        try:
            yield fetched
        except passthrough:
            self._land(flight)
            raise
        except Exception as exc:
            self._land(flight, error=exc)
            raise  # not reached: _land raised
        except BaseException:
            self._land(flight)
            raise
        self._land(flight, access=fetched[0])

    def _sync_token(self, stale: int | None = None, claims: str | None = None) -> _Token:
        token = None if claims is not None else self._fresh(stale)  # the common case needs no lock
        while token is None:
            token, flight, flying = self._join(stale, claims, is_async=False)
            if token is not None:
                break
            if flying:
                with self._landing(flight, passthrough=(ConfigurationError,)) as fetched:
                    access = self._request(claims)
                    if isinstance(access, Awaitable):
                        if inspect.iscoroutine(access):
                            access.close()
                        raise ConfigurationError("an async token credential needs AsyncSpeechToTextModels")
                    fetched.append(access)
            else:
                flight.thread_done.wait()
            token = self._shared(flight)
            stale, claims = None, None  # if the fetch was interrupted (KeyboardInterrupt, cancellation): look again
        return token

    async def _async_token(self, stale: int | None = None, claims: str | None = None) -> _Token:
        token = None if claims is not None else self._fresh(stale)
        while token is None:
            token, flight, flying = self._join(stale, claims, is_async=True)
            if token is not None:
                break
            if flying:
                with self._landing(flight) as fetched:
                    access = self._request(claims)
                    fetched.append(await access if isinstance(access, Awaitable) else access)
            else:
                assert flight.task_done is not None
                await flight.task_done.wait()
            token = self._shared(flight)
            stale, claims = None, None
        return token

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self._sync_token()
        request.headers["Authorization"] = f"Bearer {token.value}"
        response = yield request
        if response.status_code == 401:
            token = self._sync_token(stale=token.generation, claims=_challenge_claims(response))
            request.headers["Authorization"] = f"Bearer {token.value}"
            yield request

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = await self._async_token()
        request.headers["Authorization"] = f"Bearer {token.value}"
        response = yield request
        if response.status_code == 401:
            token = await self._async_token(stale=token.generation, claims=_challenge_claims(response))
            request.headers["Authorization"] = f"Bearer {token.value}"
            yield request

    def __repr__(self) -> str:
        return f"BearerTokenAuth(credential={type(self._credential).__name__}, token=[redacted])"


_NO_FLIGHT = _Flight(is_async=False)


def auth_for(
    key: str | None,
    credential: str | KeyCredentialLike | TokenCredentialLike | AsyncTokenCredentialLike | None,
    *,
    is_async: bool,
    host: str,
    now: Callable[[], float] = time.time,
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
        return BearerTokenAuth(credential, clock=now)
    raise ConfigurationError(
        f"credential must be a key string, a key credential (with .key) or a token credential (with .get_token), "
        f"not {type(credential).__name__}"
    )
