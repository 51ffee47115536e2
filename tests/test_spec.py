"""The hand-written spec is a valid OpenAPI document and says exactly what the reference page says."""

from __future__ import annotations

import re
from typing import Any

import pytest
from openapi_spec_validator import validate

from tests.reference_page import Page, read_page

# Where the page's rendering lost a property's type, the type inferred from the page's text and sample.
INFERRED_ARRAYS = {
    ("CustomModel", "datasets"): "EntityReference",
    ("CustomModelFeatures", "supportedOutputFormats"): "OutputFormatType",
    ("PaginatedCustomModels", "values"): "CustomModel",
}
SHAPE_KEYS = ("type", "format", "items", "$ref", "minLength", "minimum", "maximum")
ENUM_SIZES = {"DetailedErrorCode": 79, "ErrorCode": 14, "Status": 4, "OutputFormatType": 2}


@pytest.fixture(scope="module")
def page() -> Page:
    return read_page()


def _words(text: str | None) -> str:
    return " ".join((text or "").split())


def _ref_name(schema: dict[str, Any]) -> str:
    ref: str = schema["$ref"]
    assert ref.startswith("#/components/schemas/")
    return ref.rsplit("/", 1)[1]


def _expected_from_page_type(page_type: str) -> dict[str, Any]:
    """Translate the page's type cell ("string (date-time)", "integer (int32) minimum: 1maximum: 100", "Error[]")."""
    if page_type.endswith("[]"):
        return {"type": "array", "items": {"$ref": f"#/components/schemas/{page_type[:-2]}"}}
    match = re.fullmatch(r"(string|integer|boolean|object)(?: \(([\w-]+)\))?(.*)", page_type)
    if not match:
        return {"$ref": f"#/components/schemas/{page_type}"}
    expected: dict[str, Any] = {"type": match.group(1)}
    if match.group(2):
        expected["format"] = match.group(2)
    for key, value in re.findall(r"(\w+): (\d+)", match.group(3)):
        expected[key] = int(value)
    return expected


def test_spec_is_a_valid_openapi_document(spec: dict[str, Any]) -> None:
    validate(spec)


def test_spec_has_exactly_the_pages_schemas(spec: dict[str, Any], page: Page) -> None:
    assert set(spec["components"]["schemas"]) == set(page.objects) | set(page.enums)
    assert len(spec["components"]["schemas"]) == len(page.objects) + len(page.enums)  # no name is both


def test_every_property_matches_the_page(spec: dict[str, Any], page: Page) -> None:
    schemas = spec["components"]["schemas"]
    checked = 0
    for name, properties in page.objects.items():
        schema = schemas[name]
        assert schema["type"] == "object"
        assert list(schema["properties"]) == list(properties), name
        for prop_name, prop in properties.items():
            actual = schema["properties"][prop_name]
            where = f"{name}.{prop_name}"
            assert _words(actual.get("description")) == prop.description, where
            if prop.type is None:
                item = INFERRED_ARRAYS[name, prop_name]
                expected = {"type": "array", "items": {"$ref": f"#/components/schemas/{item}"}}
            else:
                expected = _expected_from_page_type(prop.type)
            shape = {key: actual[key] for key in SHAPE_KEYS if key in actual}
            assert shape == expected, where
            checked += 1
    assert checked == sum(len(properties) for properties in page.objects.values())


def test_every_enum_value_and_description_matches_the_page(spec: dict[str, Any], page: Page) -> None:
    schemas = spec["components"]["schemas"]
    for name, values in page.enums.items():
        schema = schemas[name]
        assert len(values) == ENUM_SIZES[name]
        assert schema["type"] == "string"
        assert schema["enum"] == list(values), name
        marker = schema["x-ms-enum"]
        assert marker["name"] == name
        assert marker["modelAsString"] is True, f"{name} must be marked extensible"
        assert {v["value"]: v["description"] for v in marker["values"]} == values, name


def test_inferred_and_textual_shapes(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    custom_properties = schemas["CustomModel"]["properties"]["customProperties"]
    assert custom_properties["additionalProperties"] == {"type": "string", "maxLength": 256}
    assert custom_properties["maxProperties"] == 10
    assert _ref_name(schemas["InnerError"]["properties"]["innerError"]) == "InnerError"
    assert _ref_name(schemas["Error"]["properties"]["details"]["items"]) == "Error"
    assert schemas["PaginatedCustomModels"]["properties"]["@nextLink"]["nullable"] is True


def test_operation_matches_the_page(spec: dict[str, Any], page: Page) -> None:
    assert spec["servers"] == [
        {
            "url": "{endpoint}",
            "variables": {
                "endpoint": {
                    "description": "Supported Cognitive Services endpoints (protocol and hostname, for example: "
                    "https://westus.api.cognitive.microsoft.com).",
                    "default": "https://westus.api.cognitive.microsoft.com",
                }
            },
        }
    ]
    assert spec["components"]["securitySchemes"]["Ocp-Apim-Subscription-Key"] == {
        "type": "apiKey",
        "name": "Ocp-Apim-Subscription-Key",
        "in": "header",
        "description": "Provide your cognitive services account key here.",
    }
    operation = spec["paths"]["/speechtotext/models"]["get"]
    assert operation["operationId"] == "Models_ListCustomModels"
    assert operation["summary"] == "Gets the list of custom models for the authenticated subscription."
    assert operation["security"] == [{"Ocp-Apim-Subscription-Key": []}]
    params = {p["name"]: p for p in operation["parameters"]}
    assert set(params) == {"api-version", "skip", "top", "filter"}
    assert all(p["in"] == "query" for p in params.values())
    assert params["api-version"]["required"] is True
    assert params["api-version"]["schema"] == {"type": "string", "default": "2025-10-15", "example": "2025-10-15"}
    assert params["api-version"]["description"] == "The requested api version."
    for name in ("skip", "top"):
        assert params[name]["schema"] == {"type": "integer", "format": "int32"}
        assert params[name].get("required", False) is False
    assert params["skip"]["description"] == "Number of datasets that will be skipped."
    assert params["top"]["description"] == "Number of datasets that will be included after skipping."
    assert params["filter"]["schema"] == {"type": "string"}
    assert params["filter"]["description"] == "A filtering expression for selecting a subset of the available models."

    ok = operation["responses"]["200"]
    assert ok["headers"]["Retry-After"]["schema"] == {"type": "integer", "format": "int32"}
    assert ok["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/PaginatedCustomModels"}
    default = operation["responses"]["default"]
    assert default["description"] == "An error occurred."
    assert default["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


def test_sample_response_is_the_operations_example(spec: dict[str, Any], page: Page) -> None:
    example_ref = spec["paths"]["/speechtotext/models"]["get"]["responses"]["200"]["content"]["application/json"]
    ref = next(iter(example_ref["examples"].values()))["$ref"]
    example = spec["components"]["examples"][ref.rsplit("/", 1)[1]]
    assert example["value"] == page.sample_response
