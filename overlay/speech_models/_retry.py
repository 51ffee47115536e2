"""Retries that honour the service's ``Retry-After``, as wrapping httpx transports (sync and async).

Each attempt is whole: the body is read inside the retried region, so a connection closed or timed out in the
middle of a body is retried like one that failed before the headers, and an attempt has one total time budget (a
server that drips a byte a second cannot hold it longer). The decisions are pure (``_Retrier``); the two transports
only differ in how they wait and read. Clock, wall time, sleep and jitter are injectable so tests never really wait.
"""

from __future__ import annotations

import inspect
import logging
import random
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported where an async call runs: a sync program loads neither
    import asyncio

    import anyio

import httpx

from ._config import CLIENT_REQUEST_ID_HEADER
from ._errors import ATTEMPTS_EXTENSION, Attempts, ConfigurationError
from ._headers import retry_after_hint
from ._telemetry import Try

__all__ = [
    "ATTEMPT_TIMEOUT_EXTENSION",
    "POLICY_EXTENSION",
    "AsyncRetryTransport",
    "RetryEvent",
    "RetryPolicy",
    "RetryTransport",
]

_LOGGER = logging.getLogger("speech_models.retry")

# Request extensions through which one call brings its own retry policy and total attempt time (per-call options).
POLICY_EXTENSION = "speech_models.retry_policy"
ATTEMPT_TIMEOUT_EXTENSION = "speech_models.attempt_timeout"

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


@dataclass(frozen=True)
class RetryEvent:
    """What ``RetryPolicy.on_retry`` is told before each wait.

    Attributes:
        attempt: the attempt that failed, counted from 1.
        wait: the seconds about to be waited before the next attempt.
        reason: why, as the debug log says it (``"429, wait from retry-after"``, ``"ConnectError, wait from
            backoff"``).
        request: the request (its secret headers are live: do not log them).
        response: the response that is retried (its headers; its body is not read), or ``None``.
        error: the transport error that is retried, or ``None``.
    """

    attempt: int
    wait: float
    reason: str
    request: httpx.Request
    response: httpx.Response | None = None
    error: Exception | None = None


@dataclass(frozen=True)
class RetryPolicy:
    """When and how long to retry.

    Attributes:
        max_retries: retries after the first attempt (default 3); 0 disables retrying.
        max_wait: the longest single wait, in seconds (default 60). When the server asks for longer, the response
            is returned as it is, so the caller gets a ``RateLimitError`` (or ``ServiceError``) carrying the
            requested wait instead of a call that sleeps for minutes. Computed backoff is clipped to it.
        deadline: seconds that bound the whole call, attempts and waits included (default 120); no wait may
            end past it and the last attempt gets only what is left of it. ``None`` for no bound.
        backoff_base: the first backoff, in seconds, used when the server gives no valid wait (default 0.5);
            it doubles with every retry, up to ``backoff_max`` (default 8), with jitter of up to half the value.
        retry_statuses: statuses retried for idempotent requests (default 429, 500, 502, 503, 504); other methods
            are retried only on 429 and 503, which say the request was not processed.
        on_retry: called with a ``RetryEvent`` before each wait: a plain function, or (async client only) a
            coroutine function, awaited. An exception it raises ends the call and reaches the caller as it is.
    """

    max_retries: int = 3
    max_wait: float = 60.0
    deadline: float | None = 120.0
    backoff_base: float = 0.5
    backoff_max: float = 8.0
    retry_statuses: frozenset[int] = field(default_factory=lambda: frozenset({429, 500, 502, 503, 504}))
    on_retry: Callable[[RetryEvent], object] | None = field(default=None, compare=False)

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


