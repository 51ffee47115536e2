"""Retries that honour the service's ``Retry-After``, as wrapping httpx transports (sync and async).

Each attempt is whole: the body is read inside the retried region, so a connection closed or timed out in the
middle of a body is retried like one that failed before the headers, and an attempt has one total time budget (a
server that drips a byte a second cannot hold it longer). The decisions are pure (``_Call``); the two transports
only differ in how they wait, read and stop. The caller's request is never written to: each attempt sends a copy.
Clock, wall time, sleep and jitter are injectable so tests never really wait.
"""

from __future__ import annotations

import enum
import inspect
import logging
import math
import random
import sys
import threading
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
    "DECODED_EXTENSION",
    "DECODE_EXTENSION",
    "POLICY_EXTENSION",
    "STOP_EXTENSION",
    "AsyncRetryTransport",
    "CallStopped",
    "RetryEvent",
    "RetryPolicy",
    "RetryTransport",
]

_LOGGER = logging.getLogger("speech_models.retry")

# Request extensions through which a caller gives one call its options; the transport reads them, never writes
# into the caller's request. A call's own retry policy and total attempt time:
POLICY_EXTENSION = "speech_models.retry_policy"
ATTEMPT_TIMEOUT_EXTENSION = "speech_models.attempt_timeout"
# A threading.Event: once set, the (sync) call ends with CallStopped before its next attempt or during its wait.
STOP_EXTENSION = "speech_models.stop"
# A function from a 2xx body to what it decodes to, raising ValueError when it does not decode (then retried);
# what it returned is in the response's DECODED_EXTENSION.
DECODE_EXTENSION = "speech_models.decode"
DECODED_EXTENSION = "speech_models.decoded"

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


class CallStopped(Exception):
    """A call whose caller set its stop event (``STOP_EXTENSION``) ended at its next safe point: before an attempt
    or during a wait. Only the SDK's own fetches ahead use it; their outcome is dropped, never shown."""


class _Attempt:
    """One attempt: its own copy of the request, whose timeouts are the caller's capped to the attempt's total
    budget (the caller's request is never written to: a re-send after a 401 starts from the caller's timeouts)."""

    def __init__(
        self,
        request: httpx.Request,
        timeouts: dict[str, Any],
        seconds: float | None,
        clock: Callable[[], float],
        trace: Any = None,
    ) -> None:
        self._clock = clock
        self._timeouts = timeouts
        self.seconds = seconds
        self._ends = None if seconds is None else clock() + seconds
        extensions = {**request.extensions, "timeout": self._capped(timeouts)}
        if trace is not None:
            extensions["trace"] = trace
        self.request = httpx.Request(
            request.method, request.url, headers=request.headers, stream=request.stream, extensions=extensions
        )

    def _capped(self, timeouts: dict[str, Any], only: str | None = None) -> dict[str, Any]:
        left = self._left()
        if left is None:
            return dict(timeouts)
        return {
            name: (left if value is None else min(value, left)) if only in (None, name) else value
            for name, value in timeouts.items()
        }

    def _left(self) -> float | None:
        return None if self._ends is None else max(0.0, self._ends - self._clock())

    def pool_timeout(self) -> float | None:
        """How long the attempt may wait for a connection."""
        value = self.request.extensions["timeout"].get("pool")
        return None if value is None else float(value)

    def before_body(self) -> None:
        """Cap the read timeout to what the budget leaves (httpcore reads it again when the body starts)."""
        self.request.extensions["timeout"] = self._capped(self.request.extensions["timeout"], only="read")

    def check(self) -> None:
        """Raise ``ReadTimeout`` once the attempt's total budget is spent (a body that drips cannot hold it)."""
        if self._ends is not None and self._clock() >= self._ends:
            raise httpx.ReadTimeout(
                f"the attempt took longer than its {self.seconds:g}s in total", request=self.request
            )


