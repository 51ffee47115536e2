from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ..types import (
    JsonModel,
    copy_json,
    field_error,
)


class EntityError(JsonModel):
    """A view of the JSON object the service sent: fields are parsed when read; absent and null read as None;
    a value of the wrong type raises FieldValueError when read. ``to_dict()`` gives back the JSON received.

    Attributes:
        code (str): The code of this error.
        message (str): The message for this error.
    """

    __slots__ = ()
    _FIELDS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("code", "code"),
        ("message", "message"),
    )
    _KNOWN: ClassVar[frozenset[str]] = frozenset(name for name, _ in _FIELDS)

    def __init__(
        self,
        *,
        code: str | None = None,
        message: str | None = None,
        additional_properties: Mapping[str, Any] | None = None,
    ) -> None:
        """Build the model the service would send, from typed values (None leaves a field out)."""
        data: dict[str, Any] = {}
        if code is not None:
            data["code"] = code
        if message is not None:
            data["message"] = message
        if additional_properties:
            for key, value in additional_properties.items():
                if key in self._KNOWN:
                    raise ValueError(f"{key!r} is a field of EntityError: pass it by its own argument")
                data[key] = copy_json(value)
        self._data = data
        self._cache = None
        self._where = None

    @property
    def code(self) -> str | None:
        """The code of this error."""
        value = self._data.get("code")
        if value is None:
            return None
        if value.__class__ is str or isinstance(value, str):
            return value
        raise field_error(self, "code", "a string", value)

    @property
    def message(self) -> str | None:
        """The message for this error."""
        value = self._data.get("message")
        if value is None:
            return None
        if value.__class__ is str or isinstance(value, str):
            return value
        raise field_error(self, "message", "a string", value)

    @property
    def additional_properties(self) -> dict[str, Any]:
        """The fields the spec does not list, as received."""
        known = self._KNOWN
        return {key: value for key, value in self._data.items() if key not in known}
