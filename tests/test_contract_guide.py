"""Every snippet of ``docs/contract-testing.md`` runs: test modules under pytest in a child process, the other
Python blocks as they are, the shell block against an emulator on a loopback port."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from speech_models_emulator import run_emulator

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "contract-testing.md"


def blocks(language: str) -> list[str]:
    """The guide's blocks in `language`; the testcontainers one needs the image and an engine: ``make image-test``
    runs it (``scripts/image.py``)."""
    found = re.findall(rf"^```{language}\n(.*?)^```$", GUIDE.read_text(encoding="utf-8"), re.MULTILINE | re.DOTALL)
    return [block for block in found if "speech_models_emulator.testcontainers" not in block]


def test_the_guide_has_its_snippets() -> None:
    assert len(blocks("python")) == 7
    assert len(blocks("sh")) == 2


@pytest.mark.parametrize("index", range(7))
def test_each_python_snippet_runs(index: int, tmp_path: Path) -> None:
    code = blocks("python")[index]
    if "pytest_plugins" in code:  # a test module: its tests must pass
        module = tmp_path / "test_guide_snippet.py"
        module.write_text(code, encoding="utf-8")
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", str(module)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
        assert re.search(r"\b3 passed\b", result.stdout)
    else:
        exec(compile(code, f"{GUIDE.name}[{index}]", "exec"), {"__name__": "guide"})  # noqa: S102 - our own docs


def _run_shell_block(index: int, environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", blocks("sh")[index]],
        env={**os.environ, **environment},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_shell_snippet_runs_against_the_emulator() -> None:
    with run_emulator(count=5) as emulator:
        result = _run_shell_block(0, {"EMULATOR": emulator.url, "KEY": emulator.key})
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        assert lines[0].startswith('{"values":[')
        assert "503" in lines
        assert emulator.state.quota.limit is None  # reset: back to no quota, as it started
        assert emulator.requests == []  # and an empty journal


def test_the_verify_snippet_finds_no_drift_between_the_emulator_and_itself() -> None:
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    with run_emulator(count=5) as emulator:
        environment = {"PATH": path, "AZURE_SPEECH_ENDPOINT": emulator.url, "AZURE_SPEECH_KEY": emulator.key}
        result = _run_shell_block(1, environment)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1].endswith("facts compared: no differences")
