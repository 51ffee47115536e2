"""``make release``: refused without a changelog entry for the version, with an API break under the same major, or
without the index to install from; otherwise published, installed from the index into a clean venv and listed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT
from tests.test_publish import PASSWORD, USER, WHEELHOUSE, index  # noqa: F401 - the index fixture

sys.path.insert(0, str(ROOT / "scripts"))
import release


def test_a_version_without_its_changelog_entry_is_refused() -> None:
    assert release.changelog_problem("## [0.1.0] - 2026-12-03\n", "0.1.0") is None
    problem = release.changelog_problem("## [0.1.0] - 2026-12-03\n", "0.2.0")
    assert problem == "CHANGELOG.md has no '## [0.2.0] - YYYY-MM-DD' entry: write what this version changes first"
    assert release.changelog_problem("## [0.2.0]\n", "0.2.0") is not None  # no date: not an entry


def make_release(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "release.py"), "--no-tag"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_without_the_index_to_install_from_it_is_refused() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RELEASE_", "TWINE_"))}
    result = make_release(env)
    assert result.returncode == 1
    assert "refused: set RELEASE_INDEX_URL" in result.stderr


def test_a_release_is_published_installed_and_listed(index: tuple[str, Path], tmp_path: Path) -> None:  # noqa: F811
    url, packages = index
    env = {
        **os.environ,
        "TWINE_REPOSITORY_URL": url,
        "TWINE_USERNAME": USER,
        "TWINE_PASSWORD": PASSWORD,
        "RELEASE_INDEX_URL": f"{url}/simple/",
        "RELEASE_FIND_LINKS": str(WHEELHOUSE),
        "DIST": str(tmp_path / "dist"),
    }
    result = make_release(env)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "make api-diff: 0.1.0 (" in result.stdout  # compared with the last release, tag or not (test_api_diff)
    assert "no breaking change" in result.stdout
    assert "speech-models 0.1.0 published, installed from" in result.stdout
    assert "listed 42 models" in result.stdout
    assert PASSWORD not in result.stdout + result.stderr
    assert sorted(p.suffix for p in packages.iterdir()) == [".gz", ".whl"]
