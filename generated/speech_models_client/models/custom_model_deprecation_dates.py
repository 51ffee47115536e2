from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="CustomModelDeprecationDates")


@_attrs_define
class CustomModelDeprecationDates:
    """
    Attributes:
        transcription_date_time (datetime.datetime | Unset): The date when transcription becomes deprecated.
    """

    transcription_date_time: datetime.datetime | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        transcription_date_time: str | Unset = UNSET
        if not isinstance(self.transcription_date_time, Unset):
            transcription_date_time = self.transcription_date_time.isoformat().replace("+00:00", "Z")

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if transcription_date_time is not UNSET:
            field_dict["transcriptionDateTime"] = transcription_date_time

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        _transcription_date_time = d.pop("transcriptionDateTime", UNSET)
        transcription_date_time: datetime.datetime | Unset
        if isinstance(_transcription_date_time, Unset):
            transcription_date_time = UNSET
        else:
            transcription_date_time = datetime.datetime.fromisoformat(_transcription_date_time)

        custom_model_deprecation_dates = cls(
            transcription_date_time=transcription_date_time,
        )

        custom_model_deprecation_dates.additional_properties = d
        return custom_model_deprecation_dates

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
