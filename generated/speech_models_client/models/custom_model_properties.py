from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ..types import (
    MISSING,
    JsonModel,
    copy_json,
    expect_object,
    field_error,
)


class CustomModelProperties(JsonModel):
    """A view of the JSON object the service sent: fields are parsed when read; absent and null read as None;
    a value of the wrong type raises FieldValueError when read. ``to_dict()`` gives back the JSON received.

    Attributes:
        custom_model_weight_percent (int): The weight of custom model between 1 (1% custom model and 99% base model) and 100 (100% custom model
            and 0% base model). When this property is not set, the service chooses a suitable value (get the
            model to retrieve the selected weight). Start without using this property. If needed, choose a
            larger (or smaller) weight to increase (or decrease) the impact of the custom model.
        deprecation_dates (CustomModelDeprecationDates):
        error (EntityError):
        features (CustomModelFeatures):
    """

    __slots__ = ()
    _FIELDS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("customModelWeightPercent", "custom_model_weight_percent"),
        ("deprecationDates", "deprecation_dates"),
        ("error", "error"),
        ("features", "features"),
    )
    _KNOWN: ClassVar[frozenset[str]] = frozenset(name for name, _ in _FIELDS)

    def __init__(
        self,
        *,
        custom_model_weight_percent: int | None = None,
        deprecation_dates: CustomModelDeprecationDates | None = None,
        error: EntityError | None = None,
        features: CustomModelFeatures | None = None,
        additional_properties: Mapping[str, Any] | None = None,
    ) -> None:
        """Build the model the service would send, from typed values (None leaves a field out)."""
        data: dict[str, Any] = {}
        if custom_model_weight_percent is not None:
            data["customModelWeightPercent"] = custom_model_weight_percent
        if deprecation_dates is not None:
            data["deprecationDates"] = deprecation_dates.to_dict()
        if error is not None:
            data["error"] = error.to_dict()
        if features is not None:
            data["features"] = features.to_dict()
        if additional_properties:
            for key, value in additional_properties.items():
                if key in self._KNOWN:
                    raise ValueError(f"{key!r} is a field of CustomModelProperties: pass it by its own argument")
                data[key] = copy_json(value)
        self._data = data
        self._cache = None
        self._where = None

    @property
    def custom_model_weight_percent(self) -> int | None:
        """The weight of custom model between 1 (1% custom model and 99% base model) and 100 (100% custom model and 0%
        base model). When this property is not set, the service chooses a suitable value (get the model to retrieve
        the selected weight). Start without using this property. If needed, choose a larger (or smaller) weight to
        increase (or decrease) the impact of the custom model."""
        value = self._data.get("customModelWeightPercent")
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise field_error(self, "customModelWeightPercent", "an integer", value)

    @property
    def deprecation_dates(self) -> CustomModelDeprecationDates | None:
        cache = self._cache
        if cache is None:
            cache = self._cache = {}
        else:
            cached = cache.get("deprecationDates", MISSING)
            if cached is not MISSING:
                return cached  # type: ignore[no-any-return]
        value = self._data.get("deprecationDates")
        result = (
            None
            if value is None
            else CustomModelDeprecationDates._wrap(
                expect_object(value, self, "deprecationDates", None), self, "deprecationDates", None
            )
        )
        cache["deprecationDates"] = result
        return result

    @property
    def error(self) -> EntityError | None:
        cache = self._cache
        if cache is None:
            cache = self._cache = {}
        else:
            cached = cache.get("error", MISSING)
            if cached is not MISSING:
                return cached  # type: ignore[no-any-return]
        value = self._data.get("error")
        result = (
            None if value is None else EntityError._wrap(expect_object(value, self, "error", None), self, "error", None)
        )
        cache["error"] = result
        return result

    @property
    def features(self) -> CustomModelFeatures | None:
        cache = self._cache
        if cache is None:
            cache = self._cache = {}
        else:
            cached = cache.get("features", MISSING)
            if cached is not MISSING:
                return cached  # type: ignore[no-any-return]
        value = self._data.get("features")
        result = (
            None
            if value is None
            else CustomModelFeatures._wrap(expect_object(value, self, "features", None), self, "features", None)
        )
        cache["features"] = result
        return result

    @property
    def additional_properties(self) -> dict[str, Any]:
        """The fields the spec does not list, as received."""
        known = self._KNOWN
        return {key: value for key, value in self._data.items() if key not in known}


from ..models.custom_model_deprecation_dates import CustomModelDeprecationDates  # noqa: E402
from ..models.custom_model_features import CustomModelFeatures  # noqa: E402
from ..models.entity_error import EntityError  # noqa: E402
