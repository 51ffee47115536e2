from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.status import Status
from ..types import UNSET, Unset

T = TypeVar("T", bound="CustomModel")


@_attrs_define
class CustomModel:
    """
    Attributes:
        base_model (EntityReference | Unset):
        created_date_time (datetime.datetime | Unset): The time-stamp when the object was created. The time stamp is
            encoded as ISO 8601 date and time format ("YYYY-MM-DDThh:mm:ssZ", see
            https://en.wikipedia.org/wiki/ISO_8601#Combined_date_and_time_representations).
        custom_properties (CustomModelCustomProperties | Unset): The custom properties of this entity. The maximum
            allowed key length is 64 characters, the maximum allowed value length is 256 characters and the count of allowed
            entries is 10.
        datasets (list[EntityReference] | Unset): Datasets used for adaptation.
        description (str | Unset): The description of the object.
        display_name (str | Unset): The display name of the object.
        last_action_date_time (datetime.datetime | Unset): The time-stamp when the current status was entered. The time
            stamp is encoded as ISO 8601 date and time format ("YYYY-MM-DDThh:mm:ssZ", see
            https://en.wikipedia.org/wiki/ISO_8601#Combined_date_and_time_representations).
        links (CustomModelLinks | Unset):
        locale (str | Unset): The locale of the contained data.
        project (EntityReference | Unset):
        properties (CustomModelProperties | Unset):
        self_ (str | Unset): The location of this entity.
        status (Status | Unset):
    """

    base_model: EntityReference | Unset = UNSET
    created_date_time: datetime.datetime | Unset = UNSET
    custom_properties: CustomModelCustomProperties | Unset = UNSET
    datasets: list[EntityReference] | Unset = UNSET
    description: str | Unset = UNSET
    display_name: str | Unset = UNSET
    last_action_date_time: datetime.datetime | Unset = UNSET
    links: CustomModelLinks | Unset = UNSET
    locale: str | Unset = UNSET
    project: EntityReference | Unset = UNSET
    properties: CustomModelProperties | Unset = UNSET
    self_: str | Unset = UNSET
    status: Status | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        base_model: dict[str, Any] | Unset = UNSET
        if not isinstance(self.base_model, Unset):
            base_model = self.base_model.to_dict()

        created_date_time: str | Unset = UNSET
        if not isinstance(self.created_date_time, Unset):
            created_date_time = self.created_date_time.isoformat().replace("+00:00", "Z")

        custom_properties: dict[str, Any] | Unset = UNSET
        if not isinstance(self.custom_properties, Unset):
            custom_properties = self.custom_properties.to_dict()

        datasets: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.datasets, Unset):
            datasets = []
            for datasets_item_data in self.datasets:
                datasets_item = datasets_item_data.to_dict()
                datasets.append(datasets_item)

        description = self.description

        display_name = self.display_name

        last_action_date_time: str | Unset = UNSET
        if not isinstance(self.last_action_date_time, Unset):
            last_action_date_time = self.last_action_date_time.isoformat().replace("+00:00", "Z")

        links: dict[str, Any] | Unset = UNSET
        if not isinstance(self.links, Unset):
            links = self.links.to_dict()

        locale = self.locale

        project: dict[str, Any] | Unset = UNSET
        if not isinstance(self.project, Unset):
            project = self.project.to_dict()

        properties: dict[str, Any] | Unset = UNSET
        if not isinstance(self.properties, Unset):
            properties = self.properties.to_dict()

        self_ = self.self_

        status: str | Unset = UNSET
        if not isinstance(self.status, Unset):
            status = self.status.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if base_model is not UNSET:
            field_dict["baseModel"] = base_model
        if created_date_time is not UNSET:
            field_dict["createdDateTime"] = created_date_time
        if custom_properties is not UNSET:
            field_dict["customProperties"] = custom_properties
        if datasets is not UNSET:
            field_dict["datasets"] = datasets
        if description is not UNSET:
            field_dict["description"] = description
        if display_name is not UNSET:
            field_dict["displayName"] = display_name
        if last_action_date_time is not UNSET:
            field_dict["lastActionDateTime"] = last_action_date_time
        if links is not UNSET:
            field_dict["links"] = links
        if locale is not UNSET:
            field_dict["locale"] = locale
        if project is not UNSET:
            field_dict["project"] = project
        if properties is not UNSET:
            field_dict["properties"] = properties
        if self_ is not UNSET:
            field_dict["self"] = self_
        if status is not UNSET:
            field_dict["status"] = status

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        _base_model = d.pop("baseModel", UNSET)
        base_model: EntityReference | Unset
        if isinstance(_base_model, Unset):
            base_model = UNSET
        else:
            base_model = EntityReference.from_dict(_base_model)

        _created_date_time = d.pop("createdDateTime", UNSET)
        created_date_time: datetime.datetime | Unset
        if isinstance(_created_date_time, Unset):
            created_date_time = UNSET
        else:
            created_date_time = datetime.datetime.fromisoformat(_created_date_time)

        _custom_properties = d.pop("customProperties", UNSET)
        custom_properties: CustomModelCustomProperties | Unset
        if isinstance(_custom_properties, Unset):
            custom_properties = UNSET
        else:
            custom_properties = CustomModelCustomProperties.from_dict(_custom_properties)

        _datasets = d.pop("datasets", UNSET)
        datasets: list[EntityReference] | Unset = UNSET
        if _datasets is not UNSET:
            datasets = []
            for datasets_item_data in _datasets:
                datasets_item = EntityReference.from_dict(datasets_item_data)

                datasets.append(datasets_item)

        description = d.pop("description", UNSET)

        display_name = d.pop("displayName", UNSET)

        _last_action_date_time = d.pop("lastActionDateTime", UNSET)
        last_action_date_time: datetime.datetime | Unset
        if isinstance(_last_action_date_time, Unset):
            last_action_date_time = UNSET
        else:
            last_action_date_time = datetime.datetime.fromisoformat(_last_action_date_time)

        _links = d.pop("links", UNSET)
        links: CustomModelLinks | Unset
        if isinstance(_links, Unset):
            links = UNSET
        else:
            links = CustomModelLinks.from_dict(_links)

        locale = d.pop("locale", UNSET)

        _project = d.pop("project", UNSET)
        project: EntityReference | Unset
        if isinstance(_project, Unset):
            project = UNSET
        else:
            project = EntityReference.from_dict(_project)

        _properties = d.pop("properties", UNSET)
        properties: CustomModelProperties | Unset
        if isinstance(_properties, Unset):
            properties = UNSET
        else:
            properties = CustomModelProperties.from_dict(_properties)

        self_ = d.pop("self", UNSET)

        _status = d.pop("status", UNSET)
        status: Status | Unset
        if isinstance(_status, Unset):
            status = UNSET
        else:
            status = Status(_status)

        custom_model = cls(
            base_model=base_model,
            created_date_time=created_date_time,
            custom_properties=custom_properties,
            datasets=datasets,
            description=description,
            display_name=display_name,
            last_action_date_time=last_action_date_time,
            links=links,
            locale=locale,
            project=project,
            properties=properties,
            self_=self_,
            status=status,
        )

        custom_model.additional_properties = d
        return custom_model

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


from ..models.custom_model_custom_properties import CustomModelCustomProperties  # noqa: E402
from ..models.custom_model_links import CustomModelLinks  # noqa: E402
from ..models.custom_model_properties import CustomModelProperties  # noqa: E402
from ..models.entity_reference import EntityReference  # noqa: E402
