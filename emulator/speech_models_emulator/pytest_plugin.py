"""Pytest fixtures for testing code against the emulator. Enable with
``pytest_plugins = ["speech_models_emulator.pytest_plugin"]`` in a ``conftest.py``.

``@pytest.mark.speech_emulator(count=50, chaos=0.3, seed=7)`` passes its arguments to ``run_emulator`` (and so to
``create_app``) for one test; ``speech_emulator.requests`` is the journal of what the code under test sent."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .server import RunningEmulator, run_emulator


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "speech_emulator(**kwargs): arguments of run_emulator for the speech_emulator fixture"
    )


@pytest.fixture
def speech_emulator(request: pytest.FixtureRequest) -> Iterator[RunningEmulator]:
    """A fresh emulator (250 built-in models unless the ``speech_emulator`` mark says otherwise) on a free loopback
    port, stopped after the test."""
    marker = request.node.get_closest_marker("speech_emulator")
    with run_emulator(**(marker.kwargs if marker else {})) as emulator:
        yield emulator
