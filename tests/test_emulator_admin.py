"""The emulator as a contract-testing tool, over loopback: links from its own address whatever the Host header, admin
routes behind its key, admin bodies that cannot break it, a request journal, two keys and their rotation, reset."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import speech_models as sm
from azure.core.credentials import AccessToken
from speech_models_emulator import DEFAULT_KEY, build_models, create_app, run_emulator
from speech_models_emulator.app import JOURNAL_SIZE
from speech_models_emulator.data import store
from speech_models_emulator.server import RunningEmulator

from tests.served import serving

V = "api-version=2025-10-15"
KEY = "admin-test-key-1"


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    with run_emulator(count=12, key=KEY) as running:
        yield running


def admin(emulator: RunningEmulator, method: str, route: str, **kwargs: object) -> httpx.Response:
    return httpx.request(method, f"{emulator.url}/_emulator/{route}", **kwargs)  # type: ignore[arg-type]


def test_links_come_from_the_emulators_own_address_not_the_host_header(emulator: RunningEmulator) -> None:
    response = httpx.get(
        f"{emulator.url}/speechtotext/models?top=5&{V}",
        headers={"Host": "evil.example", "Ocp-Apim-Subscription-Key": KEY},
    )
    body = response.json()
    assert body["@nextLink"].startswith(f"{emulator.url}/speechtotext/models?")
    assert all(model["self"].startswith(emulator.url) for model in body["values"])
    assert "evil.example" not in response.text


ADMIN = [("POST", "faults"), ("DELETE", "faults"), ("GET", "requests"), ("DELETE", "requests"), ("POST", "keys")]


@pytest.mark.parametrize(("method", "route"), [*ADMIN, ("POST", "reset")])
def test_admin_routes_need_the_key(emulator: RunningEmulator, method: str, route: str) -> None:
    refused = admin(emulator, method, route, json={})
    assert refused.status_code == 401
    assert refused.json()["code"] == "Unauthorized"
    assert admin(emulator, method, route, json={}, headers={"Ocp-Apim-Subscription-Key": "wrong"}).status_code == 401
    allowed = admin(emulator, method, route, json={}, headers=emulator.admin_headers)
    assert allowed.status_code != 401
    assert admin(emulator, "GET", "health").status_code == 200  # health stays open


@pytest.mark.parametrize(
    "body",
    [b'{"latency": 1' + b"0" * 400 + b"}", b'{"count": ' + b"9" * 400 + b"}", b"[" * 100_000 + b"]" * 100_000],
    ids=["400-digit-latency", "400-digit-count", "nested-100000"],
)
def test_admin_bodies_that_would_break_it_are_400(emulator: RunningEmulator, body: bytes) -> None:
    for route in ("faults", "keys"):
        response = admin(emulator, "POST", route, content=body, headers=emulator.admin_headers)
        assert response.status_code == 400
        assert response.json()["code"] == "InvalidArgument"


def test_405_allows_only_what_works(emulator: RunningEmulator) -> None:
    response = httpx.put(f"{emulator.url}/speechtotext/models?{V}", headers={"Ocp-Apim-Subscription-Key": KEY})
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET"
    head = httpx.head(f"{emulator.url}/speechtotext/models?{V}", headers={"Ocp-Apim-Subscription-Key": KEY})
    assert head.status_code == 405  # what Allow leaves out indeed does not work


def test_the_journal_says_what_a_consumer_sent(emulator: RunningEmulator) -> None:
    admin(emulator, "POST", "faults", json={"status": 429, "retry_after": 0}, headers=emulator.admin_headers)
    with sm.SpeechToTextModels(emulator.url, KEY, sleep=lambda _s: None) as client:
        assert len(list(client.list_models(filter="status eq 'Succeeded'", top=50))) > 0
    journal = emulator.requests
    assert [entry["status"] for entry in journal][:2] == [429, 200]
    assert journal[0]["fault"] == "throttle"
    assert journal[1]["fault"] is None
    assert journal[0]["query"] == {"filter": "status eq 'Succeeded'", "top": "50", "api-version": "2025-10-15"}
    assert journal[0]["method"] == "GET"
    assert journal[0]["path"] == "/speechtotext/models"
    assert journal[0]["headers"]["ocp-apim-subscription-key"] == "[redacted]"
    assert KEY not in str(journal)
    over_http = admin(emulator, "GET", "requests", headers=emulator.admin_headers).json()
    assert over_http == journal
    assert admin(emulator, "DELETE", "requests", headers=emulator.admin_headers).status_code == 204
    assert emulator.requests == []
    assert emulator.state.journal.maxlen == JOURNAL_SIZE == 10_000


def test_tokens_are_redacted_in_the_journal() -> None:
    with run_emulator(count=2, key=None, tokens=["secret-token-j"]) as running:
        httpx.get(f"{running.url}/speechtotext/models?{V}", headers={"Authorization": "Bearer secret-token-j"})
        assert running.requests[0]["headers"]["authorization"] == "[redacted]"
        assert "secret-token-j" not in str(running.requests)


def test_two_keys_and_a_rotation_at_run_time() -> None:
    with run_emulator(count=3, key=["key-one", "key-two"]) as running:
        for key in ("key-one", "key-two"):
            with sm.SpeechToTextModels(running.url, key) as client:
                assert len(list(client.list_models())) == 3
        rotated = admin(running, "POST", "keys", json={"keys": ["key-two", "key-three"]}, headers=running.admin_headers)
        assert rotated.status_code == 200
        with sm.SpeechToTextModels(running.url, "key-one") as client, pytest.raises(sm.AuthenticationError):
            list(client.list_models())
        with sm.SpeechToTextModels(running.url, "key-three") as client:
            assert len(list(client.list_models())) == 3
        bad = admin(running, "POST", "keys", json={"keys": []}, headers={"Ocp-Apim-Subscription-Key": "key-two"})
        assert bad.status_code == 400


def test_reset_restores_data_keys_and_clears_faults_and_journal(emulator: RunningEmulator) -> None:
    headers = emulator.admin_headers
    admin(emulator, "POST", "faults", json={"status": 503, "count": 5}, headers=headers)
    httpx.get(f"{emulator.url}/speechtotext/models?{V}", headers={"Ocp-Apim-Subscription-Key": KEY})
    admin(emulator, "POST", "keys", json={"keys": ["other-key"]}, headers=headers)
    assert admin(emulator, "POST", "reset", headers={"Ocp-Apim-Subscription-Key": "other-key"}).status_code == 204
    assert emulator.requests == []
    assert emulator.state.faults.queue == []
    with sm.SpeechToTextModels(emulator.url, KEY) as client:
        assert len(list(client.list_models())) == 12


def test_the_command_line_takes_the_key_twice() -> None:
    with serving("speech_models_emulator", "--port", "0", "--key", "k-one", "--key", "k-two") as (url, _):
        for key in ("k-one", "k-two"):
            with sm.SpeechToTextModels(url, key) as client:
                assert len(list(client.list_models(max_items=1))) == 1


@pytest.mark.parametrize("http", ["h11", "httptools"])
def test_the_command_line_serves_on_the_parser_asked_for(http: str) -> None:
    with serving("speech_models_emulator", "--port", "0", "--count", "3", "--http", http) as (url, started):
        assert f"serving 3 models on {http};" in started
        with sm.SpeechToTextModels(url, DEFAULT_KEY) as client:
            assert len(list(client.list_models())) == 3


def test_key_authentication_off_leaves_the_admin_routes_open() -> None:
    app = create_app(count=1, key=None, tokens=["t"])
    assert app.state.emulator.keys == []
    with run_emulator(app) as running:
        assert admin(running, "POST", "faults", json={"latency": 0}).status_code == 200


def jwt(**claims: object) -> str:
    def part(value: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJlLW5vdC1jaGVja2Vk"


def test_entra_tokens_are_checked_for_audience_and_expiry() -> None:
    now = 1_900_000_000.0
    app = create_app(count=4, key=None, tokens=["opaque-token"], entra=True, now=lambda: now)
    good = jwt(aud="https://cognitiveservices.azure.com", exp=now + 3600)
    expired = jwt(aud="https://cognitiveservices.azure.com", exp=now - 1)
    elsewhere = jwt(aud="https://storage.azure.com", exp=now + 3600)
    with run_emulator(app) as running:

        def status(token: str) -> httpx.Response:
            return httpx.get(f"{running.url}/speechtotext/models?{V}", headers={"Authorization": f"Bearer {token}"})

        assert status(good).status_code == 200
        assert status("opaque-token").status_code == 200  # --token keeps working beside --entra
        for token, why in ((expired, "expired"), (elsewhere, "audience"), ("not-a-jwt", "not a JWT")):
            refused = status(token)
            assert refused.status_code == 401
            assert why in refused.json()["message"]
            assert refused.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')

        class Entra:
            def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
                return AccessToken(good, int(now + 3600))

        with sm.SpeechToTextModels(running.url, credential=Entra(), now=lambda: now) as client:
            assert len(list(client.list_models())) == 4


def test_validate_turns_an_answer_that_breaks_the_spec_into_a_500_naming_its_path(
    caplog: pytest.LogCaptureFixture,
) -> None:
    models = build_models(3)
    app = create_app(models, validate=True)
    state = app.state.emulator
    broken = {**models[1], "status": "Exploded"}  # changed after the start-up check: the answer breaks the spec
    state.models = store([models[0], broken, models[2]])
    with run_emulator(app) as running:
        response = httpx.get(f"{running.url}/speechtotext/models?{V}", headers=running.admin_headers)
    assert response.status_code == 500
    assert "values[1].status" in response.json()["message"]
    assert "values[1].status" in caplog.text


def test_validate_checks_the_models_it_is_given() -> None:
    good = build_models(1)[0]
    with pytest.raises(ValueError, match=r"model 1 does not match .*models\[1\]\.status"):
        create_app([good, {**good, "status": "Exploded"}], validate=True)


def test_a_bad_data_file_stops_the_start_naming_the_model(tmp_path: Path) -> None:
    good = build_models(1)[0]
    data = tmp_path / "models.json"
    data.write_text(json.dumps([good, good, {**good, "locale": 5}]), encoding="utf-8")
    command = [sys.executable, "-m", "speech_models_emulator", "--port", "0", "--data", str(data)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert "model 2 does not match the spec's CustomModel: models[2].locale" in result.stderr