class _Call:
    """One call through a retry transport, as pure decisions: each attempt's budget, whether to retry after a
    response, a body or an error and after how long, and the record the SDK's errors read. It does no I/O."""

    def __init__(self, transport: _Settings, request: httpx.Request) -> None:
        self._settings = transport
        extensions = request.extensions
        self.policy: RetryPolicy = extensions.get(POLICY_EXTENSION) or transport.policy  # a call's own, if any
        self.attempt_timeout: float | None = extensions.get(ATTEMPT_TIMEOUT_EXTENSION, transport.attempt_timeout)
        self.request = request
        self.started = transport.clock()
        self.timeouts: dict[str, Any] = dict(extensions.get("timeout", {}))
        self.retry = 0
        self.gave_up: str | None = None
        self.event: RetryEvent | None = None  # the retry about to be waited for, for on_retry

    def _elapsed(self) -> float:
        return self._settings.clock() - self.started

    def attempt(self, trace: Any = None) -> _Attempt:
        """The next attempt: the attempt timeout, cut to what the deadline leaves."""
        seconds = self.attempt_timeout
        deadline = self.policy.deadline
        if deadline is not None:
            left = max(0.0, deadline - self._elapsed())
            seconds = left if seconds is None else min(seconds, left)
        self._debug("%s %s (attempt %d)", self.request.method, self.request.url, self.retry + 1)
        return _Attempt(self.request, self.timeouts, seconds, self._settings.clock, trace)

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
        hint = retry_after_hint(response.headers, self._settings.now())
        if hint is not None and hint[0] > policy.max_wait:
            self.gave_up = f"the service asked to wait {hint[0]:g}s, over max_wait {policy.max_wait:g}s"
            self._debug(
                "not retrying %s %s: %s (%s)",
                request.method,
                request.url,
                self.gave_up,
                hint[1],
                status_code=response.status_code,
            )
            return None
        delay, source = hint if hint is not None else (policy.backoff(self.retry, self._settings.rng), "backoff")
        return self._allowed(delay, f"{response.status_code}, wait from {source}", response=response)

    def delay_after_body(self, response: httpx.Response, error: ValueError) -> float | None:
        """Seconds to wait before retrying a 2xx `response` whose body did not decode (`error`), or ``None``."""
        if self.request.method.upper() not in _IDEMPOTENT:
            return None
        delay = self.policy.backoff(self.retry, self._settings.rng)
        reason = f"{response.status_code} with a body that does not decode ({type(error).__name__}), wait from backoff"
        return self._allowed(delay, reason, response=response)

    def delay_after_error(self, error: Exception) -> float | None:
        """Seconds to wait before retrying after a transport `error`, or ``None`` to raise it."""
        if not self.policy.retries_error(self.request.method, error):
            return None
        delay = self.policy.backoff(self.retry, self._settings.rng)
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
                "giving up %s %s: %s (%s)",
                request.method,
                request.url,
                self.gave_up,
                reason,
                status_code=status,
                reason=reason,
            )
            return None
        self._debug(
            "retrying %s %s in %.3fs (retry %d of %d): %s",
            request.method,
            request.url,
            delay,
            self.retry + 1,
            policy.max_retries,
            reason,
            status_code=status,
            reason=reason,
            wait=delay,
        )
        self.retry += 1
        if policy.on_retry is not None:
            self.event = RetryEvent(self.retry, delay, reason, request, response, error)
        return delay

    def notify(self) -> object:
        """Call the policy's ``on_retry`` with the retry about to be waited for; return what it returned."""
        event, self.event = self.event, None
        hook = self.policy.on_retry
        return None if event is None or hook is None else hook(event)

    def record(self) -> Attempts:
        """What the SDK's errors say of the call: attempts, seconds, and why retrying stopped."""
        return Attempts(self.retry + 1, self._elapsed(), self.gave_up)

    def failed(self, error: httpx.TransportError, attempt: _Attempt) -> None:
        """Make `error` name the attempt's request, which carries the call's record (the caller's request is not
        written to)."""
        attempt.request.extensions[ATTEMPTS_EXTENSION] = self.record()
        error.request = attempt.request


@dataclass(frozen=True)
class _Settings:
    """A transport's defaults for every call through it (a call may bring its own policy and attempt timeout)."""

    policy: RetryPolicy
    attempt_timeout: float | None
    clock: Callable[[], float]
    now: Callable[[], float]
    rng: random.Random
    tracing: bool

    @classmethod
    def make(
        cls,
        policy: RetryPolicy | None,
        attempt_timeout: float | None,
        clock: Callable[[], float],
        now: Callable[[], float],
        rng: random.Random | None,
        tracing: bool,
    ) -> _Settings:
        if attempt_timeout is not None and not attempt_timeout > 0:
            raise ValueError("attempt_timeout must be a positive number of seconds")
        jitter = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        return cls(policy or RetryPolicy(), attempt_timeout, clock, now, jitter, tracing)


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


