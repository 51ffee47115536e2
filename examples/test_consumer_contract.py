"""A consumer's contract tests against the emulator, as another team would write them: the pytest fixture, the
request journal, and a seeded chaos run. Run with ``pytest examples/test_consumer_contract.py``.

The code under test is ``running_model_names``: it must ask the service for running models only, and survive a
flaky network."""

from __future__ import annotations

import speech_models as sm
from speech_models_emulator.server import RunningEmulator

pytest_plugins = ["speech_models_emulator.pytest_plugin"]


def running_model_names(endpoint: str, key: str) -> list[str]:
    """The consumer's code: the names of the subscription's running models."""
    with sm.SpeechToTextModels(endpoint, key) as client:
        return [m.display_name or "" for m in client.list_models(filter="status eq 'Running'", top=50)]


def test_it_asks_for_running_models_only(speech_emulator: RunningEmulator) -> None:
    running_model_names(speech_emulator.url, speech_emulator.key)
    sent = speech_emulator.requests[0]
    assert sent["query"]["filter"] == "status eq 'Running'"
    assert sent["query"]["top"] == "50"


def test_it_survives_a_flaky_network(speech_emulator: RunningEmulator) -> None:
    """30% of the requests meet a fault (resets, cut bodies, stalls, drips, 429s, 503s), the same ones on every run
    (seed 7); the SDK's retries make up for them. (In a conftest.py that loads the plugin,
    ``@pytest.mark.speech_emulator(chaos=0.3, seed=7)`` sets the same from the start.)"""
    calm = running_model_names(speech_emulator.url, speech_emulator.key)
    speech_emulator.state.chaos.configure({"rate": 0.3, "seed": 7})
    for _ in range(10):
        assert running_model_names(speech_emulator.url, speech_emulator.key) == calm
    assert any(entry["fault"] for entry in speech_emulator.requests)  # the chaos did happen
