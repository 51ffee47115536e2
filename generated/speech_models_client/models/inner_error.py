from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.detailed_error_code import DetailedErrorCode
from ..types import UNSET, Unset

T = TypeVar("T", bound="InnerError")


@_attrs_define
class InnerError:
    """
    Attributes:
        code (DetailedErrorCode | Unset):
        details (InnerErrorDetails | Unset): Additional supportive details regarding the error and/or expected policies.
        inner_error (InnerError | Unset):
        message (str | Unset): High level error message.
        target (str | Unset): The source of the error. For example it would be "documents" or "document id" in case of
            invalid document.
    """

    code: DetailedErrorCode | Unset = UNSET
    details: InnerErrorDetails | Unset = UNSET
    inner_error: InnerError | Unset = UNSET
    message: str | Unset = UNSET
    target: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        code: str | Unset = UNSET
        if not isinstance(self.code, Unset):
            code = self.code.value

        details: dict[str, Any] | Unset = UNSET
        if not isinstance(self.details, Unset):
            details = self.details.to_dict()

        inner_error: dict[str, Any] | Unset = UNSET
        if not isinstance(self.inner_error, Unset):
            inner_error = self.inner_error.to_dict()

        message = self.message

        target = self.target

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if code is not UNSET:
            field_dict["code"] = code
        if details is not UNSET:
            field_dict["details"] = details
        if inner_error is not UNSET:
            field_dict["innerError"] = inner_error
        if message is not UNSET:
            field_dict["message"] = message
        if target is not UNSET:
            field_dict["target"] = target

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        _code = d.pop("code", UNSET)
        code: DetailedErrorCode | Unset
        if isinstance(_code, Unset):
            code = UNSET
        else:
            code = DetailedErrorCode(_code)

        _details = d.pop("details", UNSET)
        details: InnerErrorDetails | Unset
        if isinstance(_details, Unset):
            details = UNSET
        else:
            details = InnerErrorDetails.from_dict(_details)

        _inner_error = d.pop("innerError", UNSET)
        inner_error: InnerError | Unset
        if isinstance(_inner_error, Unset):
            inner_error = UNSET
        else:
            inner_error = InnerError.from_dict(_inner_error)

        message = d.pop("message", UNSET)

        target = d.pop("target", UNSET)

        inner_error = cls(
            code=code,
            details=details,
            inner_error=inner_error,
            message=message,
            target=target,
        )

        inner_error.additional_properties = d
        return inner_error

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


from ..models.inner_error_details import InnerErrorDetails  # noqa: E402