def _whole(response: httpx.Response, call: _Call, body: bytes) -> httpx.Response:
    """A response like `response` whose (still encoded) body is `body`, held in memory, for the caller's request."""
    return httpx.Response(
        response.status_code,
        headers=response.headers,
        stream=httpx.ByteStream(body),
        extensions=dict(response.extensions),
        request=call.request,
    )


def _decode(response: httpx.Response, call: _Call) -> ValueError | None:
    """Decode a 2xx body with the request's ``DECODE_EXTENSION`` (what it returns lands in the response's
    ``DECODED_EXTENSION``); the error when it does not decode, else ``None``."""
    decode = call.request.extensions.get(DECODE_EXTENSION)
    if decode is None or not response.is_success:
        return None
    try:
        response.extensions[DECODED_EXTENSION] = decode(response.read())  # in memory: decompressed, if need be
    except ValueError as exc:
        return exc
    return None


def _slot_count(max_connections: int) -> int:
    if isinstance(max_connections, bool) or not isinstance(max_connections, int) or max_connections < 1:
        raise ValueError(f"max_connections must be a positive integer, not {max_connections!r}")
    return max_connections


def _no_slot(attempt: _Attempt) -> httpx.PoolTimeout:
    return httpx.PoolTimeout(
        f"no connection was free within the pool timeout ({attempt.pool_timeout()}s)", request=attempt.request
    )


