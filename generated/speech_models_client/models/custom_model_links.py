from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ..types import (
    JsonModel,
    copy_json,
    field_error,
)


class CustomModelLinks(JsonModel):
    """A view of the JSON object the service sent: fields are parsed when read; absent and null read as None;
    a value of the wrong type raises FieldValueError when read. ``to_dict()`` gives back the JSON received.

    Attributes:
        copy (str): The location to the model copy action. See operation "Models_Copy" for more details.
        files (str): The location to get all files of this entity. See operation "Models_ListFiles" for more details.
        manifest (str): The location to get a manifest for this model to be used in the on-prem container. See operation
            "Models_GetCustomModelManifest" for more details.
    """

    __slots__ = ()
    _FIELDS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("copy", "copy"),
        ("files", "files"),
        ("manifest", "manifest"),
    )
    _KNOWN: ClassVar[frozenset[str]] = frozenset(name for name, _ in _FIELDS)

    def __init__(
        self,
        *,
        copy: str | None = None,
        files: str | None = None,
        manifest: str | None = None,
        additional_properties: Mapping[str, Any] | None = None,
    ) -> None:
        """Build the model the service would send, from typed values (None leaves a field out)."""
        data: dict[str, Any] = {}
        if copy is not None:
            data["copy"] = copy
        if files is not None:
            data["files"] = files
        if manifest is not None:
            data["manifest"] = manifest
        if additional_properties:
            for key, value in additional_properties.items():
                if key in self._KNOWN:
                    raise ValueError(f"{key!r} is a field of CustomModelLinks: pass it by its own argument")
                data[key] = copy_json(value)
        self._data = data
        self._cache = None
        self._where = None

    @property
    def copy(self) -> str | None:
        """The location to the model copy action. See operation "Models_Copy" for more details."""
        value = self._data.get("copy")
        if value is None:
            return None
        if value.__class__ is str or isinstance(value, str):
            return value
        raise field_error(self, "copy", "a string", value)

    @property
    def files(self) -> str | None:
        """The location to get all files of this entity. See operation "Models_ListFiles" for more details."""
        value = self._data.get("files")
        if value is None:
            return None
        if value.__class__ is str or isinstance(value, str):
            return value
        raise field_error(self, "files", "a string", value)

    @property
    def manifest(self) -> str | None:
        """The location to get a manifest for this model to be used in the on-prem container. See operation
        "Models_GetCustomModelManifest" for more details."""
        value = self._data.get("manifest")
        if value is None:
            return None
        if value.__class__ is str or isinstance(value, str):
            return value
        raise field_error(self, "manifest", "a string", value)

    @property
    def additional_properties(self) -> dict[str, Any]:
        """The fields the spec does not list, as received."""
        known = self._KNOWN
        return {key: value for key, value in self._data.items() if key not in known}
