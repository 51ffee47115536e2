"""Serve the emulator with uvicorn on a loopback port, in a background thread, for tests, demos and scripts.

Two HTTP/1.1 parsers serve the same contract: httptools (llhttp, in C; the ``[emulator]`` extra installs it) when it
is installed, about half the server's CPU a page, and h11 (pure Python) otherwise or when asked for.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import importlib.util
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

import h11
import uvicorn
from starlette.applications import Starlette
from uvicorn.protocols.http.h11_impl import H11Protocol

from .app import HANGUP_EXTENSION, EmulatorState, create_app

__all__ = ["ErrorBodyH11Protocol", "HttpParser", "RunningEmulator", "emulator_protocol", "run_emulator"]

HttpParser = Literal["auto", "h11", "httptools"]


@dataclass(frozen=True)
class RunningEmulator:
    """A running emulator: its base URL (the SDK's endpoint), its key at start ("" with key authentication off),
    the app (``state.faults``, ``state.tokens``, ``state.key`` etc.) and the HTTP parser it runs on."""

    url: str
    key: str
    app: Starlette
    http: Literal["h11", "httptools"] = "h11"

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


class _ContractProtocol:
    """What the emulator adds to uvicorn's HTTP/1.1 protocols: a request it cannot parse (raw non-ASCII bytes in
    the request line, say) gets a 400 with an ``Error`` body, like every other error of the emulator, not plain
    text; a client that does not finish a request head within ``header_timeout`` seconds of connecting (or of the
    last response) gets a 408 and is disconnected, however slowly it trickles bytes in; and the app finds the
    socket's hang-up in the scope (the chaos kinds reset and midbody)."""

    header_timeout = HEADER_TIMEOUT
    _header_timer: asyncio.TimerHandle | None = None
    transport: asyncio.Transport
    loop: asyncio.AbstractEventLoop
    app: Any

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        self._arm_header_timer()
        inner, stream = self.app, self.transport

        def hangup(abort: bool) -> None:
            (stream.abort if abort else stream.close)()

        async def app(scope: Any, receive: Any, send: Any) -> None:
            scope.setdefault("extensions", {})[HANGUP_EXTENSION] = hangup
            await inner(scope, receive, send)

        self.app = app

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_header_timer()
        super().connection_lost(exc)  # type: ignore[misc]

    def on_response_complete(self) -> None:
        super().on_response_complete()  # type: ignore[misc]
        if not self.transport.is_closing():
            self._arm_header_timer()

    def _head_state(self) -> Literal["idle", "partial", "whole"]:
        """How much of the next request head has arrived: nothing, a part, or all of it (the parser's to say)."""
        raise NotImplementedError

    def _arm_header_timer(self) -> None:
        self._disarm_header_timer()
        self._header_timer = self.loop.call_later(self.header_timeout, self._header_timed_out)

    def _disarm_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _header_timed_out(self) -> None:
        self._header_timer = None
        state = self._head_state()
        if self.transport.is_closing() or state == "whole":
            return
        if state == "idle":
            self.transport.close()  # an idle keep-alive connection: nothing was asked, nothing to answer
            return
        message = f"The request head did not arrive within {self.header_timeout:g} seconds."
        self._answer_and_close(408, "Request Timeout", {"code": "InvalidRequest", "message": message})

    def send_400_response(self, msg: str) -> None:
        error = {
            "code": "InvalidRequest",
            "message": f"The request could not be parsed: {msg}",
            "innerError": {"code": "InvalidParameterValue", "message": msg},
        }
        self._answer_and_close(400, "Bad Request", error)

    def _answer_and_close(self, status: int, reason: str, error: dict[str, Any]) -> None:
        body = json.dumps(error).encode()
        head = (
            f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
        ).encode()
        self.transport.write(head + body)
        self.transport.close()


class ErrorBodyH11Protocol(_ContractProtocol, H11Protocol):
    """uvicorn's h11 protocol with the emulator's contract (see ``_ContractProtocol``)."""

    def handle_events(self) -> None:
        super().handle_events()
        if self.conn.their_state is not h11.IDLE:  # a whole request head has arrived
            self._disarm_header_timer()

    def _head_state(self) -> Literal["idle", "partial", "whole"]:
        if self.conn.their_state is not h11.IDLE:
            return "whole"
        return "partial" if self.conn.trailing_data[0] else "idle"


@functools.cache
def _httptools_protocol() -> type[Any]:
    """uvicorn's httptools protocol with the emulator's contract; made once, on first use, since importing
    uvicorn's module needs httptools."""
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class ErrorBodyHttpToolsProtocol(_ContractProtocol, HttpToolsProtocol):
        _head: Literal["idle", "partial", "whole"] = "idle"

        def on_message_begin(self) -> None:
            self._head = "partial"
            super().on_message_begin()

        def on_headers_complete(self) -> None:
            self._head = "whole"
            self._disarm_header_timer()
            super().on_headers_complete()

        def on_response_complete(self) -> None:
            self._head = "idle"
            super().on_response_complete()

        def _head_state(self) -> Literal["idle", "partial", "whole"]:
            return self._head

    return ErrorBodyHttpToolsProtocol


def emulator_protocol(http: HttpParser = "auto") -> tuple[Literal["h11", "httptools"], type[Any]]:
    """The parser's name and uvicorn protocol class that `http` asks for ("auto": httptools when installed)."""
    if http == "auto":
        http = "httptools" if importlib.util.find_spec("httptools") is not None else "h11"
    if http == "httptools":
        try:
            return "httptools", _httptools_protocol()
        except ImportError:
            raise ImportError("the httptools parser needs httptools: pip install 'speech-models[emulator]'") from None
    if http == "h11":
        return "h11", ErrorBodyH11Protocol
    raise ValueError(f"http must be 'auto', 'h11' or 'httptools', not {http!r}")


def reachable_host(host: str) -> str:
    """`host` as a URL's host: a wildcard one listens on (``0.0.0.0``, ``::``) is reached through loopback."""
    reach = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)  # noqa: S104 - a lookup, not a binding
    return f"[{reach}]" if ":" in reach else reach


@contextlib.contextmanager
def run_emulator(
    app: Starlette | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    header_timeout: float = HEADER_TIMEOUT,
    http: HttpParser = "auto",
    **create_args: Any,
) -> Iterator[RunningEmulator]:
    """Start the emulator on `host`:`port` (port 0: a free one), yield it, and stop it on exit.

    Args:
        app: an app from ``create_app``; by default one is made with `create_args`.
        host: the address to listen on: loopback (the default) or, inside a container, ``0.0.0.0`` for all of its
            interfaces (the URL then names loopback, where a program beside it reaches it).
        port: the port; 0 picks a free one.
        header_timeout: seconds a client may take to send a request head before it is disconnected.
        http: the HTTP/1.1 parser: "httptools" (in C, the faster), "h11" (pure Python), or "auto" (httptools when
            it is installed). Both answer the same.
    """
    name, protocol = emulator_protocol(http)
    if app is None:
        app = create_app(**create_args)
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound_port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        http=type(f"HeaderTimed{protocol.__name__}", (protocol,), {"header_timeout": header_timeout}),
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
        netloc = reachable_host(host)
        emulator = getattr(app.state, "emulator", None)  # a record or replay app has no emulator state, no key
        key = None if emulator is None else emulator.key
        yield RunningEmulator(f"http://{netloc}:{bound_port}", "" if key is None else key.decode(), app, name)
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
