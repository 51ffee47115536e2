"""Mount the emulator in-process: httpx's ``ASGITransport`` for async clients, ``SyncASGITransport`` for sync ones.

No socket is opened. Use ``http://127.0.0.1`` as the endpoint so SDKs that allow plain http on loopback only
accept it.
"""

from __future__ import annotations

import contextlib
from typing import Any

import anyio.from_thread
import httpx

__all__ = ["SyncASGITransport"]


class SyncASGITransport(httpx.BaseTransport):
    """A sync httpx transport that runs an ASGI app in-process, on an event loop in a helper thread.

    httpx ships only an async ASGI transport; this one lets a plain ``httpx.Client`` (and so a sync SDK) call the
    app. Request bodies must be bytes (as for every GET). Close the transport (or the client) to stop the thread.
    """

    def __init__(self, app: Any) -> None:
        self._transport = httpx.ASGITransport(app)
        self._stack = contextlib.ExitStack()
        self._portal: anyio.from_thread.BlockingPortal | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self._portal is None:
            self._portal = self._stack.enter_context(anyio.from_thread.start_blocking_portal())

        async def send() -> httpx.Response:
            response = await self._transport.handle_async_request(request)
            content = await response.aread()
            return httpx.Response(response.status_code, headers=response.headers, content=content)

        return self._portal.call(send)

    def close(self) -> None:
        self._portal = None
        self._stack.close()
