"""The ``speech-models`` command line, run as a subprocess against the emulator on a loopback port: every output
format read back and compared with the SDK's own listing, ``expiring`` on known dates, each exit code, secrets
in no output, a closed pipe and Ctrl-C met quietly."""

from __future__ import annotations

import csv
import datetime
import io
import json
import os
import pty
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import speech_models as sm
from speech_models._cli import main
from speech_models_emulator import build_models, run_emulator
from speech_models_emulator.server import RunningEmulator

from tests.served import serving

SECRET = "cli-secret-key-0123456789"
COUNT = 120


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    with run_emulator(count=COUNT, key=SECRET) as running:
        yield running


def cli(
    emulator: RunningEmulator | None, *args: str, key: str = SECRET, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AZURE_SPEECH_")}
    if emulator is not None:
        environment.update({"AZURE_SPEECH_ENDPOINT": emulator.url, "AZURE_SPEECH_KEY": key})
    environment.update(env or {})
    command = [sys.executable, "-m", "speech_models", *args]
    return subprocess.run(command, capture_output=True, text=True, env=environment, timeout=60, check=False)


def sdk_models(emulator: RunningEmulator, **kwargs: Any) -> list[sm.CustomModel]:
    with sm.SpeechToTextModels(emulator.url, SECRET) as client:
        return list(client.list_models(**kwargs))


def model_id(model: sm.CustomModel) -> str:
    return (model.self_ or "").split("?")[0].rsplit("/", 1)[-1]


def iso(value: datetime.datetime | None) -> str:
    return "" if value is None else value.isoformat().replace("+00:00", "Z")


def test_json_is_the_services_objects_exactly(emulator: RunningEmulator) -> None:
    result = cli(emulator, "models", "list", "--output", "json", "--top", "25")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [m.to_dict() for m in sdk_models(emulator)]
    assert result.stderr == ""


def test_concurrency_lists_the_same_models_in_the_same_order(emulator: RunningEmulator) -> None:
    emulator.state.journal.clear()
    result = cli(emulator, "models", "list", "-o", "jsonl", "--top", "10", "--concurrency", "4")
    asked = [entry["query"] for entry in emulator.requests]
    assert result.returncode == 0, result.stderr
    assert [json.loads(line) for line in result.stdout.splitlines()] == [m.to_dict() for m in sdk_models(emulator)]
    pages = COUNT // 10
    skips = sorted(int(query.get("skip", 0)) for query in asked)  # in the order they arrived: fetched at once
    assert skips[:pages] == [10 * n for n in range(pages)]
    assert len(asked) <= pages + 3  # at most concurrency - 1 asked past the end


def test_a_bad_concurrency_is_a_usage_error(emulator: RunningEmulator) -> None:
    result = cli(emulator, "models", "list", "--concurrency", "0")
    assert result.returncode == 2
    assert "concurrency must be an integer from 1 to 64" in result.stderr
    assert "Traceback" not in result.stderr


def test_json_is_the_default_output_and_an_environment_variable_changes_it(emulator: RunningEmulator) -> None:
    assert json.loads(cli(emulator, "models", "list", "--max-items", "3").stdout)[0]["displayName"]
    lines = cli(emulator, "models", "list", "--max-items", "3", env={"SPEECH_MODELS_OUTPUT": "jsonl"}).stdout
    assert len(lines.splitlines()) == 3


def test_jsonl_one_model_a_line(emulator: RunningEmulator) -> None:
    result = cli(emulator, "models", "list", "-o", "jsonl", "--filter", "status eq 'Running'")
    assert result.returncode == 0, result.stderr
    got = [json.loads(line) for line in result.stdout.splitlines()]
    assert got == [m.to_dict() for m in sdk_models(emulator, filter="status eq 'Running'")]
    assert got


def test_csv_has_a_header_and_stable_columns(emulator: RunningEmulator) -> None:
    result = cli(emulator, "models", "list", "-o", "csv", "--max-items", "40")
    assert result.returncode == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["name", "id", "locale", "status", "created", "transcription-deprecation"]
    expected = [
        [
            m.display_name or "",
            model_id(m),
            m.locale or "",
            str(m.status),
            iso(m.created_date_time),
            iso(m.properties.deprecation_dates.transcription_date_time)
            if m.properties and m.properties.deprecation_dates
            else "",
        ]
        for m in sdk_models(emulator, max_items=40)
    ]
    assert rows[1:] == expected
    chosen = cli(emulator, "models", "list", "-o", "csv", "--max-items", "2", "--columns", "id,status")
    assert next(iter(csv.reader(io.StringIO(chosen.stdout)))) == ["id", "status"]


def on_a_terminal(emulator: RunningEmulator, *args: str, columns: int) -> str:
    """Run the command line with stdout on a pseudo-terminal `columns` wide; return what it showed there."""
    leader, follower = pty.openpty()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AZURE_SPEECH_")}
    environment.update({"AZURE_SPEECH_ENDPOINT": emulator.url, "AZURE_SPEECH_KEY": SECRET, "COLUMNS": str(columns)})
    command = [sys.executable, "-m", "speech_models", *args]
    with subprocess.Popen(command, stdout=follower, stderr=subprocess.PIPE, env=environment) as child:
        os.close(follower)
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            shown += chunk
        child.wait(60)
    os.close(leader)
    assert child.returncode == 0
    return shown.decode().replace("\r\n", "\n")


def test_table_fits_the_terminal_and_lists_every_model(emulator: RunningEmulator) -> None:
    narrow = on_a_terminal(emulator, "models", "list", "-o", "table", columns=100)
    assert max(len(line) for line in narrow.splitlines()) <= 100
    assert "…" in narrow  # cut to fit
    wide = on_a_terminal(emulator, "models", "list", "-o", "table", columns=250).splitlines()
    assert wide[0].split()[:4] == ["name", "id", "locale", "status"]
    assert len(wide) == COUNT + 2
    models = sdk_models(emulator)
    assert [line.split("  ")[0].strip() for line in wide[2:]] == [m.display_name for m in models]
    assert [line.split()[-5] for line in wide[2:]] == [model_id(m) for m in models]


def test_expiring_on_known_dates_soonest_first(tmp_path: Path) -> None:
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)

    def model(name: str, days: float | None, adaptation_days: float | None = None) -> dict[str, Any]:
        dates: dict[str, str] = {}
        if days is not None:
            dates["transcriptionDateTime"] = iso(now + datetime.timedelta(days=days))
        if adaptation_days is not None:
            dates["adaptationDateTime"] = iso(now + datetime.timedelta(days=adaptation_days))
        return {
            "displayName": name,
            "locale": "en-US",
            "status": "Succeeded",
            "properties": {"deprecationDates": dates},
        }

    data = [model("later", 40), model("soon", 10, adaptation_days=5), model("gone", -3), model("none", None)]
    path = tmp_path / "models.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with run_emulator(models=data, key=SECRET) as running:
        within = cli(running, "models", "expiring", "--within", "30", "-o", "json")
        assert within.returncode == 0, within.stderr
        got = [(row["model"]["displayName"], row["kind"]) for row in json.loads(within.stdout)]
        assert got == [("gone", "transcription"), ("soon", "adaptation"), ("soon", "transcription")]
        only = cli(running, "models", "expiring", "--within", "60", "--kind", "transcription", "-o", "csv")
        names = [row[0] for row in csv.reader(io.StringIO(only.stdout))][1:]
        assert names == ["gone", "soon", "later"]
        before = cli(running, "models", "expiring", "--before", iso(now + datetime.timedelta(days=11)), "-o", "jsonl")
        assert [json.loads(line)["model"]["displayName"] for line in before.stdout.splitlines()] == [
            "gone",
            "soon",
            "soon",
        ]
        table = cli(running, "models", "expiring", "--within", "30", "-o", "table")
        assert "days-left" in table.stdout.splitlines()[0]


