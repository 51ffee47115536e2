from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ..types import (
    JsonModel,
    check_str,
)


class CustomModelCustomProperties(JsonModel):
    """The custom properties of this entity. The maximum allowed key length is 64 characters, the maximum allowed value
        length is 256 characters and the count of allowed entries is 10.

    A view of the JSON object the service sent: fields are parsed when read; absent and null read as None;
        a value of the wrong type raises FieldValueError when read. ``to_dict()`` gives back the JSON received.
    """

    __slots__ = ()
    _FIELDS: ClassVar[tuple[tuple[str, str], ...]] = ()
    _KNOWN: ClassVar[frozenset[str]] = frozenset(name for name, _ in _FIELDS)

    def __init__(
        self,
        *,
        additional_properties: Mapping[str, str] | None = None,
    ) -> None:
        """Build the model the service would send, from typed values (None leaves a field out)."""
        data: dict[str, Any] = {}
        if additional_properties:
            for key, value in additional_properties.items():
                if key in self._KNOWN:
                    raise ValueError(f"{key!r} is a field of CustomModelCustomProperties: pass it by its own argument")
                data[key] = value
        self._data = data
        self._cache = None
        self._where = None

    @property
    def additional_properties(self) -> dict[str, str]:
        """The fields the spec does not list, as received (each checked when this is read)."""
        known = self._KNOWN
        return {key: check_str(value, self, key, None) for key, value in self._data.items() if key not in known}
