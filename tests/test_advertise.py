"""The emulator behind a mapped port or a proxy: ``--advertise URL`` (``create_app(advertise=)``, the environment
variable for the image) sets the address its ``@nextLink`` and ``self`` links carry; without it they stay the
socket's own address."""

from __future__ import annotations

import httpx
import pytest
import speech_models as sm
from speech_models_emulator import create_app, run_emulator
from speech_models_emulator.__main__ import ADVERTISE_ENV
from speech_models_emulator.__main__ import main as emulator_main
from speech_models_emulator.inprocess import SyncASGITransport

from tests.served import serving

LIST = "/speechtotext/models?api-version=2025-10-15&top=2"
KEY = {"Ocp-Apim-Subscription-Key": "emulator-key"}


def first_page(app: object, base: str = "http://127.0.0.1") -> dict[str, object]:
    with httpx.Client(transport=SyncASGITransport(app), base_url=base) as http:
        page: dict[str, object] = http.get(LIST, headers=KEY).json()
        return page


@pytest.mark.parametrize("advertised", ["http://localhost:18765", "https://emulator.example.test/", "http://[::1]:9"])
def test_links_carry_the_advertised_address(advertised: str) -> None:
    page = first_page(create_app(count=5, advertise=advertised))
    base = advertised.rstrip("/")
    assert str(page["@nextLink"]).startswith(f"{base}/speechtotext/models?")
    values = page["values"]
    assert isinstance(values, list)
    assert all(str(model["self"]).startswith(f"{base}/speechtotext/models/") for model in values)


def test_without_it_links_carry_the_sockets_address() -> None:
    with run_emulator(count=5) as emulator:
        page = httpx.get(f"{emulator.url}{LIST}", headers=KEY).json()
    assert page["@nextLink"].startswith(f"{emulator.url}/speechtotext/models?")


def test_a_client_follows_the_advertised_links_through_a_mapped_address() -> None:
    """The SDK reaches the emulator by 'localhost' while it listens on 127.0.0.1: with the address advertised, its
    links are the ones the client can follow (without, they would name another origin and be refused)."""
    with run_emulator(count=7) as emulator:
        mapped = emulator.url.replace("127.0.0.1", "localhost")
        emulator.state.advertise = mapped
        with sm.SpeechToTextModels(mapped, emulator.key) as client:
            assert len(list(client.list_models(top=2))) == 7


@pytest.mark.parametrize(
    ("url", "named"),
    [
        ("ftp://x.test", "must be http:// or https://"),
        ("localhost:8765", "must be http:// or https://"),
        ("http://x.test/base", "nothing more"),
        ("http://x.test?q=1", "nothing more"),
        ("http://user:pw@x.test", "nothing more"),
        ("http://x.test:99999", "bad port"),
    ],
)
def test_a_bad_advertised_address_is_named(url: str, named: str) -> None:
    with pytest.raises(ValueError, match=named):
        create_app(count=1, advertise=url)


def test_a_bad_advertised_address_on_the_command_line_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        emulator_main(["--port", "0", "--advertise", "localhost:1"])
    assert exited.value.code == 2
    assert "must be http:// or https://" in capsys.readouterr().err


def test_the_environment_variable_advertises_for_the_image(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ADVERTISE_ENV, "http://localhost:18765")
    with serving("speech_models_emulator", "--port", "0", "--count", "3") as (url, _):
        page = httpx.get(f"{url}{LIST}", headers=KEY).json()
    assert page["@nextLink"].startswith("http://localhost:18765/speechtotext/models?")
