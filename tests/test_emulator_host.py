"""Where the emulator listens: loopback unless asked otherwise, explicitly (``--expose``) or by the image's
``SPEECH_MODELS_EMULATOR_HOST``; a wildcard address is listened on, never handed out as the address to connect to."""

from __future__ import annotations

import pytest
from speech_models_emulator.__main__ import parse_arguments
from speech_models_emulator.server import reachable_host

EVERY_INTERFACE = "0.0.0.0"  # noqa: S104 - parsed here, never bound


@pytest.fixture(autouse=True)
def _no_image_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SPEECH_MODELS_EMULATOR_HOST", "SPEECH_MODELS_EMULATOR_PORT"):
        monkeypatch.delenv(name, raising=False)


def test_loopback_is_the_default() -> None:
    args = parse_arguments([])
    assert (args.host, args.port, args.expose) == ("127.0.0.1", 8765, False)
    assert parse_arguments(["--host", "::1"]).host == "::1"


def test_another_address_needs_expose(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        parse_arguments(["--host", EVERY_INTERFACE])
    assert stopped.value.code == 2
    assert "--host 0.0.0.0: not a loopback address; add --expose" in capsys.readouterr().err
    assert parse_arguments(["--host", EVERY_INTERFACE, "--expose"]).host == EVERY_INTERFACE


def test_a_host_that_is_no_address_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse_arguments(["--host", "example.com", "--expose"])
    assert "--host: 'example.com' is not an IP address" in capsys.readouterr().err


def test_the_images_environment_listens_on_every_interface(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPEECH_MODELS_EMULATOR_HOST", EVERY_INTERFACE)
    monkeypatch.setenv("SPEECH_MODELS_EMULATOR_PORT", "9000")
    args = parse_arguments([])
    assert (args.host, args.port, args.expose) == (EVERY_INTERFACE, 9000, True)
    assert parse_arguments(["--host", "127.0.0.1", "--port", "8765"]).host == "127.0.0.1"  # arguments win


def test_a_bad_port_in_the_environment_is_named(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SPEECH_MODELS_EMULATOR_PORT", "eighty")
    with pytest.raises(SystemExit):
        parse_arguments([])
    assert "argument --port: invalid int value: 'eighty'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("host", "url_host"),
    [(EVERY_INTERFACE, "127.0.0.1"), ("::", "[::1]"), ("127.0.0.1", "127.0.0.1"), ("::1", "[::1]")],
)
def test_a_wildcard_is_reached_through_loopback(host: str, url_host: str) -> None:
    assert reachable_host(host) == url_host
