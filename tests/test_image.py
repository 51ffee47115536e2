"""``scripts/image.py`` where no container engine is: ``make image-test`` says plainly that it did not run (and
passes: the machine, not the image, is missing something), ``make image`` fails naming what is missing. The image
itself is tested by ``make image-test``, which ``make test`` runs after this suite."""

from __future__ import annotations

import os
import subprocess
import sys

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
