"""Regeneration guards: generated/ is exactly what the pinned generator makes of the spec, and a broken spec
never touches it."""

from __future__ import annotations

import filecmp
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, SPEC_PATH

GENERATED = ROOT / "generated" / "speech_models_client"
SCRIPT = ROOT / "scripts" / "generate.py"


def _run_generate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, check=False)


def _tree(path: Path) -> dict[str, bytes]:
    return {
        str(file.relative_to(path)): file.read_bytes()
        for file in sorted(path.rglob("*"))
        if file.is_file() and "__pycache__" not in file.parts
    }


def _first_difference(expected: Path, actual: Path) -> str | None:
    comparison = filecmp.dircmp(expected, actual, ignore=["__pycache__"])
    stack = [comparison]
    while stack:
        current = stack.pop()
        for name in current.left_only:
            return f"missing from generated/: {Path(current.left, name).relative_to(expected)}"
        for name in current.right_only:
            return f"not produced by the generator: {Path(current.right, name).relative_to(actual)}"
        for name in current.diff_files:
            return f"differs: {Path(current.left, name).relative_to(expected)}"
        stack.extend(current.subdirs.values())
    return None


@pytest.fixture(scope="module")
def fresh_generation(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("regen") / "speech_models_client"
    result = _run_generate("--output", str(out))
    assert result.returncode == 0, result.stderr
    return out


def test_generated_tree_is_up_to_date(fresh_generation: Path) -> None:
    difference = _first_difference(fresh_generation, GENERATED)
    assert difference is None, f"generated/ is stale ({difference}): run `make generate` and commit the result"
    assert _tree(fresh_generation) == _tree(GENERATED)


def test_generation_leaves_no_caches_and_ships_py_typed(fresh_generation: Path) -> None:
    assert (fresh_generation / "py.typed").is_file()
    assert not list(fresh_generation.rglob(".ruff_cache"))


def test_regeneration_is_deterministic(fresh_generation: Path, tmp_path: Path) -> None:
    again = tmp_path / "speech_models_client"
    assert _run_generate("--output", str(again)).returncode == 0
    assert _tree(again) == _tree(fresh_generation)


@pytest.mark.parametrize(
    ("mutation", "message"),
    [
        (lambda text: text.replace("openapi: 3.0.3", "openapi: 3.0.3\nbogus: true"), "bogus"),
        (lambda text: text.replace("type: integer\n            format: int32", "type: intgr"), "intgr"),
        (lambda text: text + "\n  : : [unbalanced", "cannot read the spec"),
    ],
    ids=["unknown-top-level-key", "unknown-type", "not-yaml"],
)
def test_invalid_spec_stops_before_touching_the_output(tmp_path: Path, mutation, message: str) -> None:  # type: ignore[no-untyped-def]
    broken = tmp_path / "broken.yaml"
    broken.write_text(mutation(SPEC_PATH.read_text(encoding="utf-8")), encoding="utf-8")
    target = tmp_path / "out" / "speech_models_client"
    target.mkdir(parents=True)
    (target / "sentinel.py").write_text("kept = True\n")
    result = _run_generate("--spec", str(broken), "--output", str(target))
    assert result.returncode == 1
    assert message in result.stderr
    assert "left unchanged" in result.stderr
    assert "Traceback" not in result.stderr
    assert [p.name for p in target.iterdir()] == ["sentinel.py"]


@pytest.mark.parametrize(
    ("shape", "message"),
    [
        ({"type": "array", "items": {"type": "array", "items": {"type": "string"}}}, "EntityReference.grid: an array"),
        ({"oneOf": [{"type": "string"}, {"type": "integer"}]}, "EntityReference.grid: a union of several types"),
        ({"type": "string", "format": "uuid"}, "EntityReference.grid: UuidProperty"),
    ],
    ids=["array-of-arrays", "union", "uuid"],
)
def test_a_schema_shape_the_model_template_cannot_generate_stops_generation(
    tmp_path: Path, shape: dict[str, object], message: str
) -> None:
    spec = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    spec["components"]["schemas"]["EntityReference"]["properties"]["grid"] = shape
    unsupported = tmp_path / "unsupported.yaml"
    unsupported.write_text(yaml.safe_dump(spec), encoding="utf-8")
    result = _run_generate("--spec", str(unsupported), "--output", str(tmp_path / "out"))
    assert result.returncode == 1
    assert f"UNSUPPORTED SCHEMA SHAPE: {message}" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()
