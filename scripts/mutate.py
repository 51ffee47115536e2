"""``make mutate``: mutation testing (mutmut, pinned in requirements/mutate.txt) of the overlay's
retry (policy, throttle and both transports), read-ahead, paging, page, endpoint, headers and auth modules against
the tests that exercise them. Not part of ``make test``: it takes long.

mutmut imports the mutated code from ``mutants/`` or ``mutants/src/`` of the folder it runs in, so the overlay is
staged as ``.mutate/src/speech_models`` beside a copy of ``tests/``; the staged folder comes first on ``sys.path``,
ahead of the editable install's ``overlay/``. The score and the survivors are printed, and written to
``.mutate/results.txt``; docs/mutation.md records a run and why each kept survivor is kept. An interrupted run
resumes where it stopped (``make clean`` or removing ``.mutate/`` starts over); ``--retest-survivors`` tests the
survivors of earlier runs again, against the tests as they are now.

mutmut 3.8.1 maps each function to the tests that reach it once, and on a resumed run maps only the tests added
since: a function added or renamed since is then tried against those alone, and its mutants survive for want of a
test. So the map is made anew at the start of every run.

    make mutate                       # every module
    make mutate MODULES="_headers"    # some of them
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STAGE = ROOT / ".mutate"
MODULES = (
    "_retry",
    "_retry_transport",
    "_async_retry_transport",
    "_throttle",
    "_ahead",
    "_paging",
    "_page",
    "_endpoint",
    "_headers",
    "_auth",
)
# The tests that exercise those modules, in process or over loopback; not the ones that read the repository
# (README, spec, build) or start subprocesses, nor the storm of 1,200 cancelled listings (the per-point
# cancellation tests stay).
TESTS = (
    "tests/test_retry.py",
    "tests/test_paging.py",
    "tests/test_client.py",
    "tests/test_faults.py",
    "tests/test_auth.py",
    "tests/test_credentials.py",
    "tests/test_resume.py",
    "tests/test_escapes.py",
    "tests/test_cancellation.py",
    "tests/test_peer_pitfalls.py",
    "tests/test_call_control.py",
    "tests/test_read_ahead.py",
    "tests/test_concurrent_listing.py",
    "tests/test_token_fetch.py",
    "tests/test_pool_storm.py",
    "tests/test_throttle.py",
    "tests/test_mutant_gaps.py",
    "tests/test_telemetry.py",
)
# A mutant that hangs a test (a wait that never ends) fails it here instead of at the suite's 120 s: the slowest
# staged test takes about 5 s, and mutmut's own limit is of CPU time, which a hung test does not spend.
MUTANT_TIMEOUT = 30
DESELECT = (
    "not storm_of_cancelled and not command_line and not environment_is_one_line and not without_its_extra"
    " and not declared and not interpreter_exit"
)


def stage(modules: list[str]) -> None:
    """Copy the code and tests into the stage, over an earlier one: mutmut resumes where a run stopped and tests
    again only the functions that changed since."""
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(
        ROOT / "overlay" / "speech_models", STAGE / "src" / "speech_models", dirs_exist_ok=True, ignore=ignore
    )
    shutil.copytree(ROOT / "tests", STAGE / "tests", dirs_exist_ok=True, ignore=ignore)
    shutil.copytree(ROOT / "openapi", STAGE / "openapi", dirs_exist_ok=True)  # the reference page and spec tests read
    only = "\n".join(f"    src/speech_models/{module}.py" for module in modules)
    tests = "\n".join(f"    {test}" for test in TESTS)
    (STAGE / "setup.cfg").write_text(
        "[mutmut]\n"
        "source_paths = src/\n"
        "also_copy = openapi/\n"
        f"only_mutate =\n{only}\n"
        f"pytest_add_cli_args_test_selection =\n{tests}\n"
        f"pytest_add_cli_args =\n    -k\n    {DESELECT}\n    -p\n    no:cacheprovider\n",
        encoding="utf-8",
    )
    pytest_config = (ROOT / "pyproject.toml").read_text(encoding="utf-8").split("[tool.pytest.ini_options]", 1)[1]
    (STAGE / "pytest.ini").write_text("[pytest]\n" + _ini(pytest_config.split("\n[", 1)[0]), encoding="utf-8")


def fresh_start(modules: list[str], retest_survivors: bool) -> None:
    """Drop mutmut's map of tests to functions (made anew by the run), the plain copies an earlier run with fewer
    modules left of the ones to mutate now (mutmut mutates only a file newer than its copy), and, if asked, the
    earlier survivors' results."""
    (STAGE / "mutants" / "mutmut-stats.json").unlink(missing_ok=True)
    staged = STAGE / "mutants" / "src" / "speech_models"
    for module in modules:
        if not (staged / f"{module}.py.meta").exists():
            (staged / f"{module}.py").unlink(missing_ok=True)
    if not retest_survivors:
        return
    for meta in (STAGE / "mutants").rglob("*.meta"):
        data = json.loads(meta.read_text(encoding="utf-8"))
        codes = data.get("exit_code_by_key", {})
        data["exit_code_by_key"] = {name: None if code == 0 else code for name, code in codes.items()}
        meta.write_text(json.dumps(data), encoding="utf-8")