@pytest.mark.parametrize(
    ("args", "fault", "code", "message"),
    [
        (["models", "list", "--filter", "bogus eq 1"], None, 2, "BadRequestError"),
        (["models", "list", "--top", "x"], None, 2, "invalid int value"),
        (["models", "expiring", "--within", "-4"], None, 2, "--within takes a number of days"),
        (["models", "list", "-o", "csv", "--columns", "nope"], None, 2, "unknown column 'nope'"),
        (["models", "list", "-o", "jsonl", "--columns", "id"], None, 2, "--columns applies to -o table and -o csv"),
        (["models", "expiring", "-o", "json", "--columns", "id"], None, 2, "-o json writes the service's objects"),
        (["models", "list"], {"status": 429, "retry_after": 600}, 4, "RateLimitError"),
        (["models", "list"], {"status": 503, "retry_after": 0, "count": 10}, 5, "4 attempts"),
        (["models", "list"], {"malformed": True, "count": 10}, 6, "4 attempts"),
    ],
)
def test_each_failure_has_its_exit_code_and_one_line(
    emulator: RunningEmulator, args: list[str], fault: dict[str, Any] | None, code: int, message: str
) -> None:
    httpx.delete(f"{emulator.url}/_emulator/faults", headers=emulator.admin_headers)
    if fault:
        httpx.post(f"{emulator.url}/_emulator/faults", json=fault, headers=emulator.admin_headers).raise_for_status()
    result = cli(emulator, *args)
    httpx.delete(f"{emulator.url}/_emulator/faults", headers=emulator.admin_headers)
    assert result.returncode == code, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_missing_endpoint_and_wrong_key(emulator: RunningEmulator) -> None:
    missing = cli(None, "models", "list")
    assert missing.returncode == 2
    assert "no endpoint: pass --endpoint or set AZURE_SPEECH_ENDPOINT" in missing.stderr
    keyless = cli(None, "models", "list", "--endpoint", emulator.url)
    assert keyless.returncode == 2
    assert "no subscription key: pass --key or set AZURE_SPEECH_KEY (or use --auth entra)" in keyless.stderr
    wrong = cli(emulator, "models", "list", "--debug", key="wrong-" + SECRET)
    assert wrong.returncode == 3
    assert "AuthenticationError" in wrong.stderr
    assert "debug: speech_models" in wrong.stderr
    for text in (wrong.stdout, wrong.stderr):
        assert SECRET not in text


