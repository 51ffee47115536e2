"""Release discipline: the package's version has an entry in ``CHANGELOG.md``, and the licence is in the files."""

from __future__ import annotations

import re
from pathlib import Path

import speech_models as sm

ROOT = Path(__file__).resolve().parent.parent


def entries(text: str) -> list[str]:
    """The versions the changelog has entries for, newest first (``## [0.1.0] - 2026-12-03``)."""
    return re.findall(r"^## \[(\d+\.\d+\.\d+)\] - \d{4}-\d{2}-\d{2}$", text, re.MULTILINE)


def test_the_package_version_has_a_changelog_entry() -> None:
    versions = entries((ROOT / "CHANGELOG.md").read_text(encoding="utf-8"))
    assert sm.__version__ in versions, f"CHANGELOG.md has no '## [{sm.__version__}] - YYYY-MM-DD' entry"
    assert versions == sorted(versions, key=lambda v: tuple(map(int, v.split("."))), reverse=True)


def test_entries_are_found_only_in_their_own_form() -> None:
    assert entries("## [1.2.3] - 2026-01-02\n## [1.2.4]\n### [9.9.9] - 2026-01-02\n") == ["1.2.3"]


def test_the_licence_is_mit_and_the_metadata_says_so() -> None:
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License\n")
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'license = "MIT"' in pyproject
    assert 'license-files = ["LICENSE"]' in pyproject
