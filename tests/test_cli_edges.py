"""The command line at its edges, in real subprocesses over loopback: an output that cannot be written, a listing
that fails midway (stdout stays valid, stderr says how to resume), the output variable, logging left as found,
tables measured by display width and cut only on a terminal, progress only on a terminal."""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from speech_models._cli import Progress, main
from speech_models._output import COLUMNS, display_width, write
from speech_models_client.models import CustomModel
from speech_models_emulator import run_emulator
from speech_models_emulator.server import RunningEmulator

from tests.loopback import ScriptedServer, answer, page_body

KEY = "cli-edge-key-0123456789"


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    with run_emulator(count=30, key=KEY) as running:
        yield running


def environment(url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_SPEECH_", "SPEECH_MODELS_"))}
    env.update({"AZURE_SPEECH_ENDPOINT": url, "AZURE_SPEECH_KEY": KEY, **extra})
    return env


def cli(url: str, *args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "speech_models", *args]
    env = kwargs.pop("env", None) or environment(url)
    kwargs.setdefault("stdout", subprocess.PIPE)
    return subprocess.run(command, stderr=subprocess.PIPE, text=True, env=env, timeout=60, check=False, **kwargs)


def test_a_full_disk_is_one_line_and_exit_7(emulator: RunningEmulator) -> None:
    with open("/dev/full", "w", encoding="utf-8") as full:
        result = cli(emulator.url, "models", "list", stdout=full)
    assert result.returncode == 7
    assert result.stderr.splitlines() == ["speech-models: error: cannot write the output: No space left on device"]


def test_a_closed_stdout_is_one_line_and_exit_7(emulator: RunningEmulator) -> None:
    command = f"exec {shlex.quote(sys.executable)} -m speech_models models list >&-"
    result = subprocess.run(
        ["sh", "-c", command], capture_output=True, text=True, env=environment(emulator.url), timeout=60, check=False
    )
    assert result.returncode == 7
    assert result.stderr.splitlines() == ["speech-models: error: stdout is closed; nothing can be written"]


def test_an_unknown_output_variable_is_a_usage_error(emulator: RunningEmulator) -> None:
    result = cli(emulator.url, "models", "list", env=environment(emulator.url, SPEECH_MODELS_OUTPUT="yaml"))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "speech-models: error: SPEECH_MODELS_OUTPUT='yaml' is not an output format; use one of json, jsonl, table, csv"
    ]
    chosen = cli(emulator.url, "models", "list", env=environment(emulator.url, SPEECH_MODELS_OUTPUT="jsonl"))
    assert len(chosen.stdout.splitlines()) == 30
    overridden = cli(
        emulator.url, "models", "list", "-o", "json", env=environment(emulator.url, SPEECH_MODELS_OUTPUT="x")
    )
    assert overridden.returncode == 0
    assert len(json.loads(overridden.stdout)) == 30


@pytest.mark.parametrize("output", ["json", "jsonl", "csv"])
def test_a_listing_that_fails_midway_leaves_valid_output_and_says_how_to_resume(output: str) -> None:
    with ScriptedServer([]) as server:
        link = f"{server.url}/speechtotext/models?page=2"
        server.play(
            [
                answer(body=page_body(2, link)),
                answer(404, b'{"code":"NotFound","message":"gone"}'),
                answer(body=page_body(2, None, 2)),
            ]
        )
        first = cli(server.url, "models", "list", "-o", output, env=environment(server.url))
        assert first.returncode == 5
        lines = first.stderr.splitlines()
        assert len(lines) == 1, first.stderr
        assert "NotFoundError" in lines[0]
        assert "stopped after 2 models" in lines[0]
        token = shlex.split(lines[0].split("resume with --continuation-token ", 1)[1])[0]
        assert token == link
        rest = cli(
            server.url, "models", "list", "-o", output, "--continuation-token", token, env=environment(server.url)
        )
    assert rest.returncode == 0, rest.stderr

    def names(text: str) -> list[str]:
        if output == "json":
            return [m["displayName"] for m in json.loads(text)]
        if output == "jsonl":
            return [json.loads(line)["displayName"] for line in text.splitlines()]
        return [row["name"] for row in csv.DictReader(io.StringIO(text))]

    assert names(first.stdout) == ["m0", "m1"]  # json: the array was closed
    assert names(rest.stdout) == ["m2", "m3"]