def test_the_key_is_in_no_output(emulator: RunningEmulator) -> None:
    result = cli(emulator, "models", "list", "--debug", "-o", "table", "--max-items", "5", "--key", SECRET)
    assert result.returncode == 0
    assert SECRET not in result.stdout + result.stderr


def test_a_closed_pipe_is_quiet(emulator: RunningEmulator) -> None:
    environment = {**os.environ, "AZURE_SPEECH_ENDPOINT": emulator.url, "AZURE_SPEECH_KEY": SECRET}
    command = [sys.executable, "-m", "speech_models", "models", "list", "-o", "jsonl", "--top", "10"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environment) as child:
        assert child.stdout is not None
        assert child.stderr is not None
        first = child.stdout.readline()
        child.stdout.close()  # what `| head -1` does
        error = child.stderr.read()
        code = child.wait(30)
    assert json.loads(first)["displayName"]
    assert error == b""
    assert code == 0


def interrupted(emulator: RunningEmulator, command: list[str]) -> tuple[int, bytes, bytes]:
    """Runs `command` against `emulator` answering after 5 s, sends it Ctrl-C while its first request waits, and
    returns its exit code, stdout and stderr after that line; a command that has not ended 30 s later is killed
    (so it cannot hold the suite) and fails the test."""
    httpx.post(
        f"{emulator.url}/_emulator/faults", json={"latency": 5}, headers=emulator.admin_headers
    ).raise_for_status()
    environment = {**os.environ, "AZURE_SPEECH_ENDPOINT": emulator.url, "AZURE_SPEECH_KEY": SECRET}
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environment)
    try:
        assert child.stderr is not None
        for line in child.stderr:  # ready: the debug log says the request is on its way (5 s of latency)
            if b"(attempt 1)" in line:
                break
        child.send_signal(signal.SIGINT)
        try:
            out, err = child.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            pytest.fail("the command did not end within 30 s of Ctrl-C")
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
        httpx.delete(f"{emulator.url}/_emulator/faults", headers=emulator.admin_headers)
    return child.returncode, out, err


