from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ..types import (
    JsonModel,
    copy_json,
    field_error,
)


class EntityReference(JsonModel):
    """A view of the JSON object the service sent: fields are parsed when read; absent and null read as None;
    a value of the wrong type raises FieldValueError when read. ``to_dict()`` gives back the JSON received.

    Attributes:
        self_ (str): The location of the referenced entity.
    """

    __slots__ = ()
    _FIELDS: ClassVar[tuple[tuple[str, str], ...]] = (("self", "self_"),)
    _KNOWN: ClassVar[frozenset[str]] = frozenset(name for name, _ in _FIELDS)

    def __init__(
        self,
        *,
        self_: str | None = None,
        additional_properties: Mapping[str, Any] | None = None,
    ) -> None:
        """Build the model the service would send, from typed values (None leaves a field out)."""
        data: dict[str, Any] = {}
        if self_ is not None:
            data["self"] = self_
        if additional_properties:
            for key, value in additional_properties.items():
                if key in self._KNOWN:
                    raise ValueError(f"{key!r} is a field of EntityReference: pass it by its own argument")
                data[key] = copy_json(value)
        self._data = data
        self._cache = None
        self._where = None

    @property
    def self_(self) -> str | None:
        """The location of the referenced entity."""
        value = self._data.get("self")
        if value is None:
            return None
        if value.__class__ is str or isinstance(value, str):
            return value
        raise field_error(self, "self", "a string", value)

    @property
    def additional_properties(self) -> dict[str, Any]:
        """The fields the spec does not list, as received."""
        known = self._KNOWN
        return {key: value for key, value in self._data.items() if key not in known}