def test_debug_leaves_the_logging_configuration_as_found(
    emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZURE_SPEECH_ENDPOINT", emulator.url)
    monkeypatch.setenv("AZURE_SPEECH_KEY", KEY)
    logger = logging.getLogger("speech_models")
    before = (list(logger.handlers), logger.level)
    for _ in range(3):
        err = io.StringIO()
        assert main(["models", "list", "--debug", "--max-items", "1"], out=io.StringIO(), err=err) == 0
        assert "debug: speech_models" in err.getvalue()
    assert (list(logger.handlers), logger.level) == before


def model(name: str, description: str = "") -> CustomModel:
    return CustomModel.from_dict({"displayName": name, "description": description, "locale": "ja-JP"})


def table(items: list[CustomModel], width: int | None, columns: tuple[str, ...] = ("name", "locale")) -> list[str]:
    out = io.StringIO()
    write(iter(items), "table", [COLUMNS[c] for c in columns], out, as_json=lambda m: m, width=width)
    return out.getvalue().splitlines()


def test_wide_characters_keep_the_columns_aligned() -> None:
    lines = table([model("音声モデル"), model("plain"), model("e\u0301")], width=None)
    starts = {line.index("ja-JP") for line in lines[2:]}
    widths = {display_width(line[: line.index("ja-JP")]) for line in lines[2:]}
    assert len(widths) == 1, lines  # the locale column starts at the same display column on every row
    assert starts != {next(iter(starts))} or len(starts) == 1


def test_control_characters_cannot_break_a_row() -> None:
    lines = table([model("two\nlines\tand\x1b[31mred"), model("next")], width=None)
    assert len(lines) == 4
    assert lines[2].startswith("two\\nlines\\tand\\x1b[31mred")


def test_a_table_is_cut_only_on_a_terminal() -> None:
    long = [model("n" * 30, "d" * 200)]
    piped = table(long, width=None, columns=("name", "description"))
    assert max(map(len, piped)) > 200
    on_terminal = table(long, width=80, columns=("name", "description"))
    assert max(map(display_width, on_terminal)) <= 80
    assert on_terminal[2].endswith("…")


def test_piped_tables_from_the_command_line_are_whole(emulator: RunningEmulator) -> None:
    result = cli(emulator.url, "models", "list", "-o", "table", "--columns", "name,id,created,description")
    assert result.returncode == 0
    assert "…" not in result.stdout
    assert max(map(len, result.stdout.splitlines())) > 120


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("stream", "shown"), [(io.StringIO(), False), (Terminal(), True)])
def test_progress_is_shown_only_on_a_terminal(stream: io.StringIO, shown: bool) -> None:
    now = [0.0]
    progress = Progress(stream, enabled=True, clock=lambda: now[0])
    progress.page(100)
    now[0] = 1.5
    progress.page(100)
    assert ("200 models, 2 pages so far" in stream.getvalue()) is shown


def test_the_readme_names_the_default_columns() -> None:
    from speech_models._cli import DEFAULT_EXPIRING_COLUMNS
    from speech_models._output import DEFAULT_COLUMNS

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    assert f"by default: `{','.join(DEFAULT_COLUMNS)}`" in readme
    assert f"by default: `{','.join(DEFAULT_EXPIRING_COLUMNS)}`" in readme


@pytest.mark.parametrize("command", [[], ["models"], ["models", "list"], ["models", "expiring"]])
def test_help_fits_80_columns_and_breaks_only_between_words(
    command: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from speech_models._cli import main

    monkeypatch.setenv("COLUMNS", "80")
    with pytest.raises(SystemExit):
        main([*command, "--help"])
    lines = capsys.readouterr().out.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert not [line for line in lines if re.search(r"\w-$", line)]  # no word cut at its hyphen
    assert any("transcription-deprecation" in line for line in lines) or command[:2] != ["models", "list"]


def test_ids_are_never_cut_the_other_columns_narrow_first() -> None:
    item = CustomModel.from_dict(
        {
            "displayName": "a rather long display name of a model",
            "locale": "en-US",
            "self": "https://x.test/speechtotext/models/13cfe2c4-5119-5865-9ec0-e0f5dedff3c8?api-version=2025-10-15",
        }
    )
    lines = table([item], width=60, columns=("name", "id", "locale"))
    assert "13cfe2c4-5119-5865-9ec0-e0f5dedff3c8" in lines[2]
    assert "…" in lines[2]  # the name was cut instead
    assert max(map(display_width, lines)) <= 60
    narrowest = table([item], width=20, columns=("name", "id"))  # too narrow even so: the line runs over
    assert "13cfe2c4-5119-5865-9ec0-e0f5dedff3c8" in narrowest[2]


def test_a_table_is_written_as_its_rows_come() -> None:
    """The first page's rows are written before the next page is fetched (``| head -3`` ends at once)."""
    out = io.StringIO()
    seen_when_asked: list[int] = []

    def items() -> Iterator[CustomModel]:
        for k in range(250):
            if k == 150:
                seen_when_asked.append(len(out.getvalue().splitlines()))
            yield model(f"m{k}")

    assert write(items(), "table", [COLUMNS["name"]], out, as_json=lambda m: m, width=None) == 250
    assert seen_when_asked == [2 + 150]  # header, rule, the first 100 rows and the 50 after them
    assert len(out.getvalue().splitlines()) == 252
