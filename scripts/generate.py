"""Regenerate the client package from the OpenAPI document; the only writer of ``generated/``.

The spec is validated first, the package is generated into a temporary folder, and only a complete, successful
generation replaces ``generated/speech_models_client``. ``--output DIR`` writes to another folder instead (the
drift test uses it to compare a fresh generation with the committed one).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "openapi" / "speechtotext-models.yaml"
CONFIG = ROOT / "generator-config.yml"
TEMPLATES = ROOT / "templates"
PACKAGE = "speech_models_client"
TARGET = ROOT / "generated" / PACKAGE


class GenerationError(Exception):
    """The spec is invalid or the generator failed; nothing was written."""


def validate_spec(spec: Path) -> None:
    """Raise GenerationError with the validator's message when `spec` is not a valid OpenAPI document."""
    try:
        document = yaml.safe_load(spec.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise GenerationError(f"{spec}: cannot read the spec: {exc}") from exc
    if not isinstance(document, dict):
        raise GenerationError(f"{spec}: the spec is not a YAML mapping")
    try:
        validate(document)
    except OpenAPIValidationError as exc:
        path = "/".join(str(part) for part in exc.absolute_path) or "(root)"
        raise GenerationError(f"{spec}: invalid OpenAPI document at {path}: {exc.message}") from exc


_REF = "#/components/schemas/"
_INLINE_PART_KEYS = {"type", "properties", "required", "description", "title"}


def flatten_all_of(document: dict[str, Any]) -> bool:
    """Merge each component schema made of ``allOf`` parts (``$ref``s to object schemas, inline objects) and its
    own ``properties`` into one object schema with every field of all of them, in place; return whether any was.

    openapi-python-client 0.29.1 turns ``allOf: [{$ref: SharedModel}]`` beside sibling ``properties`` into the
    referenced schema alone, dropping every sibling field without a word (Microsoft's description writes
    ``CustomModel`` and ``BaseModel`` so). A part this cannot merge, or a field two parts define differently, is
    refused with the schema's path.
    """
    schemas: dict[str, Any] = document.get("components", {}).get("schemas", {}) or {}
    merged: dict[str, dict[str, Any]] = {}

    def resolve(name: str, trail: tuple[str, ...]) -> dict[str, Any]:
        if name in merged:
            return merged[name]
        if name in trail:
            raise GenerationError(f"components/schemas/{name}: its allOf refers back to itself")
        if name not in schemas:
            raise GenerationError(f"components/schemas/{trail[-1]}: allOf refers to {name}, which is not a schema")
        schema = schemas[name]
        merged[name] = merge(name, schema, (*trail, name)) if isinstance(schema, dict) and "allOf" in schema else schema
        return merged[name]

    def merge(name: str, schema: dict[str, Any], trail: tuple[str, ...]) -> dict[str, Any]:
        properties: dict[str, Any] = {}
        required: list[str] = []
        own = {key: value for key, value in schema.items() if key != "allOf"}
        parts = [*schema["allOf"], {"properties": own.get("properties", {}), "required": own.get("required", [])}]
        for index, part in enumerate(parts):
            where = f"components/schemas/{name}/allOf/{index}"
            if isinstance(part, dict) and set(part) == {"$ref"} and str(part["$ref"]).startswith(_REF):
                target = resolve(str(part["$ref"])[len(_REF) :], trail)
            elif isinstance(part, dict) and set(part) <= _INLINE_PART_KEYS and part.get("type", "object") == "object":
                target = part
            else:
                shown = sorted(part) if isinstance(part, dict) else type(part).__name__
                raise GenerationError(f"{where}: an allOf part must be a $ref to an object schema or an inline "
                                      f"object, not {shown}")  # fmt: skip
            if target.get("type", "object") != "object":
                raise GenerationError(f"{where}: an allOf part must be an object schema")
            for field, definition in (target.get("properties") or {}).items():
                if field in properties and properties[field] != definition:
                    raise GenerationError(f"components/schemas/{name}: allOf parts define {field} differently")
                properties[field] = definition
            required += [field for field in target.get("required") or [] if field not in required]
        result = {**own, "type": "object", "properties": properties}
        if required:
            result["required"] = required
        return result

    changed = False
    for name in list(schemas):
        flat = resolve(name, ())
        if flat is not schemas[name]:
            schemas[name] = flat
            changed = True
    return changed


# What the model template (templates/model.py.jinja) reads. Anything else is refused before the generator runs: the
# generator would drop it, alias it to another type or emit code the template cannot make correct.
_STRING_FORMATS_REFUSED = {
    "date": "a date without a time (the template reads date-times only)",
    "binary": "binary content (a file upload, not JSON)",
    "byte": "base64 content (it would read as its text, not its bytes)",
}
_REF_SIBLINGS = {"$ref", "description", "title", "readOnly", "nullable", "default", "example"}


def find_unsupported(document: dict[str, Any]) -> list[str]:
    """Every schema shape in `document` (after `flatten_all_of`) that the templates cannot generate exactly, as
    "path: shape" lines; the paths are JSON pointers into the document as the generator reads it."""
    schemas: dict[str, Any] = document.get("components", {}).get("schemas", {}) or {}
    found: list[str] = []

    def target(schema: Any) -> Any:
        seen: set[str] = set()
        while isinstance(schema, dict) and isinstance(schema.get("$ref"), str) and schema["$ref"] not in seen:
            seen.add(schema["$ref"])
            schema = schemas.get(schema["$ref"][len(_REF) :], {}) if schema["$ref"].startswith(_REF) else {}
        return schema

    def one_of_null(schema: dict[str, Any], key: str) -> Any:
        """The one alternative of a oneOf/anyOf beside `{type: null}`, or None when there are several."""
        options = [option for option in schema[key] if option != {"type": "null"}]
        return options[0] if len(options) == 1 else None

    def check(schema: Any, path: str, *, item: bool = False) -> None:
        if not isinstance(schema, dict):
            found.append(f"{path}: a schema must be an object, not {type(schema).__name__}")
            return
        if "$ref" in schema:
            if not str(schema["$ref"]).startswith(_REF):
                found.append(f"{path}: a $ref outside components/schemas ({schema['$ref']})")
            elif set(schema) - _REF_SIBLINGS:
                found.append(f"{path}: a $ref beside {sorted(set(schema) - _REF_SIBLINGS)} (ignored by the generator)")
            if item and target(schema).get("type") == "array":
                found.append(f"{path}: an array of arrays")
            return
        for key, shape in (("not", "a negated schema (not)"), ("discriminator", "polymorphism (discriminator)")):
            if key in schema:
                found.append(f"{path}: {shape}")
        for key in ("oneOf", "anyOf"):
            if key in schema:
                single = one_of_null(schema, key) if isinstance(schema[key], list) else None
                if single is None:
                    found.append(f"{path}: a union of several types ({key})")
                else:
                    check(single, f"{path}/{key}/0", item=item)
        if "allOf" in schema:
            parts = schema["allOf"]
            if not (isinstance(parts, list) and len(parts) == 1 and isinstance(parts[0], dict)
                    and set(parts[0]) == {"$ref"} and set(schema) <= _REF_SIBLINGS | {"allOf", "type"}):  # fmt: skip
                found.append(f"{path}: an inline allOf (only one $ref, or a component schema's allOf, is merged)")
        kind = schema.get("type")
        if "enum" in schema and not all(isinstance(value, str) for value in schema["enum"] if value is not None):
            found.append(f"{path}: an enum of values that are not all strings")
        if kind == "string" and schema.get("format") in _STRING_FORMATS_REFUSED:
            found.append(f"{path}: format {schema['format']}, {_STRING_FORMATS_REFUSED[schema['format']]}")
        elif kind == "array":
            items = schema.get("items")
            if not items:
                found.append(f"{path}: an array of anything (items: {{}})")
            elif isinstance(target(items), dict) and target(items).get("type") == "array" and "$ref" not in items:
                found.append(f"{path}/items: an array of arrays")
            else:
                check(items, f"{path}/items", item=True)
        elif kind == "object" or "properties" in schema or "additionalProperties" in schema:
            for name, definition in (schema.get("properties") or {}).items():
                check(definition, f"{path}/properties/{name}")
            extra = schema.get("additionalProperties")
            if isinstance(extra, dict) and extra:
                if target(extra).get("type") == "array":
                    found.append(f"{path}/additionalProperties: a map of arrays")
                else:
                    check(extra, f"{path}/additionalProperties", item=True)
        elif item and not kind and not schema.get("enum") and not any(key in schema for key in ("oneOf", "anyOf")):
            found.append(f"{path}: an array or map item of any type (a {{}} schema)")

    for name, schema in schemas.items():
        check(schema, f"components/schemas/{name}")
    for route, item in (document.get("paths") or {}).items():
        for method, operation in item.items() if isinstance(item, dict) else ():
            if not isinstance(operation, dict):
                continue
            where = f"paths/{route}/{method}"
            for index, parameter in enumerate(operation.get("parameters") or []):
                if isinstance(parameter, dict) and "schema" in parameter:
                    check(parameter["schema"], f"{where}/parameters/{index}/schema")
            bodies = [("requestBody", operation.get("requestBody") or {})]
            bodies += [(f"responses/{code}", response) for code, response in (operation.get("responses") or {}).items()]
            for label, body in bodies:
                for media, content in ((body.get("content") or {}) if isinstance(body, dict) else {}).items():
                    if isinstance(content, dict) and "schema" in content:
                        check(content["schema"], f"{where}/{label}/content/{media}/schema")
    return found


def generate_into(spec: Path, destination: Path) -> None:
    """Run the pinned generator (and its pinned ruff post hooks) so that `destination` becomes the package."""
    bin_dir = Path(sys.executable).parent
    generator = bin_dir / "openapi-python-client"
    if not generator.exists() or not (bin_dir / "ruff").exists():
        raise GenerationError(f"openapi-python-client and ruff must be installed beside {sys.executable}")
    # The post hooks call `ruff` from PATH: put the environment's own first so the pinned version formats.
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    command = [
        str(generator), "generate",
        "--path", str(spec),
        "--config", str(CONFIG),
        "--custom-template-path", str(TEMPLATES),
        "--meta", "none",
        "--output-path", str(destination),
        "--fail-on-warning",
    ]  # fmt: skip
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    output = result.stdout + result.stderr
    if "UNSUPPORTED SCHEMA SHAPE" in output:  # the model template's own guard: find_unsupported missed a shape
        raise GenerationError(f"templates/model.py.jinja refused a shape that find_unsupported let through:\n{output}")
    if result.returncode != 0 or not (destination / "__init__.py").exists():
        raise GenerationError(f"openapi-python-client failed:\n{output}")
    # PEP 561 marker: the generator writes it only with project metadata, which we do not generate.
    (destination / "py.typed").write_text("# Marker file for PEP 561\n", encoding="utf-8")


def swap_in(fresh: Path, target: Path) -> None:
    """Replace `target` by `fresh` with two renames, so no reader sees a half-written package."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = target.with_name(f".{target.name}.new")
    retired = target.with_name(f".{target.name}.old")
    for leftover in (staged, retired):
        if leftover.exists():
            shutil.rmtree(leftover)
    shutil.copytree(fresh, staged)
    if target.exists():
        target.rename(retired)
    staged.rename(target)
    if retired.exists():
        shutil.rmtree(retired)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--spec", type=Path, default=SPEC, help="OpenAPI document (default: %(default)s)")
    parser.add_argument("--output", type=Path, help="write the package here instead of replacing generated/")
    args = parser.parse_args(argv)
    try:
        validate_spec(args.spec)
        with tempfile.TemporaryDirectory(prefix="speech-models-gen-") as tmp:
            fresh = Path(tmp) / PACKAGE
            source = args.spec.resolve()
            document = yaml.safe_load(source.read_text(encoding="utf-8"))
            flattened = flatten_all_of(document)
            refused = find_unsupported(document)
            if refused:
                raise GenerationError(
                    f"{args.spec}: {len(refused)} schema shape(s) the templates cannot generate exactly:\n  "
                    + "\n  ".join(refused)
                )
            if flattened:  # the generator reads the merged schemas, the spec stays as written
                source = Path(tmp) / "flattened.yaml"
                source.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), encoding="utf-8")
            generate_into(source, fresh)
            target: Path = args.output or TARGET
            swap_in(fresh, target)
    except GenerationError as exc:
        print(f"make generate: {exc}", file=sys.stderr)
        print("generated/ was left unchanged.", file=sys.stderr)
        return 1
    print(f"generated {target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
