from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, ClassVar

from ..types import (
    MISSING,
    JsonModel,
    copy_json,
    format_datetime,
    fromisoformat,
    parse_datetime,
)


class CustomModelDeprecationDates(JsonModel):
    """A view of the JSON object the service sent: fields are parsed when read; absent and null read as None;
    a value of the wrong type raises FieldValueError when read. ``to_dict()`` gives back the JSON received.

    Attributes:
        transcription_date_time (datetime.datetime): The date when transcription becomes deprecated.
    """

    __slots__ = ()
    _FIELDS: ClassVar[tuple[tuple[str, str], ...]] = (("transcriptionDateTime", "transcription_date_time"),)
    _KNOWN: ClassVar[frozenset[str]] = frozenset(name for name, _ in _FIELDS)

    def __init__(
        self,
        *,
        transcription_date_time: datetime.datetime | None = None,
        additional_properties: Mapping[str, Any] | None = None,
    ) -> None:
        """Build the model the service would send, from typed values (None leaves a field out)."""
        data: dict[str, Any] = {}
        if transcription_date_time is not None:
            data["transcriptionDateTime"] = format_datetime(transcription_date_time)
        if additional_properties:
            for key, value in additional_properties.items():
                if key in self._KNOWN:
                    raise ValueError(f"{key!r} is a field of CustomModelDeprecationDates: pass it by its own argument")
                data[key] = copy_json(value)
        self._data = data
        self._cache = None
        self._where = None

    @property
    def transcription_date_time(self) -> datetime.datetime | None:
        """The date when transcription becomes deprecated."""
        cache = self._cache
        if cache is None:
            cache = self._cache = {}
        else:
            cached = cache.get("transcriptionDateTime", MISSING)
            if cached is not MISSING:
                return cached  # type: ignore[no-any-return]
        value = self._data.get("transcriptionDateTime")
        if value is None:
            cache["transcriptionDateTime"] = None
            return None
        try:  # the service's form, read by the C parser; anything else gets parse_datetime's error
            result = fromisoformat(value)
        except (TypeError, ValueError):
            result = None
        if result is None or result.tzinfo is None:
            result = parse_datetime(value, self, "transcriptionDateTime", None)
        cache["transcriptionDateTime"] = result
        return result

    @property
    def additional_properties(self) -> dict[str, Any]:
        """The fields the spec does not list, as received."""
        known = self._KNOWN
        return {key: value for key, value in self._data.items() if key not in known}