class _Budget:
    """The time one attempt may take in total: the attempt timeout, cut to what the call's deadline leaves."""

    def __init__(self, clock: Callable[[], float], seconds: float | None) -> None:
        self._clock = clock
        self.seconds = seconds
        self._ends = None if seconds is None else clock() + seconds

    def remaining(self) -> float | None:
        return None if self._ends is None else max(0.0, self._ends - self._clock())

    def limit(self, request: httpx.Request, timeouts: dict[str, Any], only: str | None = None) -> None:
        """Cap the request's per-operation httpx timeouts (all, or `only` one) to what is left of the budget."""
        left = self.remaining()
        if left is None:
            return
        capped = dict(request.extensions.get("timeout", timeouts))
        for name, value in timeouts.items():
            if only is None or name == only:
                capped[name] = left if value is None else min(value, left)
        request.extensions["timeout"] = capped  # httpcore reads it when it connects and when the body starts

    def check(self, request: httpx.Request) -> None:
        if self._ends is not None and self._clock() >= self._ends:
            raise httpx.ReadTimeout(f"the attempt took longer than its {self.seconds:g}s in total", request=request)


class _Retrier:
    """The decisions shared by both transports: whether to retry now, after how long, and the call's record."""

    def __init__(
        self,
        policy: RetryPolicy | None,
        attempt_timeout: float | None,
        clock: Callable[[], float],
        now: Callable[[], float],
        rng: random.Random | None,
        tracing: bool = True,
    ) -> None:
        self.policy = policy or RetryPolicy()
        self.tracing = tracing
        if attempt_timeout is not None and not attempt_timeout > 0:
            raise ValueError("attempt_timeout must be a positive number of seconds")
        self.attempt_timeout = attempt_timeout
        self.clock = clock
        self.now = now
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography


class _Call:
    """One call through a retry transport: its attempts, its deadline, its decisions and its record."""

    def __init__(self, retrier: _Retrier, request: httpx.Request) -> None:
        self._retrier = retrier
        extensions = request.extensions
        self.policy: RetryPolicy = extensions.get(POLICY_EXTENSION) or retrier.policy  # a call's own, if it has one
        self.attempt_timeout: float | None = extensions.get(ATTEMPT_TIMEOUT_EXTENSION, retrier.attempt_timeout)
        self.request = request
        self.started = retrier.clock()
        self.timeouts: dict[str, Any] = dict(extensions.get("timeout", {}))
        self.retry = 0
        self.gave_up: str | None = None
        self.event: RetryEvent | None = None  # the retry about to be waited for, for on_retry

    def _elapsed(self) -> float:
        return self._retrier.clock() - self.started

    def attempt(self) -> _Budget:
        """Start an attempt: its budget, the request's timeouts capped to it, a debug line."""
        seconds = self.attempt_timeout
        deadline = self.policy.deadline
        if deadline is not None:
            left = max(0.0, deadline - self._elapsed())
            seconds = left if seconds is None else min(seconds, left)
        budget = _Budget(self._retrier.clock, seconds)
        budget.limit(self.request, self.timeouts)
        self._debug("%s %s (attempt %d)", self.request.method, self.request.url, self.retry + 1)
        return budget

    def _debug(self, message: str, *args: object, **fields: object) -> None:
        """A debug line with the call's fields in ``extra`` (for JSON log handlers); nothing is built unless the
        logger takes debug lines, since this runs on every attempt."""
        if _LOGGER.isEnabledFor(logging.DEBUG):
            request = self.request
            extra = {
                "client_request_id": request.headers.get(CLIENT_REQUEST_ID_HEADER),
                "http_method": request.method,
                "attempt": self.retry + 1,
                **fields,
            }
            _LOGGER.debug(message, *args, extra=extra)

    def delay_after_response(self, response: httpx.Response) -> float | None:
        """Seconds to wait before retrying after `response`, or ``None`` to return it to the caller."""
        request, policy = self.request, self.policy
        if not policy.retries_status(request.method, response.status_code):
            return None
        hint = retry_after_hint(response.headers, self._retrier.now())
        if hint is not None and hint[0] > policy.max_wait:
            self.gave_up = f"the service asked to wait {hint[0]:g}s, over max_wait {policy.max_wait:g}s"
            self._debug(
                "not retrying %s %s: %s (%s)", request.method, request.url, self.gave_up, hint[1],
                status_code=response.status_code,
            )  # fmt: skip
            return None
        delay, source = hint if hint is not None else (policy.backoff(self.retry, self._retrier.rng), "backoff")
        return self._allowed(delay, f"{response.status_code}, wait from {source}", response=response)

    def delay_after_error(self, error: Exception) -> float | None:
        """Seconds to wait before retrying after a transport `error`, or ``None`` to raise it."""
        if not self.policy.retries_error(self.request.method, error):
            return None
        delay = self.policy.backoff(self.retry, self._retrier.rng)
        return self._allowed(delay, f"{type(error).__name__}, wait from backoff", error=error)

    def _allowed(
        self,
        delay: float,
        reason: str,
        response: httpx.Response | None = None,
        error: Exception | None = None,
    ) -> float | None:
        request, policy = self.request, self.policy
        if self.retry >= policy.max_retries:
            self.gave_up = f"max_retries {policy.max_retries} reached"
        elif policy.deadline is not None and self._elapsed() + delay >= policy.deadline:
            self.gave_up = f"a {delay:.3f}s wait would pass the {policy.deadline:g}s deadline"
        status = None if response is None else response.status_code
        if self.gave_up is not None:
            self._debug(
                "giving up %s %s: %s (%s)", request.method, request.url, self.gave_up, reason,
                status_code=status, reason=reason,
            )  # fmt: skip
            return None
        self._debug(
            "retrying %s %s in %.3fs (retry %d of %d): %s",
            request.method, request.url, delay, self.retry + 1, policy.max_retries, reason,
            status_code=status, reason=reason, wait=delay,
        )  # fmt: skip
        self.retry += 1
        if policy.on_retry is not None:
            self.event = RetryEvent(self.retry, delay, reason, request, response, error)
        return delay

    def notify(self) -> object:
        """Call the policy's ``on_retry`` with the retry about to be waited for; return what it returned."""
        event, self.event = self.event, None
        hook = self.policy.on_retry
        return None if event is None or hook is None else hook(event)

    def record(self) -> None:
        """Leave the call's record on the request, where the SDK's errors read it."""
        self.request.extensions[ATTEMPTS_EXTENSION] = Attempts(self.retry + 1, self._elapsed(), self.gave_up)


