"""Shared paths and loaders for the test suite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

pytest_plugins = ["speech_models_emulator.pytest_plugin"]

ROOT = Path(__file__).resolve().parent.parent
SPEC_PATH = ROOT / "openapi" / "speechtotext-models.yaml"


@pytest.fixture(scope="session")
def spec() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    return loaded


@pytest.fixture(autouse=True, scope="session")
def _emulators_check_their_answers() -> Iterator[None]:
    """Every emulator the tests start, in-process, on a port or in a subprocess, checks each answer against the
    spec before sending it (a violation is a 500 naming its JSON path)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SPEECH_MODELS_EMULATOR_VALIDATE", "1")
        yield


@pytest.fixture(autouse=True, scope="session")
def _no_proxies_from_the_machine() -> Iterator[None]:
    """Tests talk to 127.0.0.1 only: proxy settings of the machine running them must not reroute that."""
    with pytest.MonkeyPatch.context() as patch:
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
            patch.delenv(name, raising=False)
        yield