class RetryTransport(httpx.BaseTransport):
    """An httpx transport that retries through another one, honouring ``Retry-After``.

    Wraps `wrapped` (default ``httpx.HTTPTransport()``) and retries what ``policy`` allows: 429 and 503 always,
    500, 502, 504, connection errors, bodies cut short, read timeouts and 2xx bodies that do not decode (when the
    request says how to decode: ``DECODE_EXTENSION``) for idempotent methods. The wait is the server's
    (``retry-after-ms``, ``x-ms-retry-after-ms``, ``Retry-After``; see ``parse_retry_after``) or exponential backoff
    with jitter. The response returned has its whole body in memory; a transport error that is not retried is
    raised. Each discarded response is closed before the wait. A request whose ``STOP_EXTENSION`` event is set
    ends with ``CallStopped`` before its next attempt or during its wait. Closing this transport closes the
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
        max_connections: the wrapped transport's pool size (``httpx.Limits.max_connections``), when known: at most
            that many attempts are in the wrapped transport at once, and a request waits for a slot here (bounded by
            its pool timeout, ``httpx.PoolTimeout`` past it) instead of in httpcore's pool. There a pool timeout
            that fires as a new connection is assigned to the waiting request strands that connection for good
            (encode/httpcore#550, #681): a storm of pool timeouts while connections close wedges the pool.
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
        max_connections: int | None = None,
    ) -> None:
        self._wrapped = wrapped or httpx.HTTPTransport()
        self._settings = _Settings.make(policy, attempt_timeout, clock, now, rng, tracing)
        self._sleep = sleep
        self._slots = None if max_connections is None else threading.BoundedSemaphore(_slot_count(max_connections))

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        call = _Call(self._settings, request)
        stop: threading.Event | None = request.extensions.get(STOP_EXTENSION)
        while True:
            if stop is not None and stop.is_set():
                raise CallStopped
            attempt = call.attempt()
            tried = Try(attempt.request, call.retry, self._settings.tracing)
            try:
                response, delay = self._exchange(call, attempt)
                if delay is None:
                    bad_body = _decode(response, call)
                    delay = None if bad_body is None else call.delay_after_body(response, bad_body)
                tried.end(response)
                if delay is None:
                    response.extensions[ATTEMPTS_EXTENSION] = call.record()
                    return response
                _sync_hook(call)
            except httpx.TransportError as exc:
                tried.end(error=exc)
                delay = call.delay_after_error(exc)
                if delay is None:
                    call.failed(exc, attempt)
                    raise
                _sync_hook(call)
            except BaseException as exc:
                tried.end(error=exc)
                raise
            self._wait(delay, stop)

    def _wait(self, delay: float, stop: threading.Event | None) -> None:
        if stop is None:
            self._sleep(delay)
            return
        if self._sleep is time.sleep:
            stop.wait(delay)  # the same wait, cut short when the caller stops the call
        else:
            self._sleep(delay)
        if stop.is_set():
            raise CallStopped

    def _exchange(self, call: _Call, attempt: _Attempt) -> tuple[httpx.Response, float | None]:
        """One attempt's exchange with the wrapped transport, in one of its connection slots: the response read
        whole (and the wait ``None``), or, when it is to be retried, closed unread with the wait before the next."""
        if self._slots is not None and not self._slots.acquire(timeout=attempt.pool_timeout()):
            raise _no_slot(attempt)
        try:
            response = self._wrapped.handle_request(attempt.request)
            delay = call.delay_after_response(response)
            if delay is not None:
                response.close()
                return response, delay
            attempt.before_body()
            chunks = []
            try:
                for chunk in response.stream:  # type: ignore[union-attr]
                    chunks.append(chunk)
                    attempt.check()
            finally:
                response.close()
            return _whole(response, call, b"".join(chunks)), None
        finally:
            if self._slots is not None:
                self._slots.release()

    def close(self) -> None:
        self._wrapped.close()


async def async_sleep(seconds: float) -> None:
    """``anyio.sleep``, imported when an async program first waits: a sync program does not load anyio."""
    import anyio

    await anyio.sleep(seconds)


class _Abandoned(Exception):
    """Ends a detached call whose caller was cancelled, at the first point where that is safe."""


class _Phase(enum.Enum):
    """Where a detached async call is, which decides how it is stopped when its caller goes away."""

    QUEUED = "queued"  # waiting for a pool slot: it keeps its place, and stops once it has one
    CONNECTING = "connecting"  # opening a connection: stops before it sends
    SENDING = "sending"  # from the request's first byte: inside httpcore's cleanup, so the scope may be cancelled
    READING = "reading"  # reading the body: cancelled through the scope
    WAITING = "waiting"  # between attempts, or in on_retry: cancelled through the scope


# httpcore trace events (its public ``trace`` extension) that move a send along.
_PHASE_OF_EVENT = {
    "connection.connect_tcp.started": _Phase.CONNECTING,
    "connection.connect_unix_socket.started": _Phase.CONNECTING,
    "http11.send_request_headers.started": _Phase.SENDING,
}
_CANCELLABLE = frozenset({_Phase.SENDING, _Phase.READING, _Phase.WAITING})


class _Detached:
    """A call run apart from its caller's task, so the caller's cancellation never lands inside httpcore.

    httpcore shields its bookkeeping with anyio cancel scopes, which a native ``Task.cancel()`` goes through: a
    cancellation delivered while a response closes, while a request waits for a pool slot, or between connecting
    and sending leaves the pool believing a connection is in use forever (encode/httpcore#1093). So the caller
    awaits the call through ``asyncio.shield`` and, when it is cancelled, calls ``abandon``, which decides by the
    call's one state, its ``_Phase``: a call that has sent nothing stops at its next trace event (before it
    connects or sends); one sending, reading or waiting is cancelled through its anyio cancel scope, which
    httpcore's shields respect. The caller is never held.
    """

    def __init__(self, request: httpx.Request) -> None:
        self.phase = _Phase.QUEUED
        self.abandoned = False
        self._scope: anyio.CancelScope | None = None
        self._user_trace = request.extensions.get("trace")

    async def trace(self, event: str, info: dict[str, Any]) -> None:
        """The trace hook of each attempt's request: a send moves on, or stops before it sends anything."""
        phase = _PHASE_OF_EVENT.get(event)
        if phase is not None:
            if self.abandoned:
                raise _Abandoned
            self._enter(phase)
        if self._user_trace is not None:
            await self._user_trace(event, info)

    def _enter(self, phase: _Phase) -> None:
        self.phase = phase
        if self.abandoned and phase in _CANCELLABLE and self._scope is not None:
            self._scope.cancel()

    def abandon(self) -> None:
        """The caller went away: stop now if the call is cancellable where it is, else at its next trace event."""
        self.abandoned = True
        self._enter(self.phase)

    async def step(self, phase: _Phase, awaitable: Awaitable[Any]) -> Any:
        """Await `awaitable` (a send, a body read, a hook or a wait), starting in `phase`."""
        if self.abandoned:
            if inspect.iscoroutine(awaitable):
                awaitable.close()
            raise _Abandoned
        import anyio

        with anyio.CancelScope() as scope:
            self._scope = scope
            self._enter(phase)
            try:
                return await awaitable
            finally:
                self._scope = None
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