def _sync_hook(call: _Call) -> None:
    result = call.notify()
    if inspect.isawaitable(result):
        if inspect.iscoroutine(result):
            result.close()
        raise ConfigurationError("RetryPolicy.on_retry is a coroutine function: it needs the async client")


async def _async_hook(call: _Call) -> None:
    result = call.notify()
    if inspect.isawaitable(result):
        await result


def _whole(response: httpx.Response, request: httpx.Request, body: bytes) -> httpx.Response:
    """A response like `response` whose (still encoded) body is `body`, held in memory."""
    return httpx.Response(
        response.status_code,
        headers=response.headers,
        stream=httpx.ByteStream(body),
        extensions=response.extensions,
        request=request,
    )


class RetryTransport(httpx.BaseTransport):
    """An httpx transport that retries through another one, honouring ``Retry-After``.

    Wraps `wrapped` (default ``httpx.HTTPTransport()``) and retries what ``policy`` allows: 429 and 503 always,
    500, 502, 504, connection errors, bodies cut short and read timeouts for idempotent methods. The wait is the
    server's (``retry-after-ms``, ``x-ms-retry-after-ms``, ``Retry-After``; see ``parse_retry_after``) or
    exponential backoff with jitter. The response returned has its whole body in memory; a transport error that is
    not retried is raised. Each discarded response is closed before the wait. Closing this transport closes the
    wrapped one.

    Args:
        wrapped: the transport that sends each attempt.
        policy: the retry limits; defaults to ``RetryPolicy()``.
        attempt_timeout: seconds each attempt may take in total, body included (``None``: only httpx's
            per-operation timeouts apply).
        sleep: how to wait (``time.sleep``); tests pass a fake.
        clock: a monotonic clock for budgets and the deadline (``time.monotonic``).
        now: the wall-clock time for HTTP-dates (``time.time``).
        rng: the source of jitter.
        tracing: make an OpenTelemetry CLIENT span and a duration point for each try (when opentelemetry-api is
            installed; see ``_telemetry``).
    """

    def __init__(
        self,
        wrapped: httpx.BaseTransport | None = None,
        *,
        policy: RetryPolicy | None = None,
        attempt_timeout: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], float] = time.time,
        rng: random.Random | None = None,
        tracing: bool = True,
    ) -> None:
        self._wrapped = wrapped or httpx.HTTPTransport()
        self._retrier = _Retrier(policy, attempt_timeout, clock, now, rng, tracing)
        self._sleep = sleep

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        call = _Call(self._retrier, request)
        try:
            while True:
                budget = call.attempt()
                tried = Try(request, call.retry, self._retrier.tracing)
                try:
                    response = self._wrapped.handle_request(request)
                    delay = call.delay_after_response(response)
                    if delay is None:
                        response = self._read(response, call, budget)
                        tried.end(response)
                        return response
                    tried.end(response)
                    try:
                        _sync_hook(call)
                    finally:
                        response.close()
                except httpx.TransportError as exc:
                    tried.end(error=exc)
                    delay = call.delay_after_error(exc)
                    if delay is None:
                        raise
                    _sync_hook(call)
                except BaseException as exc:
                    tried.end(error=exc)
                    raise
                self._sleep(delay)
        finally:
            call.record()

    @staticmethod
    def _read(response: httpx.Response, call: _Call, budget: _Budget) -> httpx.Response:
        request = call.request
        budget.limit(request, call.timeouts, only="read")
        chunks = []
        try:
            for chunk in response.stream:  # type: ignore[union-attr]
                chunks.append(chunk)
                budget.check(request)
        finally:
            response.close()
        return _whole(response, request, b"".join(chunks))

    def close(self) -> None:
        self._wrapped.close()


