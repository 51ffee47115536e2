from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ..types import (
    MISSING,
    JsonModel,
    copy_json,
    field_error,
    wrap_items,
)


class PaginatedCustomModels(JsonModel):
    """A view of the JSON object the service sent: fields are parsed when read; absent and null read as None;
    a value of the wrong type raises FieldValueError when read. ``to_dict()`` gives back the JSON received.

    Attributes:
        next_link (str): A link to the next set of paginated results if there are more entities available; otherwise null.
        values (list[CustomModel]): A list of entities limited by either the passed query parameters 'skip' and 'top' or their default
            values. When iterating through a list using pagination and deleting entities in parallel, some
            entities will be skipped in the results. It's recommended to build a list on the client and delete
            after the fetching of the complete list.
    """

    __slots__ = ()
    _FIELDS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("@nextLink", "next_link"),
        ("values", "values"),
    )
    _KNOWN: ClassVar[frozenset[str]] = frozenset(name for name, _ in _FIELDS)

    def __init__(
        self,
        *,
        next_link: str | None = None,
        values: list[CustomModel] | None = None,
        additional_properties: Mapping[str, Any] | None = None,
    ) -> None:
        """Build the model the service would send, from typed values (None leaves a field out)."""
        data: dict[str, Any] = {}
        if next_link is not None:
            data["@nextLink"] = next_link
        if values is not None:
            data["values"] = [item.to_dict() for item in values]
        if additional_properties:
            for key, value in additional_properties.items():
                if key in self._KNOWN:
                    raise ValueError(f"{key!r} is a field of PaginatedCustomModels: pass it by its own argument")
                data[key] = copy_json(value)
        self._data = data
        self._cache = None
        self._where = None

    @property
    def next_link(self) -> str | None:
        """A link to the next set of paginated results if there are more entities available; otherwise null."""
        value = self._data.get("@nextLink")
        if value is None:
            return None
        if value.__class__ is str or isinstance(value, str):
            return value
        raise field_error(self, "@nextLink", "a string", value)

    @property
    def values(self) -> list[CustomModel] | None:
        """A list of entities limited by either the passed query parameters 'skip' and 'top' or their default values.
        When iterating through a list using pagination and deleting entities in parallel, some entities will be
        skipped in the results. It's recommended to build a list on the client and delete after the fetching of the
        complete list."""
        cache = self._cache
        if cache is None:
            cache = self._cache = {}
        else:
            cached = cache.get("values", MISSING)
            if cached is not MISSING:
                return cached  # type: ignore[no-any-return]
        value = self._data.get("values")
        result = None if value is None else wrap_items(CustomModel, value, self, "values")
        cache["values"] = result
        return result

    @property
    def additional_properties(self) -> dict[str, Any]:
        """The fields the spec does not list, as received."""
        known = self._KNOWN
        return {key: value for key, value in self._data.items() if key not in known}


from ..models.custom_model import CustomModel  # noqa: E402
