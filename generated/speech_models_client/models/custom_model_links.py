from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="CustomModelLinks")


@_attrs_define
class CustomModelLinks:
    """
    Attributes:
        copy (str | Unset): The location to the model copy action. See operation "Models_Copy" for more details.
        files (str | Unset): The location to get all files of this entity. See operation "Models_ListFiles" for more
            details.
        manifest (str | Unset): The location to get a manifest for this model to be used in the on-prem container. See
            operation "Models_GetCustomModelManifest" for more details.
    """

    copy: str | Unset = UNSET
    files: str | Unset = UNSET
    manifest: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        copy = self.copy

        files = self.files

        manifest = self.manifest

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if copy is not UNSET:
            field_dict["copy"] = copy
        if files is not UNSET:
            field_dict["files"] = files
        if manifest is not UNSET:
            field_dict["manifest"] = manifest

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        copy = d.pop("copy", UNSET)

        files = d.pop("files", UNSET)

        manifest = d.pop("manifest", UNSET)

        custom_model_links = cls(
            copy=copy,
            files=files,
            manifest=manifest,
        )

        custom_model_links.additional_properties = d
        return custom_model_links

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
