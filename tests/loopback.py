"""A scripted HTTP/1.1 server on a raw loopback socket, for faults no well-behaved server produces.

Each accepted connection gets the next behaviour of the script (the last one repeats): a function that receives
the connected socket after the request head has been read. The server records every request head and stops,
closing every connection it accepted, when its ``with`` block ends.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from types import TracebackType
from typing import Any, Self

Behaviour = Callable[[socket.socket], None]


def head(status: int, headers: dict[str, str] | None = None, length: int | None = None) -> bytes:
    """A response head; `length` sets Content-Length. It says ``Connection: close``, as this server closes every
    connection after one response: a client that reused it would race the close and retry on a ReadError (under load
    that is an extra try no test expects)."""
    lines = [f"HTTP/1.1 {status} X"]
    all_headers = {"Content-Type": "application/json", "Connection": "close", **(headers or {})}
    if length is not None:
        all_headers["Content-Length"] = str(length)
    lines += [f"{name}: {value}" for name, value in all_headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def page_body(count: int = 2, next_link: str | None = None, start: int = 0) -> bytes:
    values = [{"displayName": f"m{start + i}", "locale": "en-US", "status": "Succeeded"} for i in range(count)]
    body: dict[str, Any] = {"values": values}
    if next_link is not None:
        body["@nextLink"] = next_link
    return json.dumps(body).encode()


def answer(status: int = 200, body: bytes | None = None, headers: dict[str, str] | None = None) -> Behaviour:
    """A complete, well-formed response."""
    payload = page_body() if body is None else body

    def behave(conn: socket.socket) -> None:
        conn.sendall(head(status, headers, len(payload)) + payload)

    return behave


def close_mid_body(body: bytes | None = None, sent: int = 10) -> Behaviour:
    """Promise the whole body, send its first `sent` bytes, then close the connection."""
    payload = page_body() if body is None else body

    def behave(conn: socket.socket) -> None:
        conn.sendall(head(200, None, len(payload)) + payload[:sent])

    return behave


def close_before_head() -> Behaviour:
    def behave(conn: socket.socket) -> None:
        return None

    return behave


def drip(interval: float, body: bytes | None = None, endless: bool = False) -> Behaviour:
    """Send the head at once, then the body one byte every `interval` seconds (forever when `endless`)."""
    payload = page_body() if body is None else body

    def behave(conn: socket.socket) -> None:
        conn.sendall(head(200, None, len(payload)))
        index = 0
        while endless or index < len(payload):
            time.sleep(interval)
            try:
                conn.sendall(payload[index % len(payload) : index % len(payload) + 1])
            except OSError:
                return
            index += 1

    return behave


def stall(seconds: float) -> Behaviour:
    """Send the head and part of the body, then nothing for `seconds`."""

    def behave(conn: socket.socket) -> None:
        payload = page_body()
        conn.sendall(head(200, None, len(payload)) + payload[:5])
        time.sleep(seconds)

    return behave


class ScriptedServer:
    """Serve `script` on 127.0.0.1: connection n gets ``script[min(n, len - 1)]``; every connection is closed
    after its behaviour returns (one request per connection)."""

    def __init__(self, script: Sequence[Behaviour]) -> None:
        self._script = list(script)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.requests: list[str] = []
        self._stop = threading.Event()
        self._conns: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._acceptor = threading.Thread(target=self._accept, daemon=True)

    def play(self, script: Sequence[Behaviour]) -> None:
        """Replace the script (for behaviours that need the server's own URL, such as links back to it)."""
        with self._lock:
            self._script = list(script)

    @property
    def connections(self) -> int:
        with self._lock:
            return len(self._conns)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                index = len(self._conns)
                self._conns.append(conn)
                behaviour = self._script[min(index, len(self._script) - 1)]
            thread = threading.Thread(target=self._serve, args=(conn, behaviour), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket, behaviour: Behaviour) -> None:
        data = b""
        try:
            conn.settimeout(5)
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            with self._lock:
                self.requests.append(data.split(b"\r\n\r\n", 1)[0].decode("latin-1"))
            behaviour(conn)
        except OSError:
            pass
        finally:
            conn.close()

    def paths(self) -> Iterator[str]:
        for request in list(self.requests):
            yield request.split(" ", 2)[1]

    def __enter__(self) -> Self:
        self._acceptor.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._acceptor.join(5)
        self._listener.close()
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()
        for thread in self._threads:
            thread.join(5)