def test_ctrl_c_exits_130_quietly(emulator: RunningEmulator) -> None:
    code, out, err = interrupted(emulator, [sys.executable, "-m", "speech_models", "models", "list", "--debug"])
    assert code == 130
    assert err == b""  # nothing after the request's debug line: no traceback, no message
    assert out == b""


def test_ctrl_c_ends_the_command_even_when_its_unwinding_waits_forever(emulator: RunningEmulator) -> None:
    """The interrupt can land where the unwinding then waits on a lock it left held (httpcore's; the CI saw it): here
    the unwinding waits on such a lock for good, and the command still exits 130, ``INTERRUPT_GRACE`` later."""
    script = (
        "import sys, threading, httpcore\n"
        "from speech_models._cli import run\n"
        "held = threading.Lock()\n"
        "original = httpcore.ConnectionPool.handle_request\n"
        "def handle_request(self, request):\n"
        "    try:\n"
        "        return original(self, request)\n"
        "    except KeyboardInterrupt:\n"
        "        held.acquire()\n"
        "        held.acquire()  # never released: where the interrupt left its lock\n"
        "        raise\n"
        "httpcore.ConnectionPool.handle_request = handle_request\n"
        "sys.argv = ['speech-models', 'models', 'list', '--debug']\n"
        "run()\n"
    )
    code, out, _ = interrupted(emulator, [sys.executable, "-c", script])
    assert code == 130
    assert out == b""


def test_ctrl_c_that_lands_inside_the_pools_lock_still_exits(
    monkeypatch: pytest.MonkeyPatch, emulator: RunningEmulator
) -> None:
    """A KeyboardInterrupt can arrive just after httpcore's pool took its lock and before its ``__enter__`` returned
    (the CI saw the subprocess test above hang once): the lock stays held, and closing the pool would wait forever.
    Here the interrupt is put exactly there; the command must still end, with 130."""
    import threading

    import httpcore

    def interrupted(pool: httpcore.ConnectionPool, request: httpcore.Request) -> httpcore.Response:
        pool._optional_thread_lock._lock.acquire()  # taken, never released: where the interrupt landed
        raise KeyboardInterrupt

    monkeypatch.setattr(httpcore.ConnectionPool, "handle_request", interrupted)
    monkeypatch.setenv("AZURE_SPEECH_ENDPOINT", emulator.url)
    monkeypatch.setenv("AZURE_SPEECH_KEY", SECRET)
    codes: list[int] = []
    command = threading.Thread(
        target=lambda: codes.append(main(["models", "list"], out=io.StringIO(), err=io.StringIO())), daemon=True
    )
    command.start()
    command.join(30)  # ends at once; a close that waits on the held lock would never end
    assert codes == [130]


def test_missing_extras_are_named(monkeypatch: pytest.MonkeyPatch, emulator: RunningEmulator) -> None:
    err = io.StringIO()
    monkeypatch.setitem(sys.modules, "speech_models_emulator.__main__", None)  # as if the extra were absent
    assert main(["emulator"], out=io.StringIO(), err=err) == 2
    assert "pip install 'speech-models[emulator]'" in err.getvalue()
    monkeypatch.setitem(sys.modules, "azure.identity", None)  # absent, whether or not it is installed here
    monkeypatch.setenv("AZURE_SPEECH_ENDPOINT", emulator.url)
    err = io.StringIO()
    assert main(["models", "list", "--auth", "entra"], out=io.StringIO(), err=err) == 2
    assert "pip install 'speech-models[azure]'" in err.getvalue()


@pytest.mark.parametrize("http", [[], ["--http", "h11"]], ids=["default", "h11"])
def test_the_emulator_command_serves_until_stopped(http: list[str]) -> None:
    with serving("speech_models", "emulator", "--port", "0", "--count", "7", *http) as (url, started):
        assert f"models on {http[-1] if http else 'httptools'};" in started
        with sm.SpeechToTextModels(url, "emulator-key") as client:
            assert [m.display_name for m in client.list_models()] == [m["displayName"] for m in build_models(7)]


@pytest.mark.parametrize("command", [["--help"], ["models", "list", "--help"], ["models", "expiring", "--help"]])
def test_help_has_an_example(command: list[str]) -> None:
    result = cli(None, *command)
    assert result.returncode == 0
    assert "example: speech-models" in result.stdout
