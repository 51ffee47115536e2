"""``make api-diff``: what this tree breaks of the last release's public API, and of its OpenAPI document.

The last release is the newest git tag ``vX.Y.Z`` (``--against REF`` names another); where a clone has no tags (a CI
clone of a branch, say), it is the commit that dated the newest version of ``CHANGELOG.md`` (``## [X.Y.Z] - DATE``,
written before ``make release`` tags it). griffe compares the public API
of ``speech_models`` and ``speech_models_emulator`` (a removed or renamed name, a parameter removed, moved or made
required, a changed return type, ...), and the spec check compares ``openapi/speechtotext-models.yaml``: a schema,
property, parameter or enum value removed, or a property or parameter retyped. Every break is named; the exit code
is 1 when there is one and the major version was not raised, else 0.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import griffe
import yaml

ROOT = Path(__file__).resolve().parent.parent
GIT = shutil.which("git") or "git"
PACKAGES = (("speech_models", "overlay"), ("speech_models_emulator", "emulator"))
SPEC = "openapi/speechtotext-models.yaml"
VERSION_FILE = "overlay/speech_models/_version.py"
_TAG = re.compile(r"^v(\d+)\.(\d+)\.(\d+)$")
_RELEASED = re.compile(r"^(## \[\d+\.\d+\.\d+\] - )\d{4}-\d{2}-\d{2}$", re.MULTILINE)
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def release_tags(repo: Path) -> list[str]:
    """The ``vX.Y.Z`` tags of `repo`, newest version first."""
    listed = subprocess.run([GIT, "-C", str(repo), "tag", "--list", "v*"], capture_output=True, text=True, check=True)
    versions = {tag: version_of(f'__version__ = "{tag[1:]}"') for tag in listed.stdout.split() if _TAG.match(tag)}
    return sorted(versions, key=versions.__getitem__, reverse=True)


def dated_release(repo: Path) -> str | None:
    """The commit that first held the newest dated entry of `repo`'s ``CHANGELOG.md`` (``None``: no dated entry, or
    a history too shallow to hold that commit)."""
    changelog = repo / "CHANGELOG.md"
    entry = _RELEASED.search(changelog.read_text(encoding="utf-8")) if changelog.exists() else None
    if entry is None:
        return None
    found = subprocess.run(
        [GIT, "-C", str(repo), "log", "--reverse", "--format=%H", "-S", entry.group(1), "--", "CHANGELOG.md"],
        capture_output=True,
        text=True,
        check=False,
    )
    commits = found.stdout.split()
    return commits[0] if found.returncode == 0 and commits else None


def version_of(text: str) -> tuple[int, int, int]:
    """The ``__version__ = "X.Y.Z"`` in `text` (the version module's source)."""
    found = re.search(r'__version__ = "(\d+)\.(\d+)\.(\d+)"', text)
    if found is None:
        raise ValueError('no __version__ = "X.Y.Z" in the version module')
    major, minor, patch = (int(part) for part in found.groups())
    return major, minor, patch


def api_breaks(old: Any, new: Any) -> list[str]:
    """Each breaking change from `old` to `new` (griffe objects), as one line (griffe's colours taken out); griffe
    leaves out changed return types (it finds too many false ones), which are compared here as written."""
    breaks = [_ANSI.sub("", breakage.explain()) for breakage in griffe.find_breaking_changes(old, new)]
    for path, before, after in _returns(old, new):
        breaks.append(f"{path}(): return type changed from {before} to {after}")
    breaks += [f"{path}: public name that no longer exists ({target})" for path, target in _dangling(new)]
    return breaks


def _dangling(package: Any) -> Iterator[tuple[str, str]]:
    """The public names `package` imports from its own modules that are not there any more (griffe skips them, and
    the import itself would fail): (path, the missing target)."""
    for name, member in package.members.items():
        if name.startswith("_") or not member.is_alias or not member.target_path.startswith(f"{package.path}."):
            continue
        try:
            package[member.target_path.removeprefix(f"{package.path}.")]
        except KeyError:
            yield member.path, member.target_path


def _returns(old: Any, new: Any) -> Iterator[tuple[str, str, str]]:
    """The public functions of both `old` and `new` whose return annotations differ: (path, old, new)."""
    for name, member in old.members.items():
        if name.startswith("_") and not (name.startswith("__") and name.endswith("__")):
            continue
        if member.is_alias or name not in new.members or new.members[name].is_alias:
            continue
        counterpart = new.members[name]
        if member.is_function and counterpart.is_function:
            before, after = str(member.returns), str(counterpart.returns)
            if before != after:
                yield member.path, before, after
        elif member.is_class and counterpart.is_class:
            yield from _returns(member, counterpart)


def allowed(breaks: list[str], old: tuple[int, int, int], new: tuple[int, int, int]) -> bool:
    """Whether a release from version `old` to `new` may carry `breaks`: none, or a raised major version."""
    return not breaks or new[0] > old[0]


def _type_of(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    kind = str(schema.get("type", "object"))
    if kind == "array":
        return f"array of {_type_of(schema.get('items', {}))}"
    return kind + (f" ({schema['format']})" if "format" in schema else "")


def _flattened(spec: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """Every schema, property, enum value and operation parameter of `spec`, as (path, type)."""
    for name, schema in spec.get("components", {}).get("schemas", {}).items():
        yield f"schema {name}", _type_of(schema)
        for value in schema.get("enum", []):
            yield f"schema {name}: enum value {value!r}", ""
        for part in schema.get("allOf", []):
            if "$ref" in part:
                yield f"schema {name}: allOf {_type_of(part)}", ""
        for prop, prop_schema in schema.get("properties", {}).items():
            yield f"schema {name}: property {prop}", _type_of(prop_schema)
            for value in prop_schema.get("enum", []):
                yield f"schema {name}: property {prop}: enum value {value!r}", ""
    for path, operations in spec.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                where = f"{method.upper()} {path}: parameter {parameter.get('name')} in {parameter.get('in')}"
                yield where, _type_of(parameter.get("schema", {}))


def spec_breaks(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What `new` removes or retypes of `old` (two OpenAPI documents), one line each."""
    before, after = dict(_flattened(old)), dict(_flattened(new))
    breaks = []
    for where, kind in before.items():
        if where not in after:
            breaks.append(f"{where}: removed")
        elif after[where] != kind:
            breaks.append(f"{where}: type changed from {kind} to {after[where]}")
    return breaks


def _show(repo: Path, ref: str, path: str) -> str:
    return subprocess.run(
        [GIT, "-C", str(repo), "show", f"{ref}:{path}"], capture_output=True, text=True, check=True
    ).stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--against",
        help="the git ref of the release to compare with (default: the newest vX.Y.Z tag, else the commit that dated "
        "the newest CHANGELOG.md entry)",
    )
    args = parser.parse_args(argv)
    against = args.against
    if against is None:
        tags = release_tags(ROOT)
        against = tags[0] if tags else dated_release(ROOT)
        if against is None:
            print(
                "make api-diff: no release tag vX.Y.Z and no dated CHANGELOG.md entry in this history: "
                "nothing to compare with"
            )
            return 0
    breaks: list[str] = []
    for package, folder in PACKAGES:
        old = griffe.load_git(package, ref=against, repo=ROOT, search_paths=[folder])
        new = griffe.load(package, search_paths=[ROOT / folder])
        breaks += [f"{package}: {line}" for line in api_breaks(old, new)]
    breaks += [f"spec: {line}" for line in spec_breaks(yaml.safe_load(_show(ROOT, against, SPEC)), load_spec())]
    old_version = version_of(_show(ROOT, against, VERSION_FILE))
    new_version = version_of((ROOT / VERSION_FILE).read_text(encoding="utf-8"))
    versions = f"{'.'.join(map(str, old_version))} ({against}) -> {'.'.join(map(str, new_version))}"
    if not breaks:
        print(f"make api-diff: {versions}: no breaking change")
        return 0
    print(f"make api-diff: {versions}: {len(breaks)} breaking change(s):")
    for line in breaks:
        print(f"  {line}")
    if allowed(breaks, old_version, new_version):
        print("the major version was raised: allowed")
        return 0
    print("make api-diff: raise the major version, or keep the API", file=sys.stderr)
    return 1


def load_spec() -> dict[str, Any]:
    spec: dict[str, Any] = yaml.safe_load((ROOT / SPEC).read_text(encoding="utf-8"))
    return spec


if __name__ == "__main__":
    sys.exit(main())
