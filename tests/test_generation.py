"""Regeneration guards: generated/ is exactly what the pinned generator makes of the spec, and a broken spec
never touches it."""

from __future__ import annotations

import filecmp
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT, SPEC_PATH
from tests.generation import generate_script

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


GRID = "components/schemas/EntityReference/properties/grid"
UNSUPPORTED = [
    ({"type": "array", "items": {"type": "array", "items": {"type": "string"}}}, f"{GRID}/items: an array of arrays"),
    ({"oneOf": [{"type": "string"}, {"type": "integer"}]}, f"{GRID}: a union of several types (oneOf)"),
    ({"type": "string", "format": "date"}, f"{GRID}: format date, a date without a time"),
    ({"type": "string", "format": "binary"}, f"{GRID}: format binary"),
    ({"type": "string", "format": "byte"}, f"{GRID}: format byte"),
    ({"type": "integer", "enum": [1, 2]}, f"{GRID}: an enum of values that are not all strings"),
    ({"type": "array", "items": {}}, f"{GRID}: an array of anything"),
    ({"not": {"type": "string"}}, f"{GRID}: a negated schema (not)"),
    ({"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
     f"{GRID}/additionalProperties: a map of arrays"),
    ({"allOf": [{"$ref": "#/components/schemas/EntityReference"}], "properties": {"x": {"type": "string"}}},
     f"{GRID}: an inline allOf"),
    ({"$ref": "#/components/schemas/EntityReference", "properties": {"x": {}}},
     f"{GRID}: a $ref beside ['properties']"),
]  # fmt: skip


@pytest.mark.parametrize(("shape", "message"), UNSUPPORTED, ids=[m.split(": ")[1][:24] for _, m in UNSUPPORTED])
def test_a_schema_shape_the_templates_cannot_generate_is_refused_before_the_generator_runs(
    tmp_path: Path, shape: dict[str, object], message: str
) -> None:
    spec = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    spec["components"]["schemas"]["EntityReference"]["properties"]["grid"] = shape
    unsupported = tmp_path / "unsupported.yaml"
    unsupported.write_text(yaml.safe_dump(spec), encoding="utf-8")
    result = _run_generate("--spec", str(unsupported), "--output", str(tmp_path / "out"))
    assert result.returncode == 1
    assert "schema shape(s) the templates cannot generate exactly" in result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert "openapi-python-client" not in result.stderr  # refused by the walk, not by the generator
    assert not (tmp_path / "out").exists()


def test_the_model_templates_own_guard_stops_a_shape_the_walk_let_through(tmp_path: Path) -> None:
    """Behind the walk, templates/model.py.jinja still refuses rather than emitting wrong code."""
    spec = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    spec["components"]["schemas"]["EntityReference"]["properties"]["grid"] = {"type": "string", "format": "date"}
    unsupported = tmp_path / "unsupported.yaml"
    unsupported.write_text(yaml.safe_dump(spec), encoding="utf-8")
    generate = generate_script()
    with pytest.raises(generate.GenerationError, match=r"model\.py\.jinja refused a shape that find_unsupported let"):
        generate.generate_into(unsupported, tmp_path / "out")


SHAPES_CHECK = r"""
import json, uuid
from speech_models_client.errors import FieldValueError
from speech_models_client.models import PaginatedThings, State, Thing

document = {"values": [{
    "displayName": "a", "locale": "en-US", "id": "13cfe2c4-5119-5865-9ec0-e0f5dedff3c8",
    "self": "https://x.example/things/1", "createdDateTime": "2025-01-02T03:04:05.1234567Z",
    "count32": 7, "count64": 9007199254740993, "ratio": 3, "ratio32": 0.5, "enabled": True, "state": "Busy",
    "labels": {"k": "v"}, "locations": {"home": "https://x.example/"}, "links": {"l": {"href": "https://x/"}},
    "anything": {"n": [1, {"deep": None}]}, "ids": ["13cfe2c4-5119-5865-9ec0-e0f5dedff3c8"],
    "inner": {"code": "outer", "inner": {"code": "inner"}}, "zNewer": 1,
}]}
page = PaginatedThings.from_dict(json.loads(json.dumps(document)))
thing = page.values[0]
assert (thing.display_name, thing.locale) == ("a", "en-US")  # the shared model's fields, merged in
assert thing.id == uuid.UUID("13cfe2c4-5119-5865-9ec0-e0f5dedff3c8")
assert thing.created_date_time.microsecond == 123456
assert (thing.count32, thing.count64, thing.ratio, thing.ratio32) == (7, 9007199254740993, 3.0, 0.5)
assert isinstance(thing.ratio, float) and thing.enabled is True and thing.state is State.BUSY
assert thing.labels.additional_properties == {"k": "v"}
assert thing.locations.additional_properties == {"home": "https://x.example/"}
assert thing.links.additional_properties["l"].href == "https://x/"
assert thing.anything.additional_properties == {"n": [1, {"deep": None}]}
assert thing.ids == [uuid.UUID("13cfe2c4-5119-5865-9ec0-e0f5dedff3c8")]
assert thing.inner.inner.code == "inner"
assert thing.additional_properties == {"zNewer": 1}
assert json.dumps(page.to_dict()) == json.dumps(document)  # exactly as received: 3 stays 3
empty = Thing.from_dict({"locale": "x", "id": None})
assert empty.id is None and empty.count64 is None and empty.links is None and empty.inner is None
for key, value, path in [("id", "not-a-uuid", "values[0].id"), ("count64", 1.5, "values[0].count64"),
                         ("ratio", "3", "values[0].ratio"), ("ids", ["x"], "values[0].ids[0]"),
                         ("links", {"l": 5}, "values[0].links.l"), ("inner", {"inner": 5}, "values[0].inner.inner")]:
    bad = PaginatedThings.from_dict({"values": [{"locale": "x", key: value}]}).values[0]
    try:
        reads = {"links": lambda: bad.links.additional_properties, "inner": lambda: bad.inner.inner}
        reads.get(key, lambda: getattr(bad, key))()
    except FieldValueError as exc:
        assert exc.path == path, (exc.path, path)
    else:
        raise AssertionError(f"{key}={value!r} was read without an error")
built = Thing(locale="en-US", id=uuid.UUID(int=1), state=State.IDLE)
assert built.to_dict() == {"locale": "en-US", "id": "00000000-0000-0000-0000-000000000001", "state": "Idle"}
print("ok")
"""


def test_the_shapes_of_microsofts_description_generate_and_read(tmp_path: Path) -> None:
    """allOf beside sibling properties (merged, not dropped), uuid, uri, int32/int64, double/float, readOnly,
    x-ms-enum, maps of strings, uris, $refs and anything, and recursion: generated from tests/fixtures/shapes.yaml
    and read back in a fresh interpreter (the package shadows the installed one there)."""
    out = tmp_path / "speech_models_client"
    result = _run_generate("--spec", str(ROOT / "tests" / "fixtures" / "shapes.yaml"), "--output", str(out))
    assert result.returncode == 0, result.stderr
    check = subprocess.run(
        [sys.executable, "-c", SHAPES_CHECK],
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stderr
    assert check.stdout.strip() == "ok"


@pytest.mark.parametrize(
    ("schemas", "message"),
    [
        ({"A": {"allOf": [{"$ref": "#/components/schemas/B"}]}, "B": {"allOf": [{"$ref": "#/components/schemas/A"}]}},
         "refers back to itself"),
        ({"A": {"allOf": [{"oneOf": [{"type": "string"}]}]}}, "components/schemas/A/allOf/0: an allOf part must be"),
        ({"A": {"allOf": [{"$ref": "#/components/schemas/B"}], "properties": {"x": {"type": "integer"}}},
          "B": {"type": "object", "properties": {"x": {"type": "string"}}}}, "allOf parts define x differently"),
    ],
)  # fmt: skip
def test_an_all_of_that_cannot_be_merged_is_refused_with_its_path(
    schemas: dict[str, Any], message: str, tmp_path: Path
) -> None:
    generate = generate_script()
    with pytest.raises(generate.GenerationError, match=message):
        generate.flatten_all_of({"components": {"schemas": schemas}})