async def _acquire(slots: anyio.Semaphore, attempt: _Attempt) -> None:
    """Take one of the wrapped transport's connection slots, within the attempt's pool timeout."""
    import anyio

    timeout = attempt.pool_timeout()
    with anyio.move_on_after(math.inf if timeout is None else timeout):
        await slots.acquire()
        return
    raise _no_slot(attempt)


class AsyncRetryTransport(httpx.AsyncBaseTransport):
    """The async twin of ``RetryTransport``: the same policy and decisions, waiting with ``anyio.sleep``.

    A task cancelled during an attempt returns at once and leaves no connection behind in the wrapped transport's
    pool: on asyncio the call runs in a task of its own that finishes the attempt's bookkeeping (see ``_Detached``).
    Cancellation replaces ``STOP_EXTENSION`` here: an async fetch ahead is a task, cancelled when it is dropped.
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
        max_connections: int | None = None,
    ) -> None:
        self._wrapped = wrapped or httpx.AsyncHTTPTransport()
        self._settings = _Settings.make(policy, attempt_timeout, clock, now, rng, tracing)
        self._sleep = sleep
        self._slots: anyio.Semaphore | None = None
        if max_connections is not None:
            import anyio

            self._slots = anyio.Semaphore(_slot_count(max_connections))
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
        call = _Call(self._settings, request)
        while True:
            attempt = call.attempt(trace=detached.trace)
            tried = Try(attempt.request, call.retry, self._settings.tracing)
            try:
                response, delay = await self._exchange(call, attempt, detached)
                if delay is None:
                    bad_body = _decode(response, call)
                    delay = None if bad_body is None else call.delay_after_body(response, bad_body)
                tried.end(response)
                if delay is None:
                    response.extensions[ATTEMPTS_EXTENSION] = call.record()
                    return response
                await detached.step(_Phase.WAITING, _async_hook(call))
            except httpx.TransportError as exc:
                tried.end(error=exc)
                delay = call.delay_after_error(exc)
                if delay is None:
                    call.failed(exc, attempt)
                    raise
                await detached.step(_Phase.WAITING, _async_hook(call))
            except BaseException as exc:
                tried.end(error=None if isinstance(exc, _Abandoned) else exc)  # a cancellation is no error
                raise
            await detached.step(_Phase.WAITING, self._sleep(delay))

    async def _exchange(
        self, call: _Call, attempt: _Attempt, detached: _Detached
    ) -> tuple[httpx.Response, float | None]:
        """The async twin of ``RetryTransport._exchange``; waiting for a slot is cancellable (nothing is in
        httpcore's pool yet), the send is a step that keeps its place in the pool."""
        slots = self._slots
        if slots is not None:
            await detached.step(_Phase.WAITING, _acquire(slots, attempt))
        try:
            response: httpx.Response = await detached.step(
                _Phase.QUEUED, self._wrapped.handle_async_request(attempt.request)
            )
            if detached.abandoned:
                await response.aclose()
                raise _Abandoned
            delay = call.delay_after_response(response)
            if delay is not None:
                await response.aclose()
                return response, delay
            whole: httpx.Response = await detached.step(_Phase.READING, self._read(response, call, attempt))
            return whole, None
        finally:
            if slots is not None:
                slots.release()

    @staticmethod
    async def _read(response: httpx.Response, call: _Call, attempt: _Attempt) -> httpx.Response:
        attempt.before_body()
        chunks = []
        try:
            async for chunk in response.stream:  # type: ignore[union-attr]
                chunks.append(chunk)
                attempt.check()
        finally:
            await response.aclose()
        return _whole(response, call, b"".join(chunks))

    async def aclose(self) -> None:
        await self._wrapped.aclose()
