"""Retries that honour the service's ``Retry-After``, as wrapping httpx transports (sync and async).

The decisions are pure functions (``parse_retry_after``, ``RetryPolicy.backoff``); the two transports only differ
in how they sleep. Clock, wall time, sleep and jitter are injectable so tests never really wait.
"""

from __future__ import annotations

import datetime
import logging
import math
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

import anyio
import httpx

__all__ = [
    "AsyncRetryTransport",
    "RetryPolicy",
    "RetryTransport",
    "parse_retry_after",
]

_LOGGER = logging.getLogger("speech_models.retry")

# Header precedence: the millisecond headers are more precise than Retry-After, so they win when present and
# valid (azure-core's order). An invalid value in one header falls through to the next.
_MS_HEADERS = ("retry-after-ms", "x-ms-retry-after-ms")
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
# Errors after which the request may have reached the server: retried only for idempotent methods.
_IDEMPOTENT_ERRORS = (
    httpx.ReadTimeout,
    httpx.ReadError,
    httpx.WriteTimeout,
    httpx.WriteError,
    httpx.RemoteProtocolError,
)
# Errors before the request was sent: always safe to retry.
_CONNECT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout)


def _retry_after_hint(headers: Mapping[str, str], now: float | None = None) -> tuple[float, str] | None:
    """The wait the server asks for, in seconds, with the header it came from; ``None`` when none is valid."""
    for name in _MS_HEADERS:
        raw = headers.get(name)
        if raw is not None:
            try:
                millis = float(raw.strip())
            except ValueError:
                continue
            if math.isfinite(millis) and millis >= 0:
                return millis / 1000.0, name
    raw = headers.get("retry-after")
    if raw is None:
        return None
    raw = raw.strip()
    if raw.isdigit():  # delta-seconds (RFC 9110 section 10.2.3): 1*DIGIT
        return float(raw), "retry-after"
    try:
        seconds = float(raw)  # not RFC 9110, but seen in the wild ("1.5")
    except ValueError:
        pass
    else:
        return (seconds, "retry-after") if math.isfinite(seconds) and seconds >= 0 else None
    try:
        when = parsedate_to_datetime(raw)  # IMF-fixdate, RFC 850 and asctime forms
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # asctime carries no zone; HTTP dates are always GMT
        when = when.replace(tzinfo=datetime.UTC)
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current), "retry-after"


