from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.output_format_type import OutputFormatType
from ..types import UNSET, Unset

T = TypeVar("T", bound="CustomModelFeatures")


@_attrs_define
class CustomModelFeatures:
    """
    Attributes:
        supported_output_formats (list[OutputFormatType] | Unset): Supported output formats.
        supports_endpoints (bool | Unset): A value indicating whether creation of endpoints for live transcription is
            supported.
        supports_transcriptions_on_speech_containers (bool | Unset): A value indicating whether this model can be used
            for transcription on speech container. This feature can be added on existing models when it becomes usable on
            speech container.
        supports_transcriptions_submit (bool | Unset): A value indicating whether submission of transcription jobs is
            supported (POST /transcriptions:submit).
        supports_transcriptions_transcribe (bool | Unset): A value indicating whether the transcribe action is supported
            (POST /transcriptions:transcribe).
    """

    supported_output_formats: list[OutputFormatType] | Unset = UNSET
    supports_endpoints: bool | Unset = UNSET
    supports_transcriptions_on_speech_containers: bool | Unset = UNSET
    supports_transcriptions_submit: bool | Unset = UNSET
    supports_transcriptions_transcribe: bool | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        supported_output_formats: list[str] | Unset = UNSET
        if not isinstance(self.supported_output_formats, Unset):
            supported_output_formats = []
            for supported_output_formats_item_data in self.supported_output_formats:
                supported_output_formats_item = supported_output_formats_item_data.value
                supported_output_formats.append(supported_output_formats_item)

        supports_endpoints = self.supports_endpoints

        supports_transcriptions_on_speech_containers = self.supports_transcriptions_on_speech_containers

        supports_transcriptions_submit = self.supports_transcriptions_submit

        supports_transcriptions_transcribe = self.supports_transcriptions_transcribe

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if supported_output_formats is not UNSET:
            field_dict["supportedOutputFormats"] = supported_output_formats
        if supports_endpoints is not UNSET:
            field_dict["supportsEndpoints"] = supports_endpoints
        if supports_transcriptions_on_speech_containers is not UNSET:
            field_dict["supportsTranscriptionsOnSpeechContainers"] = supports_transcriptions_on_speech_containers
        if supports_transcriptions_submit is not UNSET:
            field_dict["supportsTranscriptionsSubmit"] = supports_transcriptions_submit
        if supports_transcriptions_transcribe is not UNSET:
            field_dict["supportsTranscriptionsTranscribe"] = supports_transcriptions_transcribe

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        _supported_output_formats = d.pop("supportedOutputFormats", UNSET)
        supported_output_formats: list[OutputFormatType] | Unset = UNSET
        if _supported_output_formats is not UNSET:
            supported_output_formats = []
            for supported_output_formats_item_data in _supported_output_formats:
                supported_output_formats_item = OutputFormatType(supported_output_formats_item_data)

                supported_output_formats.append(supported_output_formats_item)

        supports_endpoints = d.pop("supportsEndpoints", UNSET)

        supports_transcriptions_on_speech_containers = d.pop("supportsTranscriptionsOnSpeechContainers", UNSET)

        supports_transcriptions_submit = d.pop("supportsTranscriptionsSubmit", UNSET)

        supports_transcriptions_transcribe = d.pop("supportsTranscriptionsTranscribe", UNSET)

        custom_model_features = cls(
            supported_output_formats=supported_output_formats,
            supports_endpoints=supports_endpoints,
            supports_transcriptions_on_speech_containers=supports_transcriptions_on_speech_containers,
            supports_transcriptions_submit=supports_transcriptions_submit,
            supports_transcriptions_transcribe=supports_transcriptions_transcribe,
        )

        custom_model_features.additional_properties = d
        return custom_model_features

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
