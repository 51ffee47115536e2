"""The sync retry transport: ``RetryTransport`` wraps an httpx transport and retries what ``RetryPolicy`` allows,
each attempt whole (its body read inside the retried region), stopped early when the caller sets the request's
``STOP_EXTENSION`` event."""

from __future__ import annotations

import inspect
import random
import threading
import time
from collections.abc import Callable

import httpx

from ._errors import ATTEMPTS_EXTENSION, ConfigurationError
from ._retry import (
    STOP_EXTENSION,
    Attempt,
    Call,
    CallStopped,
    RetryPolicy,
    Settings,
    no_slot,
    slot_count,
    undecodable,
    whole_response,
)
from ._telemetry import Try
from ._throttle import Throttle

__all__ = ["CLOSE_GRACE", "RetryTransport"]

CLOSE_GRACE = 1.0  # seconds close() gives the attempts under way before it closes the pool under them


def _sync_hook(call: Call) -> None:
    result = call.notify()
    if inspect.isawaitable(result):
        if inspect.iscoroutine(result):
            result.close()
        raise ConfigurationError("RetryPolicy.on_retry is a coroutine function: it needs the async client")


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
        throttle: the client's shared pause, window and rate (see ``_throttle``); by default one of its own. Every
            attempt waits until it admits it; each 429 and each success is told to it.
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
        throttle: Throttle | None = None,
    ) -> None:
        self._wrapped = wrapped or httpx.HTTPTransport()
        self._settings = Settings.make(policy, attempt_timeout, clock, now, rng, tracing, throttle)
        self._sleep = sleep
        self._slots = None if max_connections is None else threading.BoundedSemaphore(slot_count(max_connections))
        self._closed = False
        self._in_flight = 0  # attempts inside the wrapped transport
        self._settled = threading.Condition()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        call = Call(self._settings, request)
        stop: threading.Event | None = request.extensions.get(STOP_EXTENSION)
        while True:
            if stop is not None and stop.is_set():
                raise CallStopped
            while (wait := call.before_send()) > 0:
                self._wait(wait, stop)
            attempt = call.attempt()
            tried = Try(attempt.request, call.retry, self._settings.tracing)
            try:
                response, delay = self._exchange(call, attempt)
                if delay is None:
                    bad_body = undecodable(response, call)
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

    def _exchange(self, call: Call, attempt: Attempt) -> tuple[httpx.Response, float | None]:
        """One attempt's exchange with the wrapped transport, in one of its connection slots: the response read
        whole (and the wait ``None``), or, when it is to be retried, closed unread with the wait before the next."""
        with self._settled:
            if self._closed:  # nothing enters the pool of a closed transport (it would open what none closes)
                raise CallStopped
            self._in_flight += 1
        try:
            return self._exchange_in_flight(call, attempt)
        finally:
            with self._settled:
                self._in_flight -= 1
                self._settled.notify_all()

    def _exchange_in_flight(self, call: Call, attempt: Attempt) -> tuple[httpx.Response, float | None]:
        if self._slots is not None and not self._slots.acquire(timeout=attempt.pool_timeout()):
            raise no_slot(attempt)
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
            return whole_response(response, call, b"".join(chunks)), None
        finally:
            if self._slots is not None:
                self._slots.release()

    def close(self) -> None:
        """Refuse new attempts, give those under way (a stopped fetch ahead, say) up to a second to end, then close
        the wrapped transport: an attempt still connecting when its pool closes would leave a socket open."""
        with self._settled:
            self._closed = True
            self._settled.wait_for(lambda: self._in_flight == 0, timeout=CLOSE_GRACE)
        self._wrapped.close()
