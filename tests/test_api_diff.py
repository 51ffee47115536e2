"""``make api-diff``: griffe names what a change breaks of the public API, the spec check what it removes or
retypes of the OpenAPI document, and a break passes only with a raised major version."""

from __future__ import annotations

import copy
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import griffe
import pytest

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
import api_diff


def package(tmp_path: Path, name: str, source: str) -> Any:
    folder = tmp_path / name
    (folder / "lib").mkdir(parents=True)
    (folder / "lib" / "__init__.py").write_text(textwrap.dedent(source), encoding="utf-8")
    return griffe.load("lib", search_paths=[folder])


OLD = """
    def list_models(*, top: int | None = None, concurrency: int = 1) -> list[str]:
        return []

    def close() -> None:
        return None

    class Page:
        items: list[str]
"""


@pytest.mark.parametrize(
    ("new", "named"),
    [
        (OLD.replace("    def close() -> None:\n        return None\n", ""), "close: Public object was removed"),
        (OLD.replace(", concurrency: int = 1", ""), "list_models(concurrency): Parameter was removed"),
        (
            OLD.replace("concurrency: int = 1", "concurrency: int"),
            "list_models(concurrency): Parameter is now required",
        ),
        (OLD.replace("-> list[str]:", "-> int:"), "list_models(): return type changed from list[str] to int"),
        (OLD.replace("class Page:", "class Sheet:"), "Page: Public object was removed"),
    ],
)
def test_each_break_of_the_public_api_is_named(tmp_path: Path, new: str, named: str) -> None:
    breaks = api_diff.api_breaks(package(tmp_path, "old", OLD), package(tmp_path, "new", new))
    assert any(named in line for line in breaks), breaks
    assert all("\x1b" not in line for line in breaks)


def test_a_methods_changed_return_type_is_named(tmp_path: Path) -> None:
    method = "\n        def first(self) -> str:\n            return ''\n"
    old = package(tmp_path, "old", OLD + method)
    new = package(tmp_path, "new", OLD + method.replace("-> str", "-> bytes"))
    assert api_diff.api_breaks(old, new) == ["lib.Page.first(): return type changed from str to bytes"]


def test_additions_break_nothing(tmp_path: Path) -> None:
    new = OLD.replace("concurrency: int = 1)", "concurrency: int = 1, max_items: int | None = None)") + (
        "\n    def expiring() -> list[str]:\n        return []\n"
    )
    assert api_diff.api_breaks(package(tmp_path, "old", OLD), package(tmp_path, "new", new)) == []


def spec() -> dict[str, Any]:
    return api_diff.load_spec()


def test_the_spec_compared_with_itself_breaks_nothing() -> None:
    assert api_diff.spec_breaks(spec(), spec()) == []


def test_removals_and_retypes_in_the_spec_are_named() -> None:
    old = spec()
    new = copy.deepcopy(old)
    schemas = new["components"]["schemas"]
    model = schemas["CustomModel"]
    removed = next(iter(model["properties"]))
    del model["properties"][removed]
    enum_schema = next(name for name, schema in schemas.items() if "enum" in schema)
    dropped = schemas[enum_schema]["enum"].pop()
    operation = next(iter(new["paths"].values()))["get"]
    parameter = next(p for p in operation["parameters"] if p["name"] == "top")
    parameter["schema"] = {"type": "string"}
    breaks = api_diff.spec_breaks(old, new)
    assert f"schema CustomModel: property {removed}: removed" in breaks
    assert f"schema {enum_schema}: enum value {dropped!r}: removed" in breaks
    assert any("parameter top in query: type changed from integer (int32) to string" in line for line in breaks)
    added = copy.deepcopy(old)
    added["components"]["schemas"]["CustomModel"]["properties"]["newField"] = {"type": "string"}
    assert api_diff.spec_breaks(old, added) == []