async def async_sleep(seconds: float) -> None:
    """``anyio.sleep``, imported when an async program first waits: a sync program does not load anyio."""
    import anyio

    await anyio.sleep(seconds)


class _Abandoned(Exception):
    """Ends a detached call whose caller was cancelled, at the first point where that is safe."""


# httpcore trace events before which a request holds a pool slot but has sent nothing: an abandoned call stops
# there by raising, which httpcore handles as a failed connect or send (the connection is closed and reaped).
_STOP_BEFORE = frozenset(
    {"connection.connect_tcp.started", "connection.connect_unix_socket.started", "http11.send_request_headers.started"}
)
# From this event on, an HTTP/1.1 attempt runs inside httpcore's cleanup handler: cancelling it is safe.
_CANCELLABLE_FROM = "http11.send_request_headers.started"


class _Detached:
    """A call run apart from its caller's task, so the caller's cancellation never lands inside httpcore.

    httpcore shields its bookkeeping with anyio cancel scopes, which a native ``Task.cancel()`` goes through: a
    cancellation delivered while a response closes, while a request waits for a pool slot, or between connecting
    and sending leaves the pool believing a connection is in use forever (encode/httpcore#1093). So the caller
    awaits the call through ``asyncio.shield`` and, when it is cancelled, marks the call abandoned. The call then
    ends at its next safe point, through httpcore's public ``trace`` extension and anyio cancel scopes (which
    httpcore's shields respect): a request that has sent nothing stops before it connects or sends; one being sent
    or read, or a wait between attempts, is cancelled through the scope. A request still queued for a pool slot
    keeps its place (bounded by the pool timeout) and stops as soon as it gets one. The caller is never held.
    """

    def __init__(self, request: httpx.Request) -> None:
        self.abandoned = False
        self._scope: anyio.CancelScope | None = None
        self._cancellable = False
        self._user_trace = request.extensions.get("trace")
        request.extensions["trace"] = self._trace

    async def _trace(self, event: str, info: dict[str, Any]) -> None:
        if event in _STOP_BEFORE:
            if self.abandoned:
                raise _Abandoned
            if event == _CANCELLABLE_FROM:
                self._cancellable = True
        if self._user_trace is not None:
            await self._user_trace(event, info)

    def abandon(self) -> None:
        self.abandoned = True
        if self._scope is not None and self._cancellable:
            self._scope.cancel()

    async def step(self, awaitable: Awaitable[Any], *, cancellable: bool) -> Any:
        """Await `awaitable` (a send, a body read or a wait); abandoning the call interrupts it once it is
        `cancellable` (a send becomes so when it starts sending)."""
        if self.abandoned:
            if inspect.iscoroutine(awaitable):
                awaitable.close()
            raise _Abandoned
        import anyio

        with anyio.CancelScope() as scope:
            self._scope, self._cancellable = scope, cancellable
            try:
                return await awaitable
            finally:
                self._scope, self._cancellable = None, False
        raise _Abandoned  # the scope caught the cancellation


