"""TLS: the SDK's clients load httpx's trust store on their first TLS connection, not when they are made, and verify
exactly as httpx's default does (the trust store from SSL_CERT_FILE, SSL_CERT_DIR or certifi; hostnames checked).
Against an HTTPS server on 127.0.0.1 with certificates from trustme."""

from __future__ import annotations

import asyncio
import ssl
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import speech_models as sm
import trustme
from speech_models._tls import DeferredTrustContext
from speech_models_emulator import run_emulator

from tests.fakes import FakeClock

PAGE = b'{"values": [{"displayName": "over TLS", "status": "Succeeded"}]}'


class _Page(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def serve_tls(certificate: trustme.LeafCert) -> Iterator[str]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate.configure_cert(context)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


@pytest.fixture(scope="module")
def https_url(ca: trustme.CA) -> Iterator[str]:
    yield from serve_tls(ca.issue_cert("127.0.0.1"))


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every trust store loaded by any SSL context from now on (the arguments of load_verify_locations)."""
    seen: list[dict[str, Any]] = []
    real = ssl.SSLContext.load_verify_locations

    def spy(self: ssl.SSLContext, cafile: Any = None, capath: Any = None, cadata: Any = None) -> None:
        seen.append({"cafile": cafile, "capath": capath})
        real(self, cafile, capath, cadata)

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", spy)
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    return seen


def names(url: str, kind: str, key: str = "k", clock: FakeClock | None = None) -> list[str]:
    clock = clock or FakeClock()  # connection errors are retried: their waits are not really waited
    if kind == "sync":
        with sm.SpeechToTextModels(url, key, sleep=clock.sleep) as client:
            return [m.display_name or "" for m in client.list_models()]

    async def go() -> list[str]:
        async with sm.AsyncSpeechToTextModels(url, key, sleep=clock.asleep) as client:
            return [m.display_name or "" async for m in client.list_models()]

    return asyncio.run(go())


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_plain_http_client_loads_no_trust_store(loads: list[dict[str, Any]], kind: str) -> None:
    with run_emulator(count=3) as emulator:
        assert len(names(emulator.url, kind, emulator.key)) == 3
    assert loads == []
    httpx.Client().close()  # the spy sees httpx's own default context load certifi's bundle
    assert len(loads) == 1


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_tls_to_an_untrusted_certificate_is_refused(loads: list[dict[str, Any]], https_url: str, kind: str) -> None:
    with pytest.raises(sm.APIConnectionError, match="CERTIFICATE_VERIFY_FAILED"):
        names(https_url, kind)
    import certifi

    assert loads == [{"cafile": certifi.where(), "capath": None}]  # once, for every try


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_ssl_cert_file_is_the_trust_store_when_set(
    loads: list[dict[str, Any]], https_url: str, ca_file: str, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", ca_file)
    assert names(https_url, kind) == ["over TLS"]
    assert loads == [{"cafile": ca_file, "capath": None}]


@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize("content", [None, b"not a certificate"], ids=["missing", "garbage"])
def test_a_trust_store_that_cannot_be_loaded_is_named_and_not_retried(
    https_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: bytes | None, kind: str
) -> None:
    path = tmp_path / "ca.pem"
    if content is not None:
        path.write_bytes(content)
    monkeypatch.setenv("SSL_CERT_FILE", str(path))
    clock = FakeClock()
    with pytest.raises(sm.ConfigurationError, match=f"SSL_CERT_FILE='{path}' cannot be loaded"):
        names(https_url, kind, clock=clock)
    assert clock.sleeps == []  # a configuration error, not a connection error to retry


def test_ssl_cert_dir_is_the_trust_store_when_set(
    loads: list[dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path))
    DeferredTrustContext().wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname="speech.example")
    assert loads == [{"cafile": None, "capath": str(tmp_path)}]


def test_the_hostname_is_checked(ca: trustme.CA, ca_file: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", ca_file)
    for url in serve_tls(ca.issue_cert("speech.example")):  # trusted, but not for 127.0.0.1
        with pytest.raises(sm.APIConnectionError, match="CERTIFICATE_VERIFY_FAILED"):
            names(url, "sync")


def test_the_context_has_create_default_contexts_settings() -> None:
    deferred, default = DeferredTrustContext(), ssl.create_default_context()
    for name in ("protocol", "verify_mode", "check_hostname", "options", "verify_flags", "minimum_version"):
        assert getattr(deferred, name) == getattr(default, name), name
    assert deferred.get_ciphers() == default.get_ciphers()
    assert deferred.cert_store_stats()["x509_ca"] == 0  # nothing loaded before the first connection


def test_threads_that_connect_first_at_once_load_the_store_once(loads: list[dict[str, Any]]) -> None:
    context = DeferredTrustContext()
    start = threading.Barrier(8)

    def connect(_: int) -> ssl.SSLObject:
        start.wait(10)
        return context.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname="speech.example")

    with ThreadPoolExecutor(8) as pool:
        assert len(list(pool.map(connect, range(8)))) == 8
    assert len(loads) == 1
    assert context.cert_store_stats()["x509_ca"] > 0
