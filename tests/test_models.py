"""The generated models read the reference page's sample with every field typed, write it back unchanged, and
keep values from a newer service."""

from __future__ import annotations

import copy
import datetime
import json
from typing import Any

import pytest
from speech_models_client.models import (
    CustomModel,
    DetailedErrorCode,
    Error,
    ErrorCode,
    InnerError,
    OutputFormatType,
    PaginatedCustomModels,
    Status,
)
from speech_models_client.types import Unset

from tests.reference_page import read_page

SAMPLE: dict[str, Any] = read_page().sample_response  # type: ignore[assignment]


def test_sample_response_parses_with_every_field_typed() -> None:
    page = PaginatedCustomModels.from_dict(SAMPLE)
    assert page.next_link == SAMPLE["@nextLink"]
    assert not isinstance(page.values, Unset)
    assert len(page.values) == 2
    model = page.values[0]
    assert isinstance(model, CustomModel)
    assert model.display_name == "Language model"
    assert model.locale == "en-US"
    assert model.status is Status.RUNNING
    assert model.created_date_time == datetime.datetime(2019, 1, 7, 11, 34, 12, tzinfo=datetime.UTC)
    assert model.last_action_date_time == datetime.datetime(2019, 1, 7, 11, 36, 7, tzinfo=datetime.UTC)
    assert model.self_ == SAMPLE["values"][0]["self"]
    assert not isinstance(model.base_model, Unset)
    assert model.base_model.self_ == SAMPLE["values"][0]["baseModel"]["self"]
    assert not isinstance(model.datasets, Unset)
    assert [d.self_ for d in model.datasets] == [SAMPLE["values"][0]["datasets"][0]["self"]]
    assert not isinstance(model.links, Unset)
    assert isinstance(model.links.copy, str)
    assert model.links.manifest.endswith("/manifest?api-version=2025-10-15")  # type: ignore[union-attr]
    props = model.properties
    assert not isinstance(props, Unset)
    assert props.custom_model_weight_percent == 30
    assert not isinstance(props.deprecation_dates, Unset)
    assert props.deprecation_dates.transcription_date_time == datetime.datetime(2023, 5, 4, tzinfo=datetime.UTC)
    assert not isinstance(props.features, Unset)
    assert props.features.supports_transcriptions_submit is True
    assert props.features.supports_transcriptions_transcribe is False
    assert props.features.supported_output_formats == [OutputFormatType.LEXICAL, OutputFormatType.DISPLAY]
    assert all(type(f) is OutputFormatType for f in props.features.supported_output_formats)
    assert model.additional_properties == {}


def test_sample_response_round_trips_to_the_same_json() -> None:
    page = PaginatedCustomModels.from_dict(copy.deepcopy(SAMPLE))
    assert json.loads(json.dumps(page.to_dict())) == SAMPLE


def test_unknown_enum_values_parse_and_round_trip() -> None:
    body = copy.deepcopy(SAMPLE)
    body["values"][0]["status"] = "Paused"
    body["values"][0]["properties"]["features"]["supportedOutputFormats"] = ["Lexical", "Markdown"]
    page = PaginatedCustomModels.from_dict(body)
    model = page.values[0]  # type: ignore[index]
    assert isinstance(model.status, Status)
    assert model.status == "Paused"
    assert model.status.value == "Paused"
    assert model.status not in list(Status)
    formats = model.properties.features.supported_output_formats  # type: ignore[union-attr]
    assert formats[0] is OutputFormatType.LEXICAL
    assert formats[1] == "Markdown"
    assert page.values[1].status is Status.RUNNING  # type: ignore[index]
    assert page.to_dict() == body


def test_known_values_stay_the_members_themselves() -> None:
    assert Status("Running") is Status.RUNNING
    assert DetailedErrorCode("UnsupportedFilter") is DetailedErrorCode.UNSUPPORTEDFILTER
    assert len(list(DetailedErrorCode)) == 79
    assert len(list(ErrorCode)) == 14


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
    error = Error.from_dict(body)
    assert error.code == "FutureErrorCode"
    assert error.details[0].code is ErrorCode.INVALIDARGUMENT  # type: ignore[index]
    codes = []
    node: InnerError | Unset = error.inner_error
    while isinstance(node, InnerError):
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
    page = PaginatedCustomModels.from_dict(body)
    assert page.additional_properties == {"nextPageToken": "abc"}
    assert page.values[0].additional_properties == {"newerField": {"nested": [1, 2]}}  # type: ignore[index]
    assert page.to_dict() == body
