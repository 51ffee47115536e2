"""Helpers of the generation tests: scripts/generate.py loaded by path (so mypy sees it under one name), a Swagger
2.0 description's definitions as an OpenAPI 3 document, and a freshly generated package imported under an alias
beside the installed one."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from tests.conftest import ROOT

SCRIPT = ROOT / "scripts" / "generate.py"
FIXTURES = ROOT / "tests" / "fixtures"
MICROSOFT = FIXTURES / "microsoft" / "speechtotext-2025-10-15.json"


def generate_script() -> Any:
    """scripts/generate.py as a module."""
    loader = importlib.util.spec_from_file_location("generate_script", SCRIPT)
    assert loader is not None
    assert loader.loader is not None
    module: Any = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(module)
    return module


def openapi_from_swagger_definitions(swagger: dict[str, Any]) -> dict[str, Any]:
    """An OpenAPI 3.0 document whose components/schemas are the Swagger 2.0 `definitions` (their refs rewritten),
    with no paths: the generator makes a model of every schema all the same."""
    text = json.dumps(swagger["definitions"]).replace('"#/definitions/', '"#/components/schemas/')
    return {
        "openapi": "3.0.3",
        "info": {"title": swagger["info"]["title"], "version": swagger["info"]["version"]},
        "paths": {},
        "components": {"schemas": json.loads(text)},
    }


def microsoft_document() -> dict[str, Any]:
    """Microsoft's stored description (tests/fixtures/microsoft/) as the OpenAPI 3 document `make generate` reads."""
    return openapi_from_swagger_definitions(json.loads(MICROSOFT.read_text(encoding="utf-8")))


def import_generated(package: Path, alias: str) -> ModuleType:
    """Import the generated package at `package` as `alias` (its imports are relative, so it does not touch the
    installed speech_models_client)."""
    loader = importlib.util.spec_from_file_location(
        alias, package / "__init__.py", submodule_search_locations=[str(package)]
    )
    assert loader is not None
    assert loader.loader is not None
    module = importlib.util.module_from_spec(loader)
    sys.modules[alias] = module
    loader.loader.exec_module(module)
    for part in ("models", "errors", "types"):
        setattr(module, part, importlib.import_module(f"{alias}.{part}"))
    return module
