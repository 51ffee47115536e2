from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ..models.output_format_type import OutputFormatType
from ..types import (
    MISSING,
    JsonModel,
    copy_json,
    expect_list,
    field_error,
    parse_enum,
)


class CustomModelFeatures(JsonModel):
    """A view of the JSON object the service sent: fields are parsed when read; absent and null read as None;
    a value of the wrong type raises FieldValueError when read. ``to_dict()`` gives back the JSON received.

    Attributes:
        supported_output_formats (list[OutputFormatType]): Supported output formats.
        supports_endpoints (bool): A value indicating whether creation of endpoints for live transcription is supported.
        supports_transcriptions_on_speech_containers (bool): A value indicating whether this model can be used for transcription on speech container. This
            feature can be added on existing models when it becomes usable on speech container.
        supports_transcriptions_submit (bool): A value indicating whether submission of transcription jobs is supported (POST
            /transcriptions:submit).
        supports_transcriptions_transcribe (bool): A value indicating whether the transcribe action is supported (POST /transcriptions:transcribe).
    """

    __slots__ = ()
    _FIELDS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("supportedOutputFormats", "supported_output_formats"),
        ("supportsEndpoints", "supports_endpoints"),
        ("supportsTranscriptionsOnSpeechContainers", "supports_transcriptions_on_speech_containers"),
        ("supportsTranscriptionsSubmit", "supports_transcriptions_submit"),
        ("supportsTranscriptionsTranscribe", "supports_transcriptions_transcribe"),
    )
    _KNOWN: ClassVar[frozenset[str]] = frozenset(name for name, _ in _FIELDS)

    def __init__(
        self,
        *,
        supported_output_formats: list[OutputFormatType] | None = None,
        supports_endpoints: bool | None = None,
        supports_transcriptions_on_speech_containers: bool | None = None,
        supports_transcriptions_submit: bool | None = None,
        supports_transcriptions_transcribe: bool | None = None,
        additional_properties: Mapping[str, Any] | None = None,
    ) -> None:
        """Build the model the service would send, from typed values (None leaves a field out)."""
        data: dict[str, Any] = {}
        if supported_output_formats is not None:
            data["supportedOutputFormats"] = [item.value for item in supported_output_formats]
        if supports_endpoints is not None:
            data["supportsEndpoints"] = supports_endpoints
        if supports_transcriptions_on_speech_containers is not None:
            data["supportsTranscriptionsOnSpeechContainers"] = supports_transcriptions_on_speech_containers
        if supports_transcriptions_submit is not None:
            data["supportsTranscriptionsSubmit"] = supports_transcriptions_submit
        if supports_transcriptions_transcribe is not None:
            data["supportsTranscriptionsTranscribe"] = supports_transcriptions_transcribe
        if additional_properties:
            for key, value in additional_properties.items():
                if key in self._KNOWN:
                    raise ValueError(f"{key!r} is a field of CustomModelFeatures: pass it by its own argument")
                data[key] = copy_json(value)
        self._data = data
        self._cache = None
        self._where = None

    @property
    def supported_output_formats(self) -> list[OutputFormatType] | None:
        """Supported output formats."""
        cache = self._cache
        if cache is None:
            cache = self._cache = {}
        else:
            cached = cache.get("supportedOutputFormats", MISSING)
            if cached is not MISSING:
                return cached  # type: ignore[no-any-return]
        value = self._data.get("supportedOutputFormats")
        result = (
            None
            if value is None
            else [
                parse_enum(OutputFormatType, item, self, "supportedOutputFormats", index)
                for index, item in enumerate(expect_list(value, self, "supportedOutputFormats"))
            ]
        )
        cache["supportedOutputFormats"] = result
        return result

    @property
    def supports_endpoints(self) -> bool | None:
        """A value indicating whether creation of endpoints for live transcription is supported."""
        value = self._data.get("supportsEndpoints")
        if value is None:
            return None
        if isinstance(value, bool):
            return value
        raise field_error(self, "supportsEndpoints", "true or false", value)

    @property
    def supports_transcriptions_on_speech_containers(self) -> bool | None:
        """A value indicating whether this model can be used for transcription on speech container. This feature can be
        added on existing models when it becomes usable on speech container."""
        value = self._data.get("supportsTranscriptionsOnSpeechContainers")
        if value is None:
            return None
        if isinstance(value, bool):
            return value
        raise field_error(self, "supportsTranscriptionsOnSpeechContainers", "true or false", value)

    @property
    def supports_transcriptions_submit(self) -> bool | None:
        """A value indicating whether submission of transcription jobs is supported (POST /transcriptions:submit)."""
        value = self._data.get("supportsTranscriptionsSubmit")
        if value is None:
            return None
        if isinstance(value, bool):
            return value
        raise field_error(self, "supportsTranscriptionsSubmit", "true or false", value)

    @property
    def supports_transcriptions_transcribe(self) -> bool | None:
        """A value indicating whether the transcribe action is supported (POST /transcriptions:transcribe)."""
        value = self._data.get("supportsTranscriptionsTranscribe")
        if value is None:
            return None
        if isinstance(value, bool):
            return value
        raise field_error(self, "supportsTranscriptionsTranscribe", "true or false", value)

    @property
    def additional_properties(self) -> dict[str, Any]:
        """The fields the spec does not list, as received."""
        known = self._KNOWN
        return {key: value for key, value in self._data.items() if key not in known}
