from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ..models.detailed_error_code import DetailedErrorCode
from ..types import (
    MISSING,
    JsonModel,
    copy_json,
    expect_object,
    field_error,
    parse_enum,
)


class InnerError(JsonModel):
    """A view of the JSON object the service sent: fields are parsed when read; absent and null read as None;
    a value of the wrong type raises FieldValueError when read. ``to_dict()`` gives back the JSON received.

    Attributes:
        code (DetailedErrorCode):
        details (InnerErrorDetails): Additional supportive details regarding the error and/or expected policies.
        inner_error (InnerError):
        message (str): High level error message.
        target (str): The source of the error. For example it would be "documents" or "document id" in case of invalid
            document.
    """

    __slots__ = ()
    _FIELDS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("code", "code"),
        ("details", "details"),
        ("innerError", "inner_error"),
        ("message", "message"),
        ("target", "target"),
    )
    _KNOWN: ClassVar[frozenset[str]] = frozenset(name for name, _ in _FIELDS)

    def __init__(
        self,
        *,
        code: DetailedErrorCode | None = None,
        details: InnerErrorDetails | None = None,
        inner_error: InnerError | None = None,
        message: str | None = None,
        target: str | None = None,
        additional_properties: Mapping[str, Any] | None = None,
    ) -> None:
        """Build the model the service would send, from typed values (None leaves a field out)."""
        data: dict[str, Any] = {}
        if code is not None:
            data["code"] = code.value
        if details is not None:
            data["details"] = details.to_dict()
        if inner_error is not None:
            data["innerError"] = inner_error.to_dict()
        if message is not None:
            data["message"] = message
        if target is not None:
            data["target"] = target
        if additional_properties:
            for key, value in additional_properties.items():
                if key in self._KNOWN:
                    raise ValueError(f"{key!r} is a field of InnerError: pass it by its own argument")
                data[key] = copy_json(value)
        self._data = data
        self._cache = None
        self._where = None

    @property
    def code(self) -> DetailedErrorCode | None:
        value = self._data.get("code")
        if value is None:
            return None
        try:  # a known value: its member, without the Enum constructor's cost
            return DetailedErrorCode._value2member_map_[value]  # type: ignore[return-value]
        except (KeyError, TypeError):
            return parse_enum(DetailedErrorCode, value, self, "code", None)

    @property
    def details(self) -> InnerErrorDetails | None:
        """Additional supportive details regarding the error and/or expected policies."""
        cache = self._cache
        if cache is None:
            cache = self._cache = {}
        else:
            cached = cache.get("details", MISSING)
            if cached is not MISSING:
                return cached  # type: ignore[no-any-return]
        value = self._data.get("details")
        result = (
            None
            if value is None
            else InnerErrorDetails._wrap(expect_object(value, self, "details", None), self, "details", None)
        )
        cache["details"] = result
        return result

    @property
    def inner_error(self) -> InnerError | None:
        cache = self._cache
        if cache is None:
            cache = self._cache = {}
        else:
            cached = cache.get("innerError", MISSING)
            if cached is not MISSING:
                return cached  # type: ignore[no-any-return]
        value = self._data.get("innerError")
        result = (
            None
            if value is None
            else InnerError._wrap(expect_object(value, self, "innerError", None), self, "innerError", None)
        )
        cache["innerError"] = result
        return result

    @property
    def message(self) -> str | None:
        """High level error message."""
        value = self._data.get("message")
        if value is None:
            return None
        if value.__class__ is str or isinstance(value, str):
            return value
        raise field_error(self, "message", "a string", value)

    @property
    def target(self) -> str | None:
        """The source of the error. For example it would be "documents" or "document id" in case of invalid document."""
        value = self._data.get("target")
        if value is None:
            return None
        if value.__class__ is str or isinstance(value, str):
            return value
        raise field_error(self, "target", "a string", value)

    @property
    def additional_properties(self) -> dict[str, Any]:
        """The fields the spec does not list, as received."""
        known = self._KNOWN
        return {key: value for key, value in self._data.items() if key not in known}


from ..models.inner_error_details import InnerErrorDetails  # noqa: E402
