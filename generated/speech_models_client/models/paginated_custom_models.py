from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="PaginatedCustomModels")


@_attrs_define
class PaginatedCustomModels:
    """
    Attributes:
        next_link (None | str | Unset): A link to the next set of paginated results if there are more entities
            available; otherwise null.
        values (list[CustomModel] | Unset): A list of entities limited by either the passed query parameters 'skip' and
            'top' or their default values. When iterating through a list using pagination and deleting entities in parallel,
            some entities will be skipped in the results. It's recommended to build a list on the client and delete after
            the fetching of the complete list.
    """

    next_link: None | str | Unset = UNSET
    values: list[CustomModel] | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        next_link: None | str | Unset
        if isinstance(self.next_link, Unset):
            next_link = UNSET
        else:
            next_link = self.next_link

        values: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.values, Unset):
            values = []
            for values_item_data in self.values:
                values_item = values_item_data.to_dict()
                values.append(values_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if next_link is not UNSET:
            field_dict["@nextLink"] = next_link
        if values is not UNSET:
            field_dict["values"] = values

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_next_link(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        next_link = _parse_next_link(d.pop("@nextLink", UNSET))

        _values = d.pop("values", UNSET)
        values: list[CustomModel] | Unset = UNSET
        if _values is not UNSET:
            values = []
            for values_item_data in _values:
                values_item = CustomModel.from_dict(values_item_data)

                values.append(values_item)

        paginated_custom_models = cls(
            next_link=next_link,
            values=values,
        )

        paginated_custom_models.additional_properties = d
        return paginated_custom_models

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


from ..models.custom_model import CustomModel  # noqa: E402
