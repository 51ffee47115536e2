"""Retry policy and the decisions of one call, shared by the sync and async retry transports (``_retry_transport``,
``_async_retry_transport``).

``RetryPolicy`` says when and how long to retry. ``Call`` decides, without I/O, each attempt's budget, whether to
retry after a response, an undecodable body or an error and after how long, and the record the SDK's errors read.
``Attempt`` is one attempt's own copy of the request, whose timeouts are the caller's cut to the attempt's budget:
the caller's request is never written to. The request extensions here are how a caller gives one call its options.
"""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from ._config import CLIENT_REQUEST_ID_HEADER
from ._errors import ATTEMPTS_EXTENSION, Attempts
from ._headers import retry_after_hint
from ._throttle import Throttle

__all__ = [
    "ATTEMPT_TIMEOUT_EXTENSION",
    "DECODED_EXTENSION",
    "DECODE_EXTENSION",
    "POLICY_EXTENSION",
    "STOP_EXTENSION",
    "Attempt",
    "Call",
    "CallStopped",
    "RetryEvent",
    "RetryPolicy",
    "Settings",
    "no_slot",
    "slot_count",
    "undecodable",
    "whole_response",
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
    """A call whose caller set its stop event (``STOP_EXTENSION``) ended at its next safe point, before an attempt
    or during a wait; or a call that reached its retry transport after the transport was closed. The SDK's own
    fetches ahead meet it; their outcome is dropped, never shown (a listing of a closed client raises
    ``ClientClosedError``)."""


class Attempt:
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


class Call:
    """One call through a retry transport, as pure decisions: each attempt's budget, whether to retry after a
    response, a body or an error and after how long, and the record the SDK's errors read. It does no I/O."""

    def __init__(self, transport: Settings, request: httpx.Request) -> None:
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
        self.epoch = 0  # the client's throttle epoch when the attempt under way was sent
        self.sent_at: float | None = None  # when the throttle counted it as sent (with a rate or a share)
        self.waited_until = -math.inf  # the latest instant this call has waited until (a pause or a retry)

    def before_send(self) -> float:
        """Seconds to wait before the next attempt may be sent, by the client's throttle (0: send it now; it is
        counted against the client's rate). A pause that would outlast the call's ``max_wait`` or deadline is
        sent through (the service answers for itself); a rate that leaves no send before the deadline ends the
        call with ``httpx.PoolTimeout``."""
        throttle = self._settings.throttle
        wait, why, self.sent_at = throttle.admit()
        if why == "pause" and not (wait <= self.policy.max_wait and self._before_deadline(wait)):
            self._debug("not waiting out the client's %.3fs pause after a 429: past max_wait or the deadline", wait)
            wait, why, self.sent_at = throttle.admit(pause=False)
        if why == "pause":
            ends = self._settings.clock() + wait
            if ends <= self.waited_until:
                # the pause this call has slept through already: a sleep that did not move the clock (a test's
                # fake) must not make it spin until the real clock catches up
                wait, why, self.sent_at = throttle.admit(pause=False)
            self.waited_until = max(self.waited_until, ends)
        if why == "rate" and not self._before_deadline(wait):
            deadline = self.policy.deadline
            self.gave_up = f"rate_limit {throttle.rate_limit} leaves no send before the {deadline:g}s deadline"
            extensions = {**self.request.extensions, ATTEMPTS_EXTENSION: self.record()}
            request = httpx.Request(
                self.request.method, self.request.url, headers=self.request.headers, extensions=extensions
            )
            raise httpx.PoolTimeout(f"the client's {self.gave_up}", request=request)
        if wait == 0:
            self.epoch = throttle.epoch
        return wait

    def _before_deadline(self, wait: float) -> bool:
        deadline = self.policy.deadline
        return deadline is None or self._elapsed() + wait < deadline

    def _elapsed(self) -> float:
        return self._settings.clock() - self.started

    def attempt(self, trace: Any = None) -> Attempt:
        """The next attempt: the attempt timeout, cut to what the deadline leaves."""
        seconds = self.attempt_timeout
        deadline = self.policy.deadline
        if deadline is not None:
            left = max(0.0, deadline - self._elapsed())
            seconds = left if seconds is None else min(seconds, left)
        self._debug("%s %s (attempt %d)", self.request.method, self.request.url, self.retry + 1)
        return Attempt(self.request, self.timeouts, seconds, self._settings.clock, trace)

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
        hint = None
        if response.status_code == 429:
            hint = retry_after_hint(response.headers, self._settings.now())
            self._settings.throttle.throttled(None if hint is None else hint[0], self.epoch, self.sent_at)
        elif response.is_success:
            self._settings.throttle.succeeded(self.epoch)
        if not policy.retries_status(request.method, response.status_code):
            return None
        if response.status_code != 429:
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
        # this wait covers any pause of the client that ends by then
        self.waited_until = max(self.waited_until, self._settings.clock() + delay)
        return delay

    def notify(self) -> object:
        """Call the policy's ``on_retry`` with the retry about to be waited for; return what it returned."""
        event, self.event = self.event, None
        hook = self.policy.on_retry
        return None if event is None or hook is None else hook(event)

    def record(self) -> Attempts:
        """What the SDK's errors say of the call: attempts, seconds, and why retrying stopped."""
        return Attempts(self.retry + 1, self._elapsed(), self.gave_up)

    def failed(self, error: httpx.TransportError, attempt: Attempt) -> None:
        """Make `error` name the attempt's request, which carries the call's record (the caller's request is not
        written to)."""
        attempt.request.extensions[ATTEMPTS_EXTENSION] = self.record()
        error.request = attempt.request


@dataclass(frozen=True)
class Settings:
    """A transport's defaults for every call through it (a call may bring its own policy and attempt timeout)."""

    policy: RetryPolicy
    attempt_timeout: float | None
    clock: Callable[[], float]
    now: Callable[[], float]
    rng: random.Random
    tracing: bool
    throttle: Throttle

    @classmethod
    def make(
        cls,
        policy: RetryPolicy | None,
        attempt_timeout: float | None,
        clock: Callable[[], float],
        now: Callable[[], float],
        rng: random.Random | None,
        tracing: bool,
        throttle: Throttle | None = None,
    ) -> Settings:
        if attempt_timeout is not None and not attempt_timeout > 0:
            raise ValueError("attempt_timeout must be a positive number of seconds")
        jitter = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        return cls(policy or RetryPolicy(), attempt_timeout, clock, now, jitter, tracing, throttle or Throttle(clock))


def whole_response(response: httpx.Response, call: Call, body: bytes) -> httpx.Response:
    """A response like `response` whose (still encoded) body is `body`, held in memory, for the caller's request."""
    return httpx.Response(
        response.status_code,
        headers=response.headers,
        stream=httpx.ByteStream(body),
        extensions=dict(response.extensions),
        request=call.request,
    )


def undecodable(response: httpx.Response, call: Call) -> ValueError | None:
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


def slot_count(max_connections: int) -> int:
    if isinstance(max_connections, bool) or not isinstance(max_connections, int) or max_connections < 1:
        raise ValueError(f"max_connections must be a positive integer, not {max_connections!r}")
    return max_connections


def no_slot(attempt: Attempt) -> httpx.PoolTimeout:
    return httpx.PoolTimeout(
        f"no connection was free within the pool timeout ({attempt.pool_timeout()}s)", request=attempt.request
    )
