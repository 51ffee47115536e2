"""``speech-models emulator verify``: the same read-only requests to a live endpoint and to the emulator, and each
fact contract tests rely on (page shape, ``@nextLink`` form, ``top``/``skip``/``filter`` answers, error bodies and
codes, request-id and ``Retry-After`` headers) compared, so a team learns when the emulator and the service drifted.

Every request goes through an SDK client (its key or token, its retries); the emulator runs in-process.
"""

from __future__ import annotations

import email.utils
import json
import urllib.parse
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

import httpx

from ._client import SpeechToTextModels
from ._config import DEFAULT_API_VERSION, REQUEST_ID_HEADERS

__all__ = ["Difference", "Side", "Verification", "emulator_side", "verify"]

PATH = "/speechtotext/models"
WRONG_KEY = "0" * 32  # the shape of a subscription key, never a valid one
UNSUPPORTED_API_VERSION = "1999-01-01"
BAD_FILTER = "nonsense ~~"
FREE_FORM = ("customProperties",)  # maps whose keys are the user's (additionalProperties in the spec)

Facts = dict[str, str]


@dataclass(frozen=True)
class Difference:
    """One fact on which the live endpoint and the emulator disagree."""

    probe: str
    fact: str
    live: str
    emulator: str

    def __str__(self) -> str:
        return f"{self.probe}: {self.fact}: live {self.live}; emulator {self.emulator}"


class Side:
    """One endpoint under check: raw GETs of the list operation through `client` (its credentials and retries), and
    through `wrong_key_client`, a client on the same endpoint with a key no resource has."""

    def __init__(self, name: str, client: SpeechToTextModels, wrong_key_client: SpeechToTextModels) -> None:
        self.name = name
        self.client = client
        self._wrong_key_client = wrong_key_client

    def get(self, params: dict[str, str] | None = None, *, url: str | None = None, wrong_key: bool = False) -> Answer:
        """GET the models list with `params` (api-version added unless given), or GET `url` (a ``@nextLink``)."""
        http = (self._wrong_key_client if wrong_key else self.client).generated_client.get_httpx_client()
        if url is not None:
            return Answer(http.get(url))
        return Answer(http.get(PATH, params={"api-version": self.client.api_version, **(params or {})}))

    def close(self) -> None:
        self.client.close()
        self._wrong_key_client.close()


