from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="CustomModelProperties")


@_attrs_define
class CustomModelProperties:
    """
    Attributes:
        custom_model_weight_percent (int | Unset): The weight of custom model between 1 (1% custom model and 99% base
            model) and 100 (100% custom model and 0% base model). When this property is not set, the service chooses a
            suitable value (get the model to retrieve the selected weight). Start without using this property. If needed,
            choose a larger (or smaller) weight to increase (or decrease) the impact of the custom model.
        deprecation_dates (CustomModelDeprecationDates | Unset):
        error (EntityError | Unset):
        features (CustomModelFeatures | Unset):
    """

    custom_model_weight_percent: int | Unset = UNSET
    deprecation_dates: CustomModelDeprecationDates | Unset = UNSET
    error: EntityError | Unset = UNSET
    features: CustomModelFeatures | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        custom_model_weight_percent = self.custom_model_weight_percent

        deprecation_dates: dict[str, Any] | Unset = UNSET
        if not isinstance(self.deprecation_dates, Unset):
            deprecation_dates = self.deprecation_dates.to_dict()

        error: dict[str, Any] | Unset = UNSET
        if not isinstance(self.error, Unset):
            error = self.error.to_dict()

        features: dict[str, Any] | Unset = UNSET
        if not isinstance(self.features, Unset):
            features = self.features.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if custom_model_weight_percent is not UNSET:
            field_dict["customModelWeightPercent"] = custom_model_weight_percent
        if deprecation_dates is not UNSET:
            field_dict["deprecationDates"] = deprecation_dates
        if error is not UNSET:
            field_dict["error"] = error
        if features is not UNSET:
            field_dict["features"] = features

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        custom_model_weight_percent = d.pop("customModelWeightPercent", UNSET)

        _deprecation_dates = d.pop("deprecationDates", UNSET)
        deprecation_dates: CustomModelDeprecationDates | Unset
        if isinstance(_deprecation_dates, Unset):
            deprecation_dates = UNSET
        else:
            deprecation_dates = CustomModelDeprecationDates.from_dict(_deprecation_dates)

        _error = d.pop("error", UNSET)
        error: EntityError | Unset
        if isinstance(_error, Unset):
            error = UNSET
        else:
            error = EntityError.from_dict(_error)

        _features = d.pop("features", UNSET)
        features: CustomModelFeatures | Unset
        if isinstance(_features, Unset):
            features = UNSET
        else:
            features = CustomModelFeatures.from_dict(_features)

        custom_model_properties = cls(
            custom_model_weight_percent=custom_model_weight_percent,
            deprecation_dates=deprecation_dates,
            error=error,
            features=features,
        )

        custom_model_properties.additional_properties = d
        return custom_model_properties

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


from ..models.custom_model_deprecation_dates import CustomModelDeprecationDates  # noqa: E402
from ..models.custom_model_features import CustomModelFeatures  # noqa: E402
from ..models.entity_error import EntityError  # noqa: E402
