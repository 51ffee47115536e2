"""The generated dict-backed models: the reference sample read with every field typed and written back unchanged,
null and absent fields, wrong types raising on read only, values from a newer service, equality, repr, pickle,
keyword construction, and 1,000 documents drawn from the spec's schemas."""

from __future__ import annotations

import copy
import datetime
import json
import pickle
import re
from typing import Any

import pytest
import speech_models_client.models as generated_models
import yaml
from hypothesis import HealthCheck, given, settings
from speech_models import FieldValueError, InvalidResponseError, SpeechModelsError
from speech_models_client.models import (
    CustomModel,
    CustomModelCustomProperties,
    CustomModelFeatures,
    CustomModelProperties,
    DetailedErrorCode,
    EntityReference,
    Error,
    ErrorCode,
    InnerError,
    OutputFormatType,
    PaginatedCustomModels,
    Status,
)

from tests.conftest import SPEC_PATH
from tests.json_documents import json_strategy, read_everything
from tests.reference_page import read_page

SAMPLE: dict[str, Any] = read_page().sample_response  # type: ignore[assignment]
MODEL_CLASSES = [cls for cls in vars(generated_models).values() if isinstance(cls, type) and hasattr(cls, "_FIELDS")]


def test_every_schema_object_is_a_dict_backed_model(spec: dict[str, Any]) -> None:
    names = {cls.__name__ for cls in MODEL_CLASSES}
    objects = set(read_page().objects)
    assert objects <= names
    # the others are the page's inline objects (a map, free-form details), one class each
    inline = [p for schema in spec["components"]["schemas"].values() for p in schema.get("properties", {}).values()
              if p.get("type") == "object"]  # fmt: skip
    assert len(names - objects) == len(inline)


def test_sample_response_parses_with_every_field_typed() -> None:
    page = PaginatedCustomModels.from_dict(copy.deepcopy(SAMPLE))
    assert page.next_link == SAMPLE["@nextLink"]
    assert page.values is not None
    assert len(page.values) == 2
    model = page.values[0]
    assert isinstance(model, CustomModel)
    assert model.display_name == "Language model"
    assert model.locale == "en-US"
    assert model.status is Status.RUNNING
    assert model.created_date_time == datetime.datetime(2019, 1, 7, 11, 34, 12, tzinfo=datetime.UTC)
    assert model.last_action_date_time == datetime.datetime(2019, 1, 7, 11, 36, 7, tzinfo=datetime.UTC)
    assert model.self_ == SAMPLE["values"][0]["self"]
    assert model.base_model is not None
    assert model.base_model.self_ == SAMPLE["values"][0]["baseModel"]["self"]
    assert model.datasets is not None
    assert [d.self_ for d in model.datasets] == [SAMPLE["values"][0]["datasets"][0]["self"]]
    assert model.links is not None
    assert isinstance(model.links.copy, str)
    assert model.links.manifest is not None
    assert model.links.manifest.endswith("/manifest?api-version=2025-10-15")
    props = model.properties
    assert props is not None
    assert props.custom_model_weight_percent == 30
    assert props.deprecation_dates is not None
    assert props.deprecation_dates.transcription_date_time == datetime.datetime(2023, 5, 4, tzinfo=datetime.UTC)
    features = props.features
    assert features is not None
    assert features.supports_transcriptions_submit is True
    assert features.supports_transcriptions_transcribe is False
    assert features.supported_output_formats == [OutputFormatType.LEXICAL, OutputFormatType.DISPLAY]
    assert all(type(f) is OutputFormatType for f in features.supported_output_formats)
    assert model.additional_properties == {}


def test_sample_response_round_trips_to_the_same_json_key_order_included() -> None:
    page = PaginatedCustomModels.from_dict(copy.deepcopy(SAMPLE))
    for model in page.values or []:  # reading every field parses it, and must not change what to_dict gives
        _ = (model.created_date_time, model.status, model.properties, model.datasets)
    assert json.dumps(page.to_dict()) == json.dumps(SAMPLE)


def test_from_dict_holds_the_object_and_to_dict_copies_it() -> None:
    body = copy.deepcopy(SAMPLE["values"][0])
    model = CustomModel.from_dict(body)
    out = model.to_dict()
    assert out == body
    out["properties"]["features"]["supportsEndpoints"] = "changed"
    assert model.to_dict() == body


