"""``make release``: publish this version, only if it is ready, and prove the published package works.

Refuses (exit 1, saying why) when ``CHANGELOG.md`` has no entry for the version or ``make api-diff`` finds a break
under the same major version. Then ``make publish`` (the ``TWINE_*`` variables: build, check, upload), installs
the version from ``RELEASE_INDEX_URL`` (the index's simple URL; ``RELEASE_FIND_LINKS`` may add a folder of
dependency wheels) into a clean virtual environment, lists models from the emulator with it, and tags the commit
``vX.Y.Z`` (``--no-tag`` leaves the tag to you).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import api_diff

ROOT = Path(__file__).resolve().parent.parent
GIT = shutil.which("git") or "git"
MAKE = shutil.which("make") or "make"
SMOKE = """
import speech_models
from speech_models_emulator import run_emulator
with run_emulator(count=42) as emulator:
    with speech_models.SpeechToTextModels(emulator.url, emulator.key) as client:
        print(speech_models.__version__, len(list(client.list_models(top=10))))
"""


def changelog_problem(changelog: str, version: str) -> str | None:
    """Why `changelog` (CHANGELOG.md's text) is not ready for `version`, or ``None``."""
    if re.search(rf"^## \[{re.escape(version)}\] - \d{{4}}-\d{{2}}-\d{{2}}$", changelog, re.MULTILINE) is None:
        return f"CHANGELOG.md has no '## [{version}] - YYYY-MM-DD' entry: write what this version changes first"
    return None


def _run(command: list[str], env: dict[str, str] | None = None) -> None:
    result = subprocess.run(command, cwd=ROOT, env=env, check=False)
    if result.returncode != 0:
        raise SystemExit(f"make release: {' '.join(command[:3])} failed (exit {result.returncode})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-tag", action="store_true", help="do not tag the commit vX.Y.Z")
    args = parser.parse_args(argv)
    version = ".".join(map(str, api_diff.version_of((ROOT / api_diff.VERSION_FILE).read_text(encoding="utf-8"))))
    problem = changelog_problem((ROOT / "CHANGELOG.md").read_text(encoding="utf-8"), version)
    if problem is not None:
        print(f"make release: refused: {problem}", file=sys.stderr)
        return 1
    if api_diff.main([]) != 0:
        print("make release: refused: an API break under the same major version (above)", file=sys.stderr)
        return 1
    index = os.environ.get("RELEASE_INDEX_URL", "").strip()
    if not index:
        print("make release: refused: set RELEASE_INDEX_URL (the index's simple URL, to install from)", file=sys.stderr)
        return 1
    _run([MAKE, "--no-print-directory", "publish"])
    with tempfile.TemporaryDirectory(prefix="speech-models-release-") as tmp:
        venv = Path(tmp) / "venv"
        _run([sys.executable, "-m", "venv", str(venv)])
        env = {**os.environ, "PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
        env.pop("PIP_CONSTRAINT", None)
        sources = ["--index-url", index]
        if os.environ.get("RELEASE_FIND_LINKS"):
            sources += ["--find-links", os.environ["RELEASE_FIND_LINKS"]]
        python = str(venv / "bin" / "python")
        _run(
            [
                python,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--no-cache-dir",
                *sources,
                f"speech-models[emulator]=={version}",
            ],
            env,
        )
        smoke = subprocess.run([python, "-c", SMOKE], capture_output=True, text=True, cwd=tmp, check=False)
        if smoke.stdout.split() != [version, "42"]:
            print(
                f"make release: the installed package failed its smoke listing: {smoke.stderr[-500:]}", file=sys.stderr
            )
            return 1
    print(f"make release: speech-models {version} published, installed from {index} and listed 42 models")
    if not args.no_tag:
        _run([GIT, "tag", f"v{version}"])
        print(f"make release: tagged v{version}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
