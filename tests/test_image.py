"""``scripts/image.py`` where no container engine is: ``make image-test`` says plainly that it did not run (and
passes: the machine, not the image, is missing something), ``make image`` fails naming what is missing. The image
itself is tested by ``make image-test``, which ``make test`` runs after this suite."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from importlib.metadata import version

import pytest

from tests.conftest import ROOT


@pytest.mark.parametrize(
    ("action", "code", "said"), [("test", 0, "make image-test: did not run:"), ("build", 1, "make image:")]
)
def test_without_an_engine_it_says_so(action: str, code: int, said: str) -> None:
    env = {**os.environ, "CONTAINER_ENGINE": "no-such-container-engine"}
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "image.py"), action],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == code
    assert f"{said} no-such-container-engine is not installed" in result.stdout + result.stderr


def test_the_testcontainers_module_passes_the_emulators_options() -> None:
    """What a container is started with (the container class needs an engine: ``make image-test`` starts one)."""
    from speech_models_emulator.testcontainers import DEFAULT_IMAGE, emulator_arguments

    arguments = emulator_arguments(count=5, quota=(100, 10.0), latency=0.03, key="k1", arguments=["--seed", "7"])
    assert arguments == ["--key", "k1", "--count", "5", "--quota", "100/10", "--latency", "0.03", "--seed", "7"]
    assert emulator_arguments() == ["--key", "emulator-key"]
    assert f"speech-models-emulator:{version('speech-models')}" == DEFAULT_IMAGE
    with pytest.raises(ValueError, match="key must be a non-empty string"):
        emulator_arguments(key="")


def test_make_image_test_runs_the_guides_testcontainers_snippet() -> None:
    spec = importlib.util.spec_from_file_location("image_script", ROOT / "scripts" / "image.py")
    assert spec is not None
    assert spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    snippet = script.guide_snippet()
    assert "SpeechModelsEmulatorContainer(count=120)" in snippet
    compile(snippet, "snippet", "exec")
