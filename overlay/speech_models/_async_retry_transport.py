"""The async retry transport: ``AsyncRetryTransport``, the twin of ``RetryTransport`` with the same policy and
decisions, whose calls run apart from their callers on asyncio so that a caller's cancellation never lands inside
httpcore (see ``_Detached``)."""

from __future__ import annotations

import enum
import inspect
import math
import random
import sys
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported where an async call runs: a sync program loads neither
    import asyncio

    import anyio

import httpx

from ._errors import ATTEMPTS_EXTENSION
from ._retry import Attempt, Call, CallStopped, RetryPolicy, Settings, no_slot, slot_count, undecodable, whole_response
from ._retry_transport import CLOSE_GRACE
from ._telemetry import Try
from ._throttle import Throttle

__all__ = ["AsyncRetryTransport", "async_sleep"]


async def _async_hook(call: Call) -> None:
    result = call.notify()
    if inspect.isawaitable(result):
        await result


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


async def _acquire(slots: anyio.Semaphore, attempt: Attempt) -> None:
    """Take one of the wrapped transport's connection slots, within the attempt's pool timeout."""
    import anyio

    timeout = attempt.pool_timeout()
    with anyio.move_on_after(math.inf if timeout is None else timeout):
        await slots.acquire()
        return
    raise no_slot(attempt)


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
        throttle: Throttle | None = None,
    ) -> None:
        self._wrapped = wrapped or httpx.AsyncHTTPTransport()
        self._settings = Settings.make(policy, attempt_timeout, clock, now, rng, tracing, throttle)
        self._sleep = sleep
        self._closed = False
        self._slots: anyio.Semaphore | None = None
        if max_connections is not None:
            import anyio

            self._slots = anyio.Semaphore(slot_count(max_connections))
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
        call = Call(self._settings, request)
        while True:
            while (wait := call.before_send()) > 0:
                await detached.step(_Phase.WAITING, self._sleep(wait))
            attempt = call.attempt(trace=detached.trace)
            tried = Try(attempt.request, call.retry, self._settings.tracing)
            try:
                response, delay = await self._exchange(call, attempt, detached)
                if delay is None:
                    bad_body = undecodable(response, call)
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

    async def _exchange(self, call: Call, attempt: Attempt, detached: _Detached) -> tuple[httpx.Response, float | None]:
        """The async twin of ``RetryTransport._exchange``; waiting for a slot is cancellable (nothing is in
        httpcore's pool yet), the send is a step that keeps its place in the pool."""
        if self._closed:  # nothing enters the pool of a closed transport (it would open what none closes)
            raise CallStopped
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
    async def _read(response: httpx.Response, call: Call, attempt: Attempt) -> httpx.Response:
        attempt.before_body()
        chunks = []
        try:
            async for chunk in response.stream:  # type: ignore[union-attr]
                chunks.append(chunk)
                attempt.check()
        finally:
            await response.aclose()
        return whole_response(response, call, b"".join(chunks))

    async def aclose(self) -> None:
        """Refuse new attempts, give the calls under way (an abandoned one, say) up to a second to end, then close
        the wrapped transport: a call still connecting when its pool closes would leave a socket open."""
        self._closed = True
        under_way = [task for task in self._calls if not task.done()]
        if under_way:  # detached calls exist on asyncio only
            import asyncio

            await asyncio.wait(under_way, timeout=CLOSE_GRACE)
        await self._wrapped.aclose()
