from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ..types import (
    JsonModel,
    copy_json,
)


class InnerErrorDetails(JsonModel):
    """Additional supportive details regarding the error and/or expected policies.

    A view of the JSON object the service sent: fields are parsed when read; absent and null read as None;
        a value of the wrong type raises FieldValueError when read. ``to_dict()`` gives back the JSON received.
    """

    __slots__ = ()
    _FIELDS: ClassVar[tuple[tuple[str, str], ...]] = ()
    _KNOWN: ClassVar[frozenset[str]] = frozenset(name for name, _ in _FIELDS)

    def __init__(
        self,
        *,
        additional_properties: Mapping[str, Any] | None = None,
    ) -> None:
        """Build the model the service would send, from typed values (None leaves a field out)."""
        data: dict[str, Any] = {}
        if additional_properties:
            for key, value in additional_properties.items():
                if key in self._KNOWN:
                    raise ValueError(f"{key!r} is a field of InnerErrorDetails: pass it by its own argument")
                data[key] = copy_json(value)
        self._data = data
        self._cache = None
        self._where = None

    @property
    def additional_properties(self) -> dict[str, Any]:
        """The fields the spec does not list, as received."""
        known = self._KNOWN
        return {key: value for key, value in self._data.items() if key not in known}