@pytest.mark.parametrize(
    ("breaks", "old", "new", "ok"),
    [
        ([], (0, 1, 0), (0, 1, 0), True),
        (["x: removed"], (0, 1, 0), (0, 2, 0), False),
        (["x: removed"], (1, 4, 2), (1, 5, 0), False),
        (["x: removed"], (1, 4, 2), (2, 0, 0), True),
    ],
)
def test_a_break_passes_only_with_a_raised_major_version(
    breaks: list[str], old: tuple[int, int, int], new: tuple[int, int, int], ok: bool
) -> None:
    assert api_diff.allowed(breaks, old, new) is ok


def test_this_tree_against_its_own_head_breaks_nothing() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "api_diff.py"), "--against", "HEAD"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no breaking change" in result.stdout


def test_release_tags_are_read_newest_version_first(tmp_path: Path) -> None:
    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True)

    git("init", "-q")
    git("-c", "user.email=t@x", "-c", "user.name=t", "commit", "-q", "--allow-empty", "-m", "first")
    for tag in ("v0.9.0", "v0.10.0", "v1.0.0-rc1", "release", "v0.2.3"):
        git("tag", tag)
    assert api_diff.release_tags(tmp_path) == ["v0.10.0", "v0.9.0", "v0.2.3"]


def test_without_tags_the_release_is_the_commit_that_dated_the_newest_changelog_entry(tmp_path: Path) -> None:
    """A clone without tags (CI's clone of main) still compares with the last release, not with nothing."""

    def commit(changelog: str) -> str:
        (tmp_path / "CHANGELOG.md").write_text(changelog, encoding="utf-8")
        subprocess.run(["git", "-C", str(tmp_path), "add", "CHANGELOG.md"], check=True, capture_output=True)
        identity = ["-c", "user.email=t@x", "-c", "user.name=t"]
        subprocess.run(["git", "-C", str(tmp_path), *identity, "commit", "-q", "-m", "c"], check=True)
        head = subprocess.run(["git", "-C", str(tmp_path), "rev-parse", "HEAD"], capture_output=True, text=True)
        return head.stdout.strip()

    subprocess.run(["git", "-C", str(tmp_path), "init", "-q"], check=True)
    commit("## [Unreleased]\n\n## [0.1.0]\n")  # not dated: not released
    assert api_diff.dated_release(tmp_path) is None
    released = commit("## [Unreleased]\n\n## [0.1.0] - 2026-12-03\n")
    commit("## [Unreleased]\n\n- more\n\n## [0.1.0] - 2026-12-03\n")
    assert api_diff.dated_release(tmp_path) == released
    newer = commit("## [Unreleased]\n\n## [0.2.0] - 2026-12-10\n\n- more\n\n## [0.1.0] - 2026-12-03\n")
    commit("## [Unreleased]\n\n- yet more\n\n## [0.2.0] - 2026-12-10\n\n- more\n\n## [0.1.0] - 2026-12-03\n")
    assert api_diff.dated_release(tmp_path) == newer


def test_a_public_name_imported_from_a_module_that_lost_it_is_a_break(tmp_path: Path) -> None:
    """griffe compares such a name as an alias it cannot resolve and says nothing: the rename of a class in a private
    module, with the package's import left behind, would pass."""

    def lib(where: str, client: str) -> Any:
        folder = tmp_path / where / "lib"
        folder.mkdir(parents=True)
        (folder / "__init__.py").write_text(
            "from ._client import Client\nfrom ._errors import Error\n__all__ = ['Client', 'Error']\n"
        )
        (folder / "_client.py").write_text(f"class {client}:\n    pass\n")
        (folder / "_errors.py").write_text("from other_package.errors import Error\n")  # resolvable only elsewhere
        return griffe.load("lib", search_paths=[tmp_path / where])

    assert api_diff.api_breaks(lib("old", "Client"), lib("same", "Client")) == []
    assert api_diff.api_breaks(lib("old2", "Client"), lib("new", "RenamedClient")) == [
        "lib.Client: public name that no longer exists (lib._client.Client)"
    ]