def test_exact_date_times_seven_digit_fractions_and_minus_zero_offsets() -> None:
    raw = {"createdDateTime": "2024-02-29T23:59:59.1234567Z", "lastActionDateTime": "2000-01-01T01:00:00-00:00"}
    model = CustomModel.from_dict(dict(raw))
    assert model.created_date_time == datetime.datetime(2024, 2, 29, 23, 59, 59, 123456, tzinfo=datetime.UTC)
    assert model.last_action_date_time == datetime.datetime(2000, 1, 1, 1, tzinfo=datetime.UTC)
    assert model.to_dict() == raw


def test_a_parsed_field_is_cached() -> None:
    model = CustomModel.from_dict({"createdDateTime": "2024-01-01T00:00:00Z", "properties": {}})
    assert model.created_date_time is model.created_date_time
    assert model.properties is model.properties


# --- null, absent, wrong types -------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", MODEL_CLASSES, ids=lambda cls: cls.__name__)
def test_null_and_absent_read_as_none_in_every_field_of_every_schema(cls: Any) -> None:
    for key, name in cls._FIELDS:
        assert getattr(cls.from_dict({}), name) is None
        model = cls.from_dict({key: None})
        assert getattr(model, name) is None
        assert model.to_dict() == {key: None}  # null stays null, absent stays absent
    every_null = {key: None for key, _ in cls._FIELDS}
    model = cls.from_dict(dict(every_null))
    assert all(getattr(model, name) is None for _, name in cls._FIELDS)
    assert model.to_dict() == every_null


# (model, JSON key, attribute, a wrong value, what the message says is expected)
WRONG = [
    (CustomModel, "displayName", "display_name", 5, "a string"),
    (CustomModel, "createdDateTime", "created_date_time", "yesterday", "an RFC 3339 date-time"),
    (CustomModel, "createdDateTime", "created_date_time", "2024-01-01T00:00:00", "an RFC 3339 date-time"),
    (CustomModel, "createdDateTime", "created_date_time", 1700000000, "an RFC 3339 date-time"),
    (CustomModel, "status", "status", 7, "a Status string"),
    (CustomModel, "properties", "properties", [], "a JSON object"),
    (CustomModel, "datasets", "datasets", {"self": "x"}, "an array"),
    (CustomModel, "customProperties", "custom_properties", "k=v", "a JSON object"),
    (CustomModelProperties, "customModelWeightPercent", "custom_model_weight_percent", "30", "an integer"),
    (CustomModelProperties, "customModelWeightPercent", "custom_model_weight_percent", True, "an integer"),
    (CustomModelFeatures, "supportsEndpoints", "supports_endpoints", "yes", "true or false"),
    (CustomModelFeatures, "supportedOutputFormats", "supported_output_formats", "Lexical", "an array"),
    (PaginatedCustomModels, "@nextLink", "next_link", 5, "a string"),
    (Error, "details", "details", [{"code": 1}, 5], "a JSON object"),
]


@pytest.mark.parametrize(("cls", "key", "name", "value", "expected"), WRONG)
def test_a_wrong_type_raises_when_read_and_the_neighbours_stay_readable(
    cls: Any, key: str, name: str, value: Any, expected: str
) -> None:
    model = cls.from_dict({key: value})  # no error yet: nothing is parsed
    with pytest.raises(FieldValueError) as info:
        getattr(model, name)
    error = info.value
    assert isinstance(error, InvalidResponseError)
    assert isinstance(error, SpeechModelsError)
    assert isinstance(error, TypeError)
    assert error.model == cls.__name__
    assert error.path.startswith(key)
    assert expected in str(error)
    item = re.fullmatch(rf"{re.escape(key)}\[(\d+)\]", error.path)  # an array's wrong item: the path names it
    assert error.found == (value[int(item.group(1))] if item else value)
    for other_key, other_name in cls._FIELDS:
        if other_key != key:
            assert getattr(model, other_name) is None
    assert model.to_dict() == {key: value}


def test_errors_name_the_json_path_through_nested_models_and_arrays() -> None:
    body = copy.deepcopy(SAMPLE)
    body["values"][1]["properties"]["features"]["supportedOutputFormats"] = ["Lexical", 3]
    body["values"][1]["datasets"] = [{"self": "a"}, {"self": 4}]
    body["values"][1]["customProperties"] = {"team": "speech", "count": 3}
    page = PaginatedCustomModels.from_dict(body)
    model = (page.values or [])[1]
    with pytest.raises(FieldValueError, match=r"values\[1\]\.properties\.features\.supportedOutputFormats\[1\]"):
        _ = model.properties.features.supported_output_formats  # type: ignore[union-attr]
    datasets = model.datasets or []
    assert datasets[0].self_ == "a"
    with pytest.raises(FieldValueError, match=r"^EntityReference: values\[1\]\.datasets\[1\]\.self should be"):
        _ = datasets[1].self_
    custom = model.custom_properties
    assert custom is not None
    assert custom["team"] == "speech"
    with pytest.raises(FieldValueError, match=r"values\[1\]\.customProperties\.count should be a string"):
        _ = custom.additional_properties
    assert (page.values or [])[0].display_name == "Language model"