def _on_asyncio() -> bool:
    running = sys.modules.get("asyncio")  # not imported: no asyncio loop runs (and a sync program never loads it)
    if running is None:
        return False
    try:
        running.get_running_loop()
    except RuntimeError:  # another event loop (trio): its cancellation respects httpcore's shields
        return False
    return True


class AsyncRetryTransport(httpx.AsyncBaseTransport):
    """The async twin of ``RetryTransport``: the same policy and decisions, waiting with ``anyio.sleep``.

    A task cancelled during an attempt returns at once and leaves no connection behind in the wrapped transport's
    pool: on asyncio the call runs in a task of its own that finishes the attempt's bookkeeping (see ``_Detached``).
    """

    def __init__(
        self,
        wrapped: httpx.AsyncBaseTransport | None = None,
        *,
        policy: RetryPolicy | None = None,
        attempt_timeout: float | None = None,
        sleep: Callable[[float], Awaitable[None]] = async_sleep,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], float] = time.time,
        rng: random.Random | None = None,
        tracing: bool = True,
    ) -> None:
        self._wrapped = wrapped or httpx.AsyncHTTPTransport()
        self._retrier = _Retrier(policy, attempt_timeout, clock, now, rng, tracing)
        self._sleep = sleep
        self._calls: set[asyncio.Task[httpx.Response]] = set()  # strong references to the running calls

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        detached = _Detached(request)
        if not _on_asyncio():
            return await self._call(request, detached)
        import asyncio

        task = asyncio.get_running_loop().create_task(self._call(request, detached))
        self._calls.add(task)
        task.add_done_callback(self._settled)
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            detached.abandon()
            raise

    def _settled(self, task: asyncio.Task[httpx.Response]) -> None:
        self._calls.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved: an abandoned call's outcome has no one to go to

    async def _call(self, request: httpx.Request, detached: _Detached) -> httpx.Response:
        call = _Call(self._retrier, request)
        try:
            while True:
                budget = call.attempt()
                tried = Try(request, call.retry, self._retrier.tracing)
                try:
                    response: httpx.Response = await detached.step(
                        self._wrapped.handle_async_request(request), cancellable=False
                    )
                    if detached.abandoned:
                        await response.aclose()
                        raise _Abandoned
                    delay = call.delay_after_response(response)
                    if delay is None:
                        whole: httpx.Response = await detached.step(
                            self._read(response, call, budget), cancellable=True
                        )
                        tried.end(whole)
                        return whole
                    tried.end(response)
                    try:
                        await detached.step(_async_hook(call), cancellable=True)
                    finally:
                        await response.aclose()
                except httpx.TransportError as exc:
                    tried.end(error=exc)
                    delay = call.delay_after_error(exc)
                    if delay is None:
                        raise
                    await detached.step(_async_hook(call), cancellable=True)
                except BaseException as exc:
                    tried.end(error=None if isinstance(exc, _Abandoned) else exc)  # a cancellation is no error
                    raise
                await detached.step(self._sleep(delay), cancellable=True)
        finally:
            call.record()

    @staticmethod
    async def _read(response: httpx.Response, call: _Call, budget: _Budget) -> httpx.Response:
        request = call.request
        budget.limit(request, call.timeouts, only="read")
        chunks = []
        try:
            async for chunk in response.stream:  # type: ignore[union-attr]
                chunks.append(chunk)
                budget.check(request)
        finally:
            await response.aclose()
        return _whole(response, request, b"".join(chunks))

    async def aclose(self) -> None:
        await self._wrapped.aclose()
