"""Serve the emulator with uvicorn on a loopback port, in a background thread, for tests, demos and scripts."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import h11
import uvicorn
from starlette.applications import Starlette
from uvicorn.protocols.http.h11_impl import H11Protocol

from .app import HANGUP_EXTENSION, EmulatorState, create_app

__all__ = ["ErrorBodyH11Protocol", "RunningEmulator", "run_emulator"]


@dataclass(frozen=True)
class RunningEmulator:
    """A running emulator: its base URL (the SDK's endpoint), its key at start ("" with key authentication off),
    and the app (``state.faults``, ``state.tokens``, ``state.key`` etc.)."""

    url: str
    key: str
    app: Starlette

    @property
    def state(self) -> EmulatorState:
        state: EmulatorState = self.app.state.emulator
        return state

    @property
    def requests(self) -> list[dict[str, Any]]:
        """The models requests received, oldest first: method, path, query, headers (key and Authorization
        redacted), status and fault; the last 10,000. ``state.journal.clear()`` forgets them."""
        return list(self.state.journal)

    @property
    def admin_headers(self) -> dict[str, str]:
        """The header the admin routes (``/_emulator/faults``, ``requests``, ``keys``, ``reset``) ask for."""
        return {"Ocp-Apim-Subscription-Key": self.key} if self.key else {}


HEADER_TIMEOUT = 10.0


class ErrorBodyH11Protocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, except that a request it cannot parse (raw non-ASCII bytes in the request
    line, say) gets a 400 with an ``Error`` body, like every other error of the emulator, not plain text, and a
    client that does not finish a request head within ``header_timeout`` seconds of connecting (or of the last
    response) gets a 408 and is disconnected, however slowly it trickles bytes in."""

    header_timeout = HEADER_TIMEOUT
    _header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_timer()
        inner = self.app

        def hangup(abort: bool) -> None:
            (transport.abort if abort else transport.close)()

        async def app(scope: Any, receive: Any, send: Any) -> None:
            scope.setdefault("extensions", {})[HANGUP_EXTENSION] = hangup  # for the chaos kinds reset and midbody
            await inner(scope, receive, send)

        self.app = app

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_header_timer()
        super().connection_lost(exc)

    def handle_events(self) -> None:
        super().handle_events()
        if self.conn.their_state is not h11.IDLE:  # a whole request head has arrived
            self._disarm_header_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm_header_timer()

    def _arm_header_timer(self) -> None:
        self._disarm_header_timer()
        self._header_timer = self.loop.call_later(self.header_timeout, self._header_timed_out)

    def _disarm_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _header_timed_out(self) -> None:
        self._header_timer = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return
        if self.conn.their_state is h11.IDLE and not self.conn.trailing_data[0]:
            self.transport.close()  # an idle keep-alive connection: nothing was asked, nothing to answer
            return
        body = json.dumps(
            {
                "code": "InvalidRequest",
                "message": f"The request head did not arrive within {self.header_timeout:g} seconds.",
            }
        ).encode()
        head = (
            "HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
        ).encode()
        self.transport.write(head + body)
        self.transport.close()

    def send_400_response(self, msg: str) -> None:
        body = json.dumps(
            {
                "code": "InvalidRequest",
                "message": f"The request could not be parsed: {msg}",
                "innerError": {"code": "InvalidParameterValue", "message": msg},
            }
        ).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        for event in (h11.Response(status_code=400, headers=headers, reason=b"Bad Request"), h11.Data(data=body)):
            self.transport.write(self.conn.send(event))
        self.transport.write(self.conn.send(h11.EndOfMessage()))
        self.transport.close()


@contextlib.contextmanager
def run_emulator(
    app: Starlette | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    header_timeout: float = HEADER_TIMEOUT,
    **create_args: Any,
) -> Iterator[RunningEmulator]:
    """Start the emulator on `host`:`port` (port 0: a free one), yield it, and stop it on exit.

    Args:
        app: an app from ``create_app``; by default one is made with `create_args`.
        host: a loopback address.
        port: the port; 0 picks a free one.
        header_timeout: seconds a client may take to send a request head before it is disconnected.
    """
    if app is None:
        app = create_app(**create_args)
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound_port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        http=type("HeaderTimedH11Protocol", (ErrorBodyH11Protocol,), {"header_timeout": header_timeout}),
        h11_max_incomplete_event_size=1 << 20,  # long request lines reach the app, which answers with an Error
        log_level="error",
        lifespan="off",
        access_log=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="speech-emulator", daemon=True)
    thread.start()
    try:
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError(f"the emulator did not start on {host}:{bound_port}")
            thread.join(0.01)
        netloc = f"[{host}]" if ":" in host else host
        key = app.state.emulator.key
        yield RunningEmulator(f"http://{netloc}:{bound_port}", "" if key is None else key.decode(), app)
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
