"""Pytest fixtures for testing code against the emulator. Enable with
``pytest_plugins = ["speech_models_emulator.pytest_plugin"]`` in a ``conftest.py``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .server import RunningEmulator, run_emulator


@pytest.fixture
def speech_emulator() -> Iterator[RunningEmulator]:
    """A fresh emulator (250 built-in models) on a free loopback port, stopped after the test."""
    with run_emulator() as emulator:
        yield emulator