class Answer:
    """A response and its JSON body, read once."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        try:
            self.body: Any = json.loads(response.content)
        except ValueError:
            self.body = None

    @property
    def json_object(self) -> dict[str, Any]:
        return self.body if isinstance(self.body, dict) else {}

    @property
    def models(self) -> list[dict[str, Any]]:
        values = self.json_object.get("values")
        return [model for model in values if isinstance(model, dict)] if isinstance(values, list) else []

    @property
    def next_link(self) -> str | None:
        link = self.json_object.get("@nextLink")
        return link if isinstance(link, str) else None

    def head(self) -> Facts:
        """What every answer is compared on: status, media type, body form, request-id header, Retry-After form."""
        headers = self.response.headers
        return {
            "status": str(self.response.status_code),
            "media type": headers.get("content-type", "none").split(";")[0].strip().lower(),
            "body": "a JSON object" if isinstance(self.body, dict) else "not a JSON object",
            "request-id header": ", ".join(name for name in REQUEST_ID_HEADERS if name in headers) or "none",
            "Retry-After": _retry_after_form(headers.get("retry-after")),
        }

    def error(self) -> Facts:
        """An error answer's facts: its head, the body's keys and codes."""
        body = self.json_object
        inner = body.get("innerError")
        return {
            **self.head(),
            "body keys": _keys(body),
            "code": _text(body.get("code")),
            "innerError.code": _text(inner.get("code")) if isinstance(inner, dict) else "none",
            "message": "present" if isinstance(body.get("message"), str) and body["message"] else "none",
        }


def _retry_after_form(value: str | None) -> str:
    if value is None:
        return "none"
    if value.strip().isdigit():
        return "whole seconds"
    return "an HTTP-date" if email.utils.parsedate_tz(value) else f"{value[:40]!r}"


def _keys(body: dict[str, Any]) -> str:
    return ", ".join(sorted(body)) or "none"


def _text(value: Any) -> str:
    return value[:80] if isinstance(value, str) else "none" if value is None else f"a {type(value).__name__}"


def _model_id(model: dict[str, Any] | None) -> str | None:
    return None if model is None else _text(model.get("self"))


def _yes(condition: bool) -> str:
    return "yes" if condition else "no"


# Probes: each asks one side and returns its facts, or a reason the probe cannot be compared (too few models).
Probe = Callable[[Side], Facts | str]


def probe_page(side: Side) -> Facts | str:
    """A page of ``top=2``: its head, top-level keys and size."""
    answer = side.get({"top": "2"})
    body = answer.json_object
    return {
        **answer.head(),
        "top-level keys": _keys({key: value for key, value in body.items() if key != "@nextLink"}),
        "values": "a list" if isinstance(body.get("values"), list) else "not a list",
        "at most top models": _yes(len(answer.models) <= 2),
    }


def probe_paging(side: Side) -> Facts | str:
    """``@nextLink`` of a ``top=1`` page (absolute, same host, path, query), following it, and ``skip``."""
    first_two = side.get({"top": "2"}).models
    if len(first_two) < 2:
        return f"the {side.name} endpoint has fewer than 2 models"
    answer = side.get({"top": "1"})
    link = answer.next_link
    if link is None:
        return {"@nextLink after a full page of top=1": "none"}
    parts = urllib.parse.urlsplit(link)
    endpoint = urllib.parse.urlsplit(side.client.endpoint)
    query = urllib.parse.parse_qs(parts.query)
    followed = side.get(url=link) if parts.scheme and parts.netloc == endpoint.netloc else None
    skipped = side.get({"skip": "1", "top": "1"}).models
    return {
        "@nextLink after a full page of top=1": "present",
        "@nextLink is absolute": _yes(bool(parts.scheme and parts.netloc)),
        "@nextLink scheme and host are the endpoint's": _yes(
            (parts.scheme, parts.netloc) == (endpoint.scheme, endpoint.netloc)
        ),
        "@nextLink path": parts.path,
        "@nextLink query names": ", ".join(sorted(query)) or "none",
        "@nextLink top": ", ".join(query.get("top", ["none"])),
        "@nextLink skip": ", ".join(query.get("skip", ["none"])),
        "@nextLink api-version": ", ".join(query.get("api-version", ["none"])),
        "following @nextLink: status": "not followed" if followed is None else str(followed.response.status_code),
        "following @nextLink gives the second model": _yes(
            followed is not None and followed.models[:1] == first_two[1:2]
        ),
        "skip=1&top=1 gives the second model": _yes(skipped[:1] == first_two[1:2]),
    }


def probe_filter(side: Side) -> Facts | str:
    """Valid filters: on a status (every model answered has it) and on a date-time range."""
    by_status = side.get({"filter": "status eq 'Succeeded'", "top": "10"})
    by_date = side.get({"filter": "createdDateTime ge 2000-01-01T00:00:00Z", "top": "1"})
    statuses = {model.get("status") for model in by_status.models}
    return {
        "status eq 'Succeeded': status": str(by_status.response.status_code),
        "status eq 'Succeeded': every model Succeeded": _yes(statuses <= {"Succeeded"}),
        "createdDateTime ge (a date-time): status": str(by_date.response.status_code),
    }


def probe_bad_filter(side: Side) -> Facts | str:
    """A filter no service accepts: the error answer."""
    return side.get({"filter": BAD_FILTER}).error()


def probe_wrong_key(side: Side) -> Facts | str:
    """A subscription key no resource has: the error answer."""
    return side.get({"top": "1"}, wrong_key=True).error()


def probe_api_version(side: Side) -> Facts | str:
    """An api-version that does not exist: the error answer."""
    return side.get({"api-version": UNSUPPORTED_API_VERSION}).error()


PROBES: dict[str, Probe] = {
    "page": probe_page,
    "paging": probe_paging,
    "filter": probe_filter,
    "bad filter": probe_bad_filter,
    "wrong key": probe_wrong_key,
    "api-version": probe_api_version,
}


def _paths(value: Any, prefix: str = "") -> Iterator[tuple[str, str]]:
    """Each dotted path in a model and its JSON type (``datasets[].self``; a free-form map's values as ``*``)."""
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{prefix}.{key}" if prefix else key
            yield path, _json_type(item)
            if path in FREE_FORM and isinstance(item, dict):
                yield from ((f"{path}.*", _json_type(inner)) for inner in item.values())
            else:
                yield from _paths(item, path)
    elif isinstance(value, list):
        for item in value:
            yield f"{prefix}[]", _json_type(item)
            yield from _paths(item, f"{prefix}[]")


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    return "array" if isinstance(value, list) else "object"


def shape(models: Iterable[dict[str, Any]]) -> dict[str, set[str]]:
    """Every path the models hold, with the JSON types seen there."""
    seen: dict[str, set[str]] = {}
    for model in models:
        for path, kind in _paths(model):
            seen.setdefault(path, set()).add(kind)
    return seen


def shape_differences(live: dict[str, set[str]], emulator: dict[str, set[str]]) -> list[Difference]:
    """Model fields the live endpoint sends that the emulator never does, or sends with another JSON type."""
    differences = []
    for path in sorted(live):
        if path not in emulator:
            differences.append(Difference("models", path, ", ".join(sorted(live[path])), "never sends it"))
        elif not live[path] <= emulator[path]:
            differences.append(
                Difference("models", f"{path} type", ", ".join(sorted(live[path])), ", ".join(sorted(emulator[path])))
            )
    return differences


@dataclass
class Verification:
    """What ``verify`` found: the differences, and what could not be compared (and why)."""

    differences: list[Difference]
    not_compared: list[str]
    facts_compared: int


def verify(live: Side, emulator: Side, emulator_models: Iterable[dict[str, Any]]) -> Verification:
    """Run every probe on both sides and compare their facts; then the models of a live page against the shape of
    `emulator_models` (the emulator's data set)."""
    differences: list[Difference] = []
    not_compared: list[str] = []
    compared = 0
    for name, probe in PROBES.items():
        live_facts, emulator_facts = probe(live), probe(emulator)
        if isinstance(live_facts, str) or isinstance(emulator_facts, str):
            reasons = [facts for facts in (live_facts, emulator_facts) if isinstance(facts, str)]
            not_compared.append(f"{name}: {'; '.join(reasons)}")
            continue
        for fact in {**emulator_facts, **live_facts}:
            compared += 1
            live_value, emulator_value = live_facts.get(fact, "not asked"), emulator_facts.get(fact, "not asked")
            if live_value != emulator_value:
                differences.append(Difference(name, fact, live_value, emulator_value))
    live_models = live.get({"top": "100"}).models
    if live_models:
        differences += shape_differences(shape(live_models), shape(emulator_models))
        compared += 1
    else:
        not_compared.append("models: the live endpoint has none to compare")
    not_compared.append(
        "Retry-After on a 429: only if a probe meets one (the SDK's retries wait it out and parse every legal form)"
    )
    return Verification(differences, not_compared, compared)


def emulator_side() -> tuple[Side, list[dict[str, Any]]]:
    """The emulator, in-process with its built-in data set, and that data set."""
    from speech_models_emulator import DEFAULT_KEY, create_app
    from speech_models_emulator.data import build_models
    from speech_models_emulator.inprocess import SyncASGITransport

    app = create_app()

    def client(key: str) -> SpeechToTextModels:
        return SpeechToTextModels("http://127.0.0.1", key, transport=SyncASGITransport(app))

    return Side("emulator", client(DEFAULT_KEY), client(WRONG_KEY)), build_models(250)


def report(result: Verification, live_endpoint: str, out: IO[str]) -> None:
    """The differences, one a line, then what was not compared and a summary."""
    for difference in result.differences:
        out.write(f"difference: {difference}\n")
    for reason in result.not_compared:
        out.write(f"not compared: {reason}\n")
    count = len(result.differences)
    verdict = {0: "no differences", 1: "1 difference"}.get(count, f"{count} differences")
    out.write(
        f"verify: {live_endpoint} against the emulator (api-version {DEFAULT_API_VERSION}), "
        f"{result.facts_compared} facts compared: {verdict}\n"
    )
