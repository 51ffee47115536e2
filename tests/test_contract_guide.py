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
    return re.findall(rf"^```{language}\n(.*?)^```$", GUIDE.read_text(encoding="utf-8"), re.MULTILINE | re.DOTALL)


def test_the_guide_has_its_snippets() -> None:
    assert len(blocks("python")) == 6
    assert len(blocks("sh")) == 1


@pytest.mark.parametrize("index", range(6))
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


def test_the_shell_snippet_runs_against_the_emulator() -> None:
    with run_emulator(count=5) as emulator:
        environment = {**os.environ, "EMULATOR": emulator.url, "KEY": emulator.key}
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", blocks("sh")[0]],
            env=environment,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        assert lines[0].startswith('{"values":[')
        assert "503" in lines
        assert emulator.state.quota.limit is None  # reset: back to no quota, as it started
        assert emulator.requests == []  # and an empty journal
