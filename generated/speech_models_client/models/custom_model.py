from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, ClassVar

from ..models.status import Status
from ..types import (
    MISSING,
    JsonModel,
    copy_json,
    expect_object,
    field_error,
    format_datetime,
    fromisoformat,
    parse_datetime,
    parse_enum,
    wrap_items,
)


class CustomModel(JsonModel):
    """A view of the JSON object the service sent: fields are parsed when read; absent and null read as None;
    a value of the wrong type raises FieldValueError when read. ``to_dict()`` gives back the JSON received.

    Attributes:
        base_model (EntityReference):
        created_date_time (datetime.datetime): The time-stamp when the object was created. The time stamp is encoded as ISO 8601 date and time
            format ("YYYY-MM-DDThh:mm:ssZ", see
            https://en.wikipedia.org/wiki/ISO_8601#Combined_date_and_time_representations).
        custom_properties (CustomModelCustomProperties): The custom properties of this entity. The maximum allowed key length is 64 characters, the maximum
            allowed value length is 256 characters and the count of allowed entries is 10.
        datasets (list[EntityReference]): Datasets used for adaptation.
        description (str): The description of the object.
        display_name (str): The display name of the object.
        last_action_date_time (datetime.datetime): The time-stamp when the current status was entered. The time stamp is encoded as ISO 8601 date and
            time format ("YYYY-MM-DDThh:mm:ssZ", see
            https://en.wikipedia.org/wiki/ISO_8601#Combined_date_and_time_representations).
        links (CustomModelLinks):
        locale (str): The locale of the contained data.
        project (EntityReference):
        properties (CustomModelProperties):
        self_ (str): The location of this entity.
        status (Status):
    """

    __slots__ = ()
    _FIELDS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("baseModel", "base_model"),
        ("createdDateTime", "created_date_time"),
        ("customProperties", "custom_properties"),
        ("datasets", "datasets"),
        ("description", "description"),
        ("displayName", "display_name"),
        ("lastActionDateTime", "last_action_date_time"),
        ("links", "links"),
        ("locale", "locale"),
        ("project", "project"),
        ("properties", "properties"),
        ("self", "self_"),
        ("status", "status"),
    )
    _KNOWN: ClassVar[frozenset[str]] = frozenset(name for name, _ in _FIELDS)

    def __init__(
        self,
        *,
        base_model: EntityReference | None = None,
        created_date_time: datetime.datetime | None = None,
        custom_properties: CustomModelCustomProperties | None = None,
        datasets: list[EntityReference] | None = None,
        description: str | None = None,
        display_name: str | None = None,
        last_action_date_time: datetime.datetime | None = None,
        links: CustomModelLinks | None = None,
        locale: str | None = None,
        project: EntityReference | None = None,
        properties: CustomModelProperties | None = None,
        self_: str | None = None,
        status: Status | None = None,
        additional_properties: Mapping[str, Any] | None = None,
    ) -> None:
        """Build the model the service would send, from typed values (None leaves a field out)."""
        data: dict[str, Any] = {}
        if base_model is not None:
            data["baseModel"] = base_model.to_dict()
        if created_date_time is not None:
            data["createdDateTime"] = format_datetime(created_date_time)
        if custom_properties is not None:
            data["customProperties"] = custom_properties.to_dict()
        if datasets is not None:
            data["datasets"] = [item.to_dict() for item in datasets]
        if description is not None:
            data["description"] = description
        if display_name is not None:
            data["displayName"] = display_name
        if last_action_date_time is not None:
            data["lastActionDateTime"] = format_datetime(last_action_date_time)
        if links is not None:
            data["links"] = links.to_dict()
        if locale is not None:
            data["locale"] = locale
        if project is not None:
            data["project"] = project.to_dict()
        if properties is not None:
            data["properties"] = properties.to_dict()
        if self_ is not None:
            data["self"] = self_
        if status is not None:
            data["status"] = status.value
        if additional_properties:
            for key, value in additional_properties.items():
                if key in self._KNOWN:
                    raise ValueError(f"{key!r} is a field of CustomModel: pass it by its own argument")
                data[key] = copy_json(value)
        self._data = data
        self._cache = None
        self._where = None

    @property
    def base_model(self) -> EntityReference | None:
        cache = self._cache
        if cache is None:
            cache = self._cache = {}
        else:
            cached = cache.get("baseModel", MISSING)
            if cached is not MISSING:
                return cached  # type: ignore[no-any-return]
        value = self._data.get("baseModel")
        result = (
            None
            if value is None
            else EntityReference._wrap(expect_object(value, self, "baseModel", None), self, "baseModel", None)
        )
        cache["baseModel"] = result
        return result

    @property
    def created_date_time(self) -> datetime.datetime | None:
        """The time-stamp when the object was created. The time stamp is encoded as ISO 8601 date and time format
        ("YYYY-MM-DDThh:mm:ssZ", see https://en.wikipedia.org/wiki/ISO_8601#Combined_date_and_time_representations)."""
        cache = self._cache
        if cache is None:
            cache = self._cache = {}
        else:
            cached = cache.get("createdDateTime", MISSING)
            if cached is not MISSING:
                return cached  # type: ignore[no-any-return]
        value = self._data.get("createdDateTime")
        if value is None:
            cache["createdDateTime"] = None
            return None
        try:  # the service's form, read by the C parser; anything else gets parse_datetime's error
            result = fromisoformat(value)
        except (TypeError, ValueError):
            result = None
        if result is None or result.tzinfo is None:
            result = parse_datetime(value, self, "createdDateTime", None)
        cache["createdDateTime"] = result
        return result

    @property
    def custom_properties(self) -> CustomModelCustomProperties | None:
        """The custom properties of this entity. The maximum allowed key length is 64 characters, the maximum allowed
        value length is 256 characters and the count of allowed entries is 10."""
        cache = self._cache
        if cache is None:
            cache = self._cache = {}
        else:
            cached = cache.get("customProperties", MISSING)
            if cached is not MISSING:
                return cached  # type: ignore[no-any-return]
        value = self._data.get("customProperties")
        result = (
            None
            if value is None
            else CustomModelCustomProperties._wrap(
                expect_object(value, self, "customProperties", None), self, "customProperties", None
            )
        )
        cache["customProperties"] = result
        return result

    @property
    def datasets(self) -> list[EntityReference] | None:
        """Datasets used for adaptation."""
        cache = self._cache
        if cache is None:
            cache = self._cache = {}
        else:
            cached = cache.get("datasets", MISSING)
            if cached is not MISSING:
                return cached  # type: ignore[no-any-return]
        value = self._data.get("datasets")
        result = None if value is None else wrap_items(EntityReference, value, self, "datasets")
        cache["datasets"] = result
        return result

    @property
    def description(self) -> str | None:
        """The description of the object."""
        value = self._data.get("description")
        if value is None:
            return None
        if value.__class__ is str or isinstance(value, str):
            return value
        raise field_error(self, "description", "a string", value)

    @property
    def display_name(self) -> str | None:
        """The display name of the object."""
        value = self._data.get("displayName")
        if value is None:
            return None
        if value.__class__ is str or isinstance(value, str):
            return value
        raise field_error(self, "displayName", "a string", value)

    @property
    def last_action_date_time(self) -> datetime.datetime | None:
        """The time-stamp when the current status was entered. The time stamp is encoded as ISO 8601 date and time
        format ("YYYY-MM-DDThh:mm:ssZ", see
        https://en.wikipedia.org/wiki/ISO_8601#Combined_date_and_time_representations)."""
        cache = self._cache
        if cache is None:
            cache = self._cache = {}
        else:
            cached = cache.get("lastActionDateTime", MISSING)
            if cached is not MISSING:
                return cached  # type: ignore[no-any-return]
        value = self._data.get("lastActionDateTime")
        if value is None:
            cache["lastActionDateTime"] = None
            return None
        try:  # the service's form, read by the C parser; anything else gets parse_datetime's error
            result = fromisoformat(value)
        except (TypeError, ValueError):
            result = None
        if result is None or result.tzinfo is None:
            result = parse_datetime(value, self, "lastActionDateTime", None)
        cache["lastActionDateTime"] = result
        return result

    @property
    def links(self) -> CustomModelLinks | None:
        cache = self._cache
        if cache is None:
            cache = self._cache = {}
        else:
            cached = cache.get("links", MISSING)
            if cached is not MISSING:
                return cached  # type: ignore[no-any-return]
        value = self._data.get("links")
        result = (
            None
            if value is None
            else CustomModelLinks._wrap(expect_object(value, self, "links", None), self, "links", None)
        )
        cache["links"] = result
        return result

    @property
    def locale(self) -> str | None:
        """The locale of the contained data."""
        value = self._data.get("locale")
        if value is None:
            return None
        if value.__class__ is str or isinstance(value, str):
            return value
        raise field_error(self, "locale", "a string", value)

    @property
    def project(self) -> EntityReference | None:
        cache = self._cache
        if cache is None:
            cache = self._cache = {}
        else:
            cached = cache.get("project", MISSING)
            if cached is not MISSING:
                return cached  # type: ignore[no-any-return]
        value = self._data.get("project")
        result = (
            None
            if value is None
            else EntityReference._wrap(expect_object(value, self, "project", None), self, "project", None)
        )
        cache["project"] = result
        return result

    @property
    def properties(self) -> CustomModelProperties | None:
        cache = self._cache
        if cache is None:
            cache = self._cache = {}
        else:
            cached = cache.get("properties", MISSING)
            if cached is not MISSING:
                return cached  # type: ignore[no-any-return]
        value = self._data.get("properties")
        result = (
            None
            if value is None
            else CustomModelProperties._wrap(expect_object(value, self, "properties", None), self, "properties", None)
        )
        cache["properties"] = result
        return result

    @property
    def self_(self) -> str | None:
        """The location of this entity."""
        value = self._data.get("self")
        if value is None:
            return None
        if value.__class__ is str or isinstance(value, str):
            return value
        raise field_error(self, "self", "a string", value)

    @property
    def status(self) -> Status | None:
        value = self._data.get("status")
        if value is None:
            return None
        try:  # a known value: its member, without the Enum constructor's cost
            return Status._value2member_map_[value]  # type: ignore[return-value]
        except (KeyError, TypeError):
            return parse_enum(Status, value, self, "status", None)

    @property
    def additional_properties(self) -> dict[str, Any]:
        """The fields the spec does not list, as received."""
        known = self._KNOWN
        return {key: value for key, value in self._data.items() if key not in known}


from ..models.custom_model_custom_properties import CustomModelCustomProperties  # noqa: E402
from ..models.custom_model_links import CustomModelLinks  # noqa: E402
from ..models.custom_model_properties import CustomModelProperties  # noqa: E402
from ..models.entity_reference import EntityReference  # noqa: E402
