"""The main job (`make demo`) runs end to end and shows what it promises."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT


def test_demo_lists_pages_retries_a_throttled_request_and_explains_a_bad_filter() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "demo.py")], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "page 3: 10 models (last page)" in out
    assert out.count(" en-US ") >= 5
    assert "429, wait from retry-after" in out
    assert "BadRequestError: 400 Bad Request" in out
    assert "UnsupportedFilter" in out
    assert "4. the command line: speech-models models expiring" in out
    assert "days-left" in out
    assert "exit code 0" in out
    assert out.rstrip().endswith("emulator stopped")


def test_the_observability_example_prints_a_page_span_with_a_retried_try() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "observability.py")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.count('"name": "GET"') == 2
    assert out.count('"name": "SpeechToTextModels.list_models"') == 1
    assert '"http.response.status_code": 429' in out
    assert '"http.request.resend_count": 1' in out
    assert out.rstrip().endswith("]")  # the models' names, after the spans


def test_the_consumer_contract_example_passes() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            str(ROOT / "examples" / "test_consumer_contract.py"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout
