"""Download the wheels of the package's runtime dependencies (with the emulator extra) into a folder.

``make venv`` runs it so the publish test can install the package from a local test index, with its dependencies
from this folder, and reach no host but 127.0.0.1.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def runtime_requirements() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return [*project["dependencies"], *project["optional-dependencies"]["emulator"]]


def main() -> int:
    target = Path(sys.argv[1])
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--only-binary=:all:"]
    command += ["-c", str(ROOT / "requirements" / "constraints.txt"), "-d", str(target), *runtime_requirements()]
    return subprocess.run(command, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
