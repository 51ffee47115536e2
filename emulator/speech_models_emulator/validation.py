"""Checking the emulator against the spec, as Prism does: every response body it is about to send (``validate``),
and the models it is given to serve (``--data``). A violation names its JSON path."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from openapi_schema_validator import OAS30Validator
from referencing import Registry, Resource

__all__ = ["SpecValidator"]


def _path(parts: Iterable[Any]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(the body)"


class SpecValidator:
    """Validators for the spec's schemas, with formats checked (date-time, uri, ...)."""

    def __init__(self, spec: dict[str, Any]) -> None:
        registry = Registry().with_resource("spec", Resource.opaque(spec))
        self._validators = {
            name: OAS30Validator(
                {"$ref": f"spec#/components/schemas/{name}"},
                registry=registry,
                format_checker=OAS30Validator.FORMAT_CHECKER,
            )
            for name in ("PaginatedCustomModels", "Error", "CustomModel")
        }

    def _first_problem(self, schema: str, data: Any, prefix: Sequence[Any] = ()) -> str | None:
        errors = sorted(self._validators[schema].iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
        if not errors:
            return None
        error = errors[0]
        return f"{_path([*prefix, *error.absolute_path])}: {error.message[:200]}"

    def response_problem(self, status: int, body: bytes) -> str | None:
        """What is wrong with a response body of `status` (a page for 200, an ``Error`` otherwise), or None."""
        try:
            data = json.loads(body)
        except ValueError as exc:
            return f"(the body): not JSON: {exc}"
        return self._first_problem("PaginatedCustomModels" if status == 200 else "Error", data)

    def check_models(self, models: Sequence[Any]) -> None:
        """Raise ValueError naming the first model (by index) that is not a ``CustomModel``, and where."""
        for index, model in enumerate(models):
            problem = self._first_problem("CustomModel", model, ["models", index])
            if problem is not None:
                raise ValueError(f"model {index} does not match the spec's CustomModel: {problem}")
