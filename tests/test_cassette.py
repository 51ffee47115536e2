"""Record and replay, with a second emulator standing in for the live service: a recording proxies and stores each
exchange without secrets; a replay answers the same, links through itself, exchanges of one request in turn, and a
404 ``Error`` for a request it does not hold."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import speech_models as sm
from speech_models_emulator import Fault, run_emulator
from speech_models_emulator.cassette import FORMAT, Cassette, create_recorder_app, create_replay_app
from speech_models_emulator.data import ENDPOINT_PLACEHOLDER

from tests.served import serving

LIVE_KEY = "live-key-0123456789abcdef"
V = "api-version=2025-10-15"


@pytest.fixture
def recorded(tmp_path: Path) -> Iterator[tuple[Path, list[dict[str, object]], str]]:
    """A cassette of a 120-model listing in pages of 50 (and a wrong key's 401), with the models as listed live
    and the live emulator's URL."""
    cassette = tmp_path / "models.cassette.json"
    with run_emulator(count=120, key=LIVE_KEY) as live, run_emulator(create_recorder_app(live.url, cassette)) as proxy:
        with sm.SpeechToTextModels(proxy.url, LIVE_KEY) as client:
            models = [model.to_dict() for model in client.list_models(top=50)]
        wrong = httpx.get(f"{proxy.url}/speechtotext/models?{V}", headers={"Ocp-Apim-Subscription-Key": "wrong-key-42"})
        assert wrong.status_code == 401
        assert all(str(model["self"]).startswith(proxy.url) for model in models)  # links lead back through the proxy
        yield cassette, models, live.url


def _without_host(models: list[dict[str, object]], base: str) -> str:
    return json.dumps(models).replace(base, "HOST")


def test_a_recording_stores_each_exchange_without_secrets(recorded: tuple[Path, list[dict[str, object]], str]) -> None:
    cassette, models, live_url = recorded
    text = cassette.read_text(encoding="utf-8")
    document = json.loads(text)
    assert document["format"] == FORMAT
    assert document["recorded_from"] == live_url
    assert [exchange["response"]["status"] for exchange in document["exchanges"]] == [200, 200, 200, 401]
    assert [exchange["request"]["query"] for exchange in document["exchanges"][:2]] == [
        [["api-version", "2025-10-15"], ["top", "50"]],
        [["api-version", "2025-10-15"], ["skip", "50"], ["top", "50"]],
    ]
    assert LIVE_KEY not in text
    assert "wrong-key-42" not in text
    assert live_url not in document["exchanges"][0]["response"]["body"]  # stored as the placeholder
    assert ENDPOINT_PLACEHOLDER in document["exchanges"][0]["response"]["body"]
    assert set(document["exchanges"][0]["response"]["headers"]) <= {"content-type", "retry-after", "apim-request-id"}
    assert len(models) == 120


def test_a_replay_answers_as_the_service_did(recorded: tuple[Path, list[dict[str, object]], str]) -> None:
    cassette, models, _ = recorded
    with run_emulator(create_replay_app(cassette)) as replay:
        with sm.SpeechToTextModels(replay.url, "any-key") as client:
            replayed = [model.to_dict() for model in client.list_models(top=50)]
        assert all(str(model["self"]).startswith(replay.url) for model in replayed)
        wrong = httpx.get(f"{replay.url}/speechtotext/models?{V}", headers={"Ocp-Apim-Subscription-Key": "x"})
    assert _without_host(replayed, replay.url) == _without_host(
        models, str(models[0]["self"]).split("/speechtotext")[0]
    )
    assert wrong.status_code == 401
    assert wrong.json()["code"] == "Unauthorized"


def test_a_request_the_cassette_does_not_hold_is_a_404_that_names_it(
    recorded: tuple[Path, list[dict[str, object]], str],
) -> None:
    cassette, _, _ = recorded
    with run_emulator(create_replay_app(cassette)) as replay:
        answer = httpx.get(f"{replay.url}/speechtotext/models?{V}&top=7")
        with sm.SpeechToTextModels(replay.url, "any-key") as client, pytest.raises(sm.APIStatusError) as raised:
            list(client.list_models(top=7))
    assert answer.status_code == 404
    assert answer.json() == {
        "code": "NotFound",
        "message": f"The cassette {cassette.name} has no answer for GET /speechtotext/models?api-version=2025-10-15"
        "&top=7; record it with --record-from.",
    }
    assert raised.value.status_code == 404


def test_exchanges_of_one_request_are_replayed_in_turn(tmp_path: Path) -> None:
    cassette = tmp_path / "throttled.json"
    with run_emulator(count=3, key=LIVE_KEY) as live, run_emulator(create_recorder_app(live.url, cassette)) as proxy:
        live.state.faults.add(Fault(status=429, retry_after=2))
        sleeps: list[float] = []
        with sm.SpeechToTextModels(proxy.url, LIVE_KEY, sleep=sleeps.append, clock=lambda: sum(sleeps)) as client:
            assert len(list(client.list_models())) == 3
    assert sleeps == [2.0]
    statuses = [exchange["response"]["status"] for exchange in json.loads(cassette.read_text())["exchanges"]]
    assert statuses == [429, 200]
    with run_emulator(create_replay_app(cassette)) as replay:
        replayed: list[float] = []
        with sm.SpeechToTextModels(replay.url, "k", sleep=replayed.append, clock=lambda: sum(replayed)) as client:
            assert len(list(client.list_models())) == 3
            assert len(list(client.list_models())) == 3  # after the last exchange, the last one again
    assert replayed == [2.0]


def test_a_key_in_the_query_or_echoed_in_a_body_is_not_stored(tmp_path: Path) -> None:
    cassette = tmp_path / "echo.json"
    key = "echoedkey0123456789"
    with run_emulator(count=1, key=key) as live, run_emulator(create_recorder_app(live.url, cassette)) as proxy:
        httpx.get(f"{proxy.url}/speechtotext/models?{V}&subscription-key={key}")
        # the live side echoes what it was sent: a filter naming the key comes back in its error message
        echoed = httpx.get(
            f"{proxy.url}/speechtotext/models",
            params={"api-version": "2025-10-15", "filter": f"{key} eq 1"},
            headers={"Ocp-Apim-Subscription-Key": key},
        )
    assert "Unsupported filter: '[redacted]'" in echoed.text  # the client gets what the cassette holds
    text = cassette.read_text(encoding="utf-8")
    exchanges = json.loads(text)["exchanges"]
    assert [name for name, _ in exchanges[0]["request"]["query"]] == ["api-version"]
    assert "Unsupported filter: '[redacted]'" in exchanges[1]["response"]["body"]
    assert ["filter", "[redacted] eq 1"] in exchanges[1]["request"]["query"]
    assert key not in text


def test_an_unreachable_live_endpoint_is_a_502_and_not_recorded(tmp_path: Path) -> None:
    cassette = tmp_path / "none.json"
    with run_emulator(count=1) as gone:
        url = gone.url
    with run_emulator(create_recorder_app(url, cassette)) as proxy:
        answer = httpx.get(f"{proxy.url}/speechtotext/models?{V}")
    assert answer.status_code == 502
    assert answer.json()["code"] == "BadGateway"
    assert url in answer.json()["message"]
    assert not cassette.exists()


@pytest.mark.parametrize(
    ("content", "said"),
    [
        ("{", "is not JSON"),
        ('{"format": "other"}', f"is not a {FORMAT} file"),
        (json.dumps({"format": FORMAT, "exchanges": [{"request": {}}]}), "has malformed exchanges"),
    ],
)
def test_a_file_that_is_not_a_cassette_is_named(tmp_path: Path, content: str, said: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=f"the cassette {path} {said}"):
        Cassette.load(path)
    command = [sys.executable, "-m", "speech_models_emulator", "--port", "0", "--replay", str(path)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert said in result.stderr


@pytest.mark.parametrize(
    ("arguments", "said"),
    [
        (["--record-from", "http://127.0.0.1:9"], "--record-from needs --cassette FILE"),
        (["--cassette", "c.json"], "to serve a cassette, use --replay FILE"),
        (["--replay", "c.json", "--record-from", "http://127.0.0.1:9", "--cassette", "d.json"], "exclude each other"),
        (["--record-from", "ftp://example", "--cassette", "c.json"], "--record-from needs an http(s) URL"),
    ],
)
def test_record_and_replay_options_that_do_not_fit_are_usage_errors(arguments: list[str], said: str) -> None:
    command = [sys.executable, "-m", "speech_models_emulator", "--port", "0", *arguments]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert said in result.stderr


def test_the_command_line_replays_a_cassette(recorded: tuple[Path, list[dict[str, object]], str]) -> None:
    cassette, _, _ = recorded
    with serving("speech_models_emulator", "--port", "0", "--replay", str(cassette)) as (url, started):
        assert f"replaying {cassette} (4 exchanges)" in started
        with sm.SpeechToTextModels(url, "any-key") as client:
            assert len(list(client.list_models(top=50))) == 120
        assert httpx.get(f"{url}/_emulator/health").json() == {"status": "ok", "mode": "replay"}
