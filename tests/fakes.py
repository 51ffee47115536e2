"""Fakes shared by the tests: time that passes only when the code under test reads or sleeps, and transports
that trace each step of a request."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx


class FakeClock:
    """A monotonic clock that moves `step` seconds each time it is read, and by every sleep."""

    def __init__(self, step: float = 0.0) -> None:
        self.now = 1000.0
        self.step = step
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        self.now += self.step
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)


class Traced(httpx.AsyncBaseTransport):
    """Hands every request to `wrapped` with httpcore's ``trace`` callback set (a public extension), so a test sees,
    or acts at, each step of a request: connect, send, receive, close."""

    def __init__(
        self, wrapped: httpx.AsyncBaseTransport, trace: Callable[[str, dict[str, Any]], Awaitable[None]]
    ) -> None:
        self.wrapped = wrapped
        self._trace = trace

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        earlier = request.extensions.get("trace")  # the SDK's own, which must still see every step

        async def both(name: str, info: dict[str, Any]) -> None:
            await self._trace(name, info)
            if earlier is not None:
                await earlier(name, info)

        request.extensions["trace"] = both
        return await self.wrapped.handle_async_request(request)

    async def aclose(self) -> None:
        await self.wrapped.aclose()


class SyncTraced(httpx.BaseTransport):
    """The sync twin of ``Traced``."""

    def __init__(self, wrapped: httpx.BaseTransport, trace: Callable[[str, dict[str, Any]], None]) -> None:
        self.wrapped = wrapped
        self._trace = trace

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        earlier = request.extensions.get("trace")

        def both(name: str, info: dict[str, Any]) -> None:
            self._trace(name, info)
            if earlier is not None:
                earlier(name, info)

        request.extensions["trace"] = both
        return self.wrapped.handle_request(request)

    def close(self) -> None:
        self.wrapped.close()