def parse_retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Return the wait a response asks for, in seconds, or ``None`` when it asks for none (or only garbage).

    Reads ``retry-after-ms``, then ``x-ms-retry-after-ms`` (milliseconds), then ``Retry-After`` as delta-seconds or
    an HTTP-date (RFC 9110; a date in the past gives ``0.0``). Negative and unparsable values are ignored.

    Args:
        headers: the response headers (any case-insensitive mapping, such as ``httpx.Headers``).
        now: the current wall-clock time as a POSIX timestamp, for HTTP-dates; defaults to ``time.time()``.
    """
    hint = _retry_after_hint(headers, now)
    return None if hint is None else hint[0]


@dataclass(frozen=True)
class RetryPolicy:
    """When and how long to retry.

    Attributes:
        max_retries: retries after the first attempt (default 3); 0 disables retrying.
        max_wait: the longest single wait, in seconds (default 60). When the server asks for longer, the response
            is returned as it is, so the caller gets a ``RateLimitError`` (or ``ServiceError``) carrying the
            requested wait instead of a call that sleeps for minutes. Computed backoff is clipped to it.
        deadline: seconds from the first attempt after which no retry starts (default 120); ``None`` for none.
        backoff_base: the first backoff, in seconds, used when the server gives no valid wait (default 0.5);
            it doubles with every retry, up to ``backoff_max`` (default 8), with jitter of up to half the value.
        retry_statuses: statuses retried for idempotent requests (default 429, 500, 502, 503, 504); other methods
            are retried only on 429 and 503, which say the request was not processed.
    """

    max_retries: int = 3
    max_wait: float = 60.0
    deadline: float | None = 120.0
    backoff_base: float = 0.5
    backoff_max: float = 8.0
    retry_statuses: frozenset[int] = field(default_factory=lambda: frozenset({429, 500, 502, 503, 504}))

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError("max_retries must be 0 or more")
        if self.max_wait < 0 or (self.deadline is not None and self.deadline < 0):
            raise ValueError("max_wait and deadline must be 0 or more")
        if self.backoff_base < 0 or self.backoff_max < 0:
            raise ValueError("backoff_base and backoff_max must be 0 or more")

    def backoff(self, retry: int, rng: random.Random) -> float:
        """Exponential backoff with jitter for the `retry`-th retry (0-based), clipped to ``max_wait``."""
        ceiling = min(self.backoff_max, self.backoff_base * (2.0**retry), self.max_wait)
        return ceiling / 2 + rng.uniform(0, ceiling / 2)

    def retries_status(self, method: str, status: int) -> bool:
        """Whether a response with `status` to a `method` request is worth another attempt."""
        if method.upper() in _IDEMPOTENT:
            return status in self.retry_statuses
        return status in self.retry_statuses and status in (429, 503)

    def retries_error(self, method: str, error: Exception) -> bool:
        """Whether a transport `error` for a `method` request is worth another attempt."""
        if isinstance(error, _CONNECT_ERRORS):
            return True
        return method.upper() in _IDEMPOTENT and isinstance(error, _IDEMPOTENT_ERRORS)


class _Retrier:
    """The decisions shared by both transports: whether to retry now, and after how long."""

    def __init__(
        self,
        policy: RetryPolicy | None,
        clock: Callable[[], float],
        now: Callable[[], float],
        rng: random.Random | None,
    ) -> None:
        self.policy = policy or RetryPolicy()
        self._clock = clock
        self._now = now
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography

    def start(self) -> float:
        return self._clock()

    def delay_after_response(
        self, request: httpx.Request, response: httpx.Response, retry: int, started: float
    ) -> float | None:
        """Seconds to wait before retrying after `response`, or ``None`` to return it to the caller."""
        if not self.policy.retries_status(request.method, response.status_code):
            return None
        hint = _retry_after_hint(response.headers, self._now())
        if hint is not None and hint[0] > self.policy.max_wait:
            _LOGGER.debug(
                "not retrying %s %s: %d asks to wait %.3fs (%s), over max_wait %.3fs",
                request.method, request.url, response.status_code, hint[0], hint[1], self.policy.max_wait,
            )  # fmt: skip
            return None
        delay, source = hint if hint is not None else (self.policy.backoff(retry, self._rng), "backoff")
        return self._allowed(request, retry, started, delay, f"{response.status_code}, wait from {source}")

    def delay_after_error(self, request: httpx.Request, error: Exception, retry: int, started: float) -> float | None:
        """Seconds to wait before retrying after a transport `error`, or ``None`` to raise it."""
        if not self.policy.retries_error(request.method, error):
            return None
        delay = self.policy.backoff(retry, self._rng)
        return self._allowed(request, retry, started, delay, f"{type(error).__name__}, wait from backoff")

    def _allowed(self, request: httpx.Request, retry: int, started: float, delay: float, reason: str) -> float | None:
        policy = self.policy
        if retry >= policy.max_retries:
            _LOGGER.debug("giving up %s %s after %d retries (%s)", request.method, request.url, retry, reason)
            return None
        if policy.deadline is not None and self._clock() - started + delay > policy.deadline:
            _LOGGER.debug("giving up %s %s: a %.3fs wait would pass the deadline", request.method, request.url, delay)
            return None
        _LOGGER.debug(
            "retrying %s %s in %.3fs (retry %d of %d): %s",
            request.method, request.url, delay, retry + 1, policy.max_retries, reason,
        )  # fmt: skip
        return delay


class RetryTransport(httpx.BaseTransport):
    """An httpx transport that retries through another one, honouring ``Retry-After``.

    Wraps `wrapped` (default ``httpx.HTTPTransport()``) and retries what ``policy`` allows: 429 and 503 always,
    500, 502, 504, connection errors and read timeouts for idempotent methods. The wait is the server's
    (``retry-after-ms``, ``x-ms-retry-after-ms``, ``Retry-After``; see ``parse_retry_after``) or exponential
    backoff with jitter. A response that is not retried, including the last one, is returned unread so the
    client sees it as usual; a transport error that is not retried is raised. Each discarded response is closed
    before the wait. Closing this transport closes the wrapped one.

    Args:
        wrapped: the transport that sends each attempt.
        policy: the retry limits; defaults to ``RetryPolicy()``.
        sleep: how to wait (``time.sleep``); tests pass a fake.
        clock: a monotonic clock for the deadline (``time.monotonic``).
        now: the wall-clock time for HTTP-dates (``time.time``).
        rng: the source of jitter.
    """

    def __init__(
        self,
        wrapped: httpx.BaseTransport | None = None,
        *,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self._wrapped = wrapped or httpx.HTTPTransport()
        self._retrier = _Retrier(policy, clock, now, rng)
        self._sleep = sleep

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        started = self._retrier.start()
        retry = 0
        while True:
            try:
                response = self._wrapped.handle_request(request)
            except httpx.TransportError as exc:
                delay = self._retrier.delay_after_error(request, exc, retry, started)
                if delay is None:
                    raise
            else:
                delay = self._retrier.delay_after_response(request, response, retry, started)
                if delay is None:
                    return response
                response.close()
            self._sleep(delay)
            retry += 1

    def close(self) -> None:
        self._wrapped.close()


class AsyncRetryTransport(httpx.AsyncBaseTransport):
    """The async twin of ``RetryTransport``: the same policy and decisions, waiting with ``anyio.sleep``."""

    def __init__(
        self,
        wrapped: httpx.AsyncBaseTransport | None = None,
        *,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self._wrapped = wrapped or httpx.AsyncHTTPTransport()
        self._retrier = _Retrier(policy, clock, now, rng)
        self._sleep = sleep

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        started = self._retrier.start()
        retry = 0
        while True:
            try:
                response = await self._wrapped.handle_async_request(request)
            except httpx.TransportError as exc:
                delay = self._retrier.delay_after_error(request, exc, retry, started)
                if delay is None:
                    raise
            else:
                delay = self._retrier.delay_after_response(request, response, retry, started)
                if delay is None:
                    return response
                await response.aclose()
            await self._sleep(delay)
            retry += 1

    async def aclose(self) -> None:
        await self._wrapped.aclose()