def _ini(toml: str) -> str:
    """The project's pytest settings (TOML) as pytest.ini lines: addopts and the warning filters, and a timeout of
    ``MUTANT_TIMEOUT`` seconds a test."""
    lines = [f"timeout = {MUTANT_TIMEOUT}"]
    match = re.search(r"^addopts = (.+)$", toml, re.M)
    if match:
        lines.append(f"addopts = {match.group(1).strip(chr(34))}")
    filters = re.findall(r'^\s+"([^"]+)",$', toml, re.M)
    lines.append("filterwarnings =\n" + "\n".join(f"    {item}" for item in filters))
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--modules", default=" ".join(MODULES), help="overlay modules to mutate (default: all of them)")
    parser.add_argument("--max-children", default="2", help="mutants tested at once")
    parser.add_argument("--retest-survivors", action="store_true", help="test the earlier runs' survivors again")
    args = parser.parse_args()
    modules = args.modules.split()
    unknown = sorted(set(modules) - set(MODULES))
    if unknown:
        print(f"make mutate: unknown module(s) {', '.join(unknown)}; choose from {', '.join(MODULES)}", file=sys.stderr)
        return 2
    stage(modules)
    fresh_start(modules, args.retest_survivors)
    mutmut = Path(sys.executable).parent / "mutmut"
    print(f"make mutate: mutating {', '.join(modules)} (progress in {STAGE / 'run.log'})", flush=True)
    with (STAGE / "run.log").open("w", encoding="utf-8") as log:
        subprocess.run(
            [str(mutmut), "run", "--max-children", args.max_children], cwd=STAGE, stdout=log, stderr=log, check=False
        )
    listed = subprocess.run(
        [str(mutmut), "results", "--all", "true"], cwd=STAGE, capture_output=True, text=True, check=False
    ).stdout
    outcomes = Counter(line.rsplit(":", 1)[1].strip() for line in listed.splitlines() if ":" in line)
    killed = outcomes.get("killed", 0) + outcomes.get("timeout", 0)
    total = sum(outcomes.values())
    survivors = [line.strip() for line in listed.splitlines() if line.strip().endswith(": survived")]
    report = [f"mutants: {total}; {', '.join(f'{k} {v}' for k, v in sorted(outcomes.items()))}"]
    if total:
        report.append(f"score (killed or timed out / all): {killed / total:.1%}")
    report += ["survivors:", *survivors]
    (STAGE / "results.txt").write_text("\n".join(report) + "\n", encoding="utf-8")
    print("\n".join(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