# --- forward compatibility -----------------------------------------------------------------------------------


def test_unknown_enum_values_parse_and_round_trip() -> None:
    body = copy.deepcopy(SAMPLE)
    body["values"][0]["status"] = "Paused"
    body["values"][0]["properties"]["features"]["supportedOutputFormats"] = ["Lexical", "Markdown"]
    page = PaginatedCustomModels.from_dict(copy.deepcopy(body))
    values = page.values or []
    model = values[0]
    assert isinstance(model.status, Status)
    assert model.status == "Paused"
    assert model.status.value == "Paused"
    assert model.status not in list(Status)
    assert model.properties is not None
    assert model.properties.features is not None
    formats = model.properties.features.supported_output_formats or []
    assert formats[0] is OutputFormatType.LEXICAL
    assert formats[1] == "Markdown"
    assert values[1].status is Status.RUNNING
    assert page.to_dict() == body


def test_known_values_stay_the_members_themselves() -> None:
    assert Status("Running") is Status.RUNNING
    assert DetailedErrorCode("UnsupportedFilter") is DetailedErrorCode.UNSUPPORTEDFILTER
    enums = read_page().enums
    assert {member.value for member in DetailedErrorCode} == set(enums["DetailedErrorCode"])
    assert {member.value for member in ErrorCode} == set(enums["ErrorCode"])


def test_non_string_enum_value_is_still_rejected() -> None:
    with pytest.raises(ValueError, match="not a valid Status"):
        Status(5)  # type: ignore[arg-type]


def test_error_with_deep_inner_error_chain_and_unknown_codes_parses() -> None:
    depth = 60
    inner: dict[str, Any] = {"code": "BrandNewDetailedCode", "message": "deepest"}
    for level in range(depth - 1):
        inner = {"code": "InvalidParameterValue", "message": f"level {level}", "innerError": inner}
    body = {
        "code": "FutureErrorCode",
        "message": "top",
        "target": "filter",
        "details": [{"code": "InvalidArgument", "message": "detail"}],
        "innerError": inner,
    }
    error = Error.from_dict(copy.deepcopy(body))
    assert error.code == "FutureErrorCode"
    assert (error.details or [])[0].code is ErrorCode.INVALIDARGUMENT
    codes = []
    node: InnerError | None = error.inner_error
    while node is not None:
        codes.append(node.code)
        node = node.inner_error
    assert len(codes) == depth
    assert codes[0] is DetailedErrorCode.INVALIDPARAMETERVALUE
    assert codes[-1] == "BrandNewDetailedCode"
    assert error.to_dict() == body


def test_fields_the_spec_does_not_list_are_kept() -> None:
    body = copy.deepcopy(SAMPLE)
    body["values"][0]["newerField"] = {"nested": [1, 2]}
    body["values"][0]["properties"]["features"]["supportsSomethingNew"] = True
    body["nextPageToken"] = "abc"
    page = PaginatedCustomModels.from_dict(copy.deepcopy(body))
    assert page.additional_properties == {"nextPageToken": "abc"}
    model = (page.values or [])[0]
    assert model.additional_properties == {"newerField": {"nested": [1, 2]}}
    assert model["newerField"] == {"nested": [1, 2]}
    assert "newerField" in model
    assert "displayName" not in model  # the mapping interface covers the unlisted fields only
    assert page.to_dict() == body


# --- equality, repr, pickle, construction ---------------------------------------------------------------------


def test_equality_by_content_and_no_hash() -> None:
    a = CustomModel.from_dict(copy.deepcopy(SAMPLE["values"][0]))
    b = CustomModel.from_dict(copy.deepcopy(SAMPLE["values"][0]))
    assert a == b
    _ = a.properties  # a parsed cache does not change equality
    assert a == b
    assert a != CustomModel.from_dict({**SAMPLE["values"][0], "locale": "de-DE"})
    assert a != EntityReference.from_dict(SAMPLE["values"][0])
    with pytest.raises(TypeError):
        hash(a)


