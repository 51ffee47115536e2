"""The emulator's models: a deterministic built-in data set of any size, or models loaded from a JSON file.

Each model is kept twice: its JSON, serialized once with a placeholder for the endpoint (so every page is a
join and one replace), and the filterable fields for ``filters``.
"""

from __future__ import annotations

import datetime
import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["ENDPOINT_PLACEHOLDER", "StoredModel", "build_models", "load_models", "store"]

ENDPOINT_PLACEHOLDER = "https://emulator.endpoint.invalid"
API_VERSION_QUERY = "api-version=2025-10-15"

STATUSES = ("Succeeded", "Running", "NotStarted", "Failed")
LOCALES = ("en-US", "de-DE", "fr-FR", "ja-JP", "es-ES", "en-GB", "zh-CN", "pt-BR")
KINDS = ("Language", "Acoustic", "Pronunciation", "Structured text")
EPOCH = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
_NAMESPACE = uuid.UUID("5b0a3c1e-1d1b-4c55-9a42-6b8f0d1e2a77")
_FILTERABLE = ("displayName", "description", "status", "locale")


@dataclass(frozen=True)
class StoredModel:
    """One model: its serialized JSON split at the endpoint placeholder (a page joins the pieces with its own address:
    a join, where a replace would scan the whole page) and its filterable fields."""

    parts: tuple[str, ...]
    fields: dict[str, Any]

    @property
    def json(self) -> str:
        """The serialized JSON, the endpoint as a placeholder."""
        return ENDPOINT_PLACEHOLDER.join(self.parts)


def _iso(moment: datetime.datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _url(path: str) -> str:
    return f"{ENDPOINT_PLACEHOLDER}/speechtotext/{path}?{API_VERSION_QUERY}"


def build_model(index: int) -> dict[str, Any]:
    """The `index`-th model of the built-in data set; the same index always gives the same model."""
    model_id = uuid.uuid5(_NAMESPACE, f"model-{index}")
    status = STATUSES[index % len(STATUSES)]
    locale = LOCALES[(index // len(STATUSES)) % len(LOCALES)]
    kind = KINDS[index % len(KINDS)]
    created = EPOCH + datetime.timedelta(hours=7 * index, seconds=index % 60)
    last_action = created + datetime.timedelta(minutes=3 + index % 50)
    model: dict[str, Any] = {
        "baseModel": {"self": _url(f"models/base/{uuid.uuid5(_NAMESPACE, f'base-{locale}')}")},
        "datasets": [
            {"self": _url(f"datasets/{uuid.uuid5(_NAMESPACE, f'dataset-{index}-{n}')}")} for n in range(1 + index % 2)
        ],
        "links": {
            "manifest": _url(f"models/{model_id}/manifest"),
            "copy": _url(f"models/{model_id}:copy"),
            "files": _url(f"models/{model_id}/files"),
        },
        "properties": {
            "deprecationDates": {"transcriptionDateTime": _iso(created + datetime.timedelta(days=730))},
            "customModelWeightPercent": 1 + (index * 37) % 100,
            "features": {
                "supportsTranscriptionsSubmit": True,
                "supportsTranscriptionsTranscribe": index % 3 == 0,
                "supportsEndpoints": status == "Succeeded",
                "supportsTranscriptionsOnSpeechContainers": index % 5 == 0,
                "supportedOutputFormats": ["Lexical", "Display"] if index % 2 == 0 else ["Display"],
            },
        },
        "self": _url(f"models/{model_id}"),
        "displayName": f"{kind} model {index:05d}",
        "description": f"{kind} model for {locale}, number {index}",
        "locale": locale,
        "createdDateTime": _iso(created),
        "lastActionDateTime": _iso(last_action),
        "status": status,
    }
    if index % 3 == 0:
        model["project"] = {"self": _url(f"projects/{uuid.uuid5(_NAMESPACE, f'project-{index % 17}')}")}
    if index % 4 == 1:
        model["customProperties"] = {"team": f"team-{index % 7}", "costCenter": str(1000 + index % 13)}
    if status == "Failed":
        model["properties"]["error"] = {
            "code": "FailedDataset",
            "message": f"The dataset of model {index:05d} could not be processed.",
        }
        model["properties"]["features"]["supportsTranscriptionsSubmit"] = False
    return model


def build_models(count: int) -> list[dict[str, Any]]:
    """The first `count` models of the built-in data set."""
    if count < 0:
        raise ValueError("count must be 0 or more")
    return [build_model(index) for index in range(count)]


def load_models(path: Path) -> list[dict[str, Any]]:
    """Models from a JSON file holding a list of models, or a page (``{"values": [...]}``)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot load models from {path}: {exc}") from exc
    if isinstance(data, dict) and isinstance(data.get("values"), list):
        data = data["values"]
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise ValueError(f"{path} must hold a JSON list of model objects, or an object with a 'values' list")
    return data


def _filter_fields(model: dict[str, Any], position: int) -> dict[str, Any]:
    fields: dict[str, Any] = {name: model.get(name) for name in _FILTERABLE}
    for name in ("createdDateTime", "lastActionDateTime"):
        raw = model.get(name)
        if raw is None:
            fields[name] = None
            continue
        try:
            fields[name] = datetime.datetime.fromisoformat(raw)
        except (TypeError, ValueError):
            raise ValueError(f"model {position}: {name} {raw!r} is not an ISO 8601 date-time") from None
    return fields


def store(models: Iterable[dict[str, Any]]) -> Sequence[StoredModel]:
    """Serialize each model once and extract its filterable fields."""
    stored = []
    for position, model in enumerate(models):
        text = json.dumps(model, separators=(",", ":"))
        stored.append(StoredModel(tuple(text.split(ENDPOINT_PLACEHOLDER)), _filter_fields(model, position)))
    return stored
