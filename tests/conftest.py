"""Shared paths and loaders for the test suite."""

from __future__ import annotations

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