def test_repr_is_short_and_shows_the_fields_present() -> None:
    model = CustomModel.from_dict({**copy.deepcopy(SAMPLE["values"][0]), "extra": 1})
    text = repr(model)
    assert text.startswith("CustomModel(base_model={...}, created_date_time='2019-01-07T11:34:12Z', ")
    assert "display_name='Language model'" in text
    assert "datasets=[1 items]" in text
    assert "+1 unlisted" in text
    assert "0x" not in text
    assert repr(CustomModel()) == "CustomModel()"
    assert len(repr(CustomModel(description="x" * 1000))) < 80


def test_pickle_round_trips_equal() -> None:
    page = PaginatedCustomModels.from_dict(copy.deepcopy(SAMPLE))
    clone = pickle.loads(pickle.dumps(page))
    assert clone == page
    assert (clone.values or [])[0].created_date_time == (page.values or [])[0].created_date_time


def test_models_built_by_keyword_serialize_as_the_service_would() -> None:
    model = CustomModel(
        display_name="Language model",
        locale="en-US",
        status=Status.RUNNING,
        created_date_time=datetime.datetime(2019, 1, 7, 11, 34, 12, tzinfo=datetime.UTC),
        datasets=[EntityReference(self_="https://example.test/datasets/1")],
        properties=CustomModelProperties(
            custom_model_weight_percent=30,
            features=CustomModelFeatures(supported_output_formats=[OutputFormatType.LEXICAL, Status("New")]),  # type: ignore[list-item]
        ),
        custom_properties=CustomModelCustomProperties(additional_properties={"team": "speech"}),
        additional_properties={"newerField": [1]},
    )
    assert model.to_dict() == {
        "createdDateTime": "2019-01-07T11:34:12Z",
        "customProperties": {"team": "speech"},
        "datasets": [{"self": "https://example.test/datasets/1"}],
        "displayName": "Language model",
        "locale": "en-US",
        "properties": {"customModelWeightPercent": 30, "features": {"supportedOutputFormats": ["Lexical", "New"]}},
        "status": "Running",
        "newerField": [1],
    }
    assert model.status is Status.RUNNING
    assert CustomModel.from_dict(model.to_dict()) == model
    with pytest.raises(ValueError, match="time zone"):
        CustomModel(created_date_time=datetime.datetime(2019, 1, 7))
    with pytest.raises(ValueError, match="is a field of CustomModel"):
        CustomModel(additional_properties={"displayName": "x"})


# --- 1,000 documents drawn from the spec's schemas --------------------------------------------------------------


_SCHEMAS = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))["components"]["schemas"]


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=json_strategy(_SCHEMAS["PaginatedCustomModels"], _SCHEMAS))
def test_documents_drawn_from_the_spec_round_trip_and_read(document: dict[str, Any]) -> None:
    original = json.dumps(document)
    page = PaginatedCustomModels.from_dict(document)
    read_everything(page)
    assert json.dumps(page.to_dict()) == original
    assert pickle.loads(pickle.dumps(page)) == page


def test_no_public_signature_or_field_of_the_generated_client_shows_unset() -> None:
    import inspect

    from speech_models_client.api.models import models_list_custom_models

    for name in ("sync", "sync_detailed", "asyncio", "asyncio_detailed"):
        function = getattr(models_list_custom_models, name)
        assert "Unset" not in str(inspect.signature(function)), name
        assert "Unset" not in (function.__doc__ or ""), name
    for cls in MODEL_CLASSES:
        assert "Unset" not in str(inspect.signature(cls)), cls.__name__
        for _, attribute in cls._FIELDS:
            assert "Unset" not in str(inspect.signature(getattr(cls, attribute).fget)), (cls.__name__, attribute)


def test_a_page_and_its_models_hold_no_reference_cycle() -> None:
    """Models know where they sit (for the paths in errors) without holding their parent: a page read field by
    field, nested models and arrays included, is freed by reference counting alone, not left to the collector."""
    import gc

    document = copy.deepcopy(SAMPLE)
    gc.collect()
    gc.disable()
    try:
        page = PaginatedCustomModels.from_dict(document)
        read_everything(page)
        assert page.values is not None
        assert page.values[1].properties is not None
        assert page.values[1].properties.features is not None
        del page
        assert gc.collect() == 0
    finally:
        gc.enable()
    bad = copy.deepcopy(SAMPLE)
    bad["values"][1]["properties"]["features"]["supportsEndpoints"] = "yes"
    features = PaginatedCustomModels.from_dict(bad).values[1].properties.features  # type: ignore[index,union-attr]
    with pytest.raises(FieldValueError, match=r"values\[1\]\.properties\.features\.supportsEndpoints"):
        _ = features.supports_endpoints  # type: ignore[union-attr]
