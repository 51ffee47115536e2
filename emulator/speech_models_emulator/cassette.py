"""Record and replay: a proxy that forwards requests to a live endpoint and stores each exchange in a cassette, with
secrets removed, and a server that answers from a cassette.

A cassette is a JSON file: the exchanges in the order they happened, each a request (method, path, query without
``subscription-key``) and its response (status, the headers contract tests read, the body). The live endpoint's
address in bodies is stored as a placeholder, so links lead back to whichever server replays it; keys, tokens,
cookies and every header not on the list below never reach the file, and a key or token the body echoes is
redacted.

Replay matches a request on method, path and query (order aside); repeated exchanges of the same request are
answered in turn (a recorded 429 then its 200), the last one again after that. A request the cassette does not hold
gets a 404 ``Error`` body that names it. Replay does not check keys: it answers what the service answered.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections.abc import Awaitable, Callable, Iterable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .app import KEY_HEADER, advertised_base, error_response, own_base
from .data import ENDPOINT_PLACEHOLDER

__all__ = ["FORMAT", "Cassette", "create_recorder_app", "create_replay_app"]

FORMAT = "speech-models-cassette/1"
FORWARDED_HEADERS = ("ocp-apim-subscription-key", "authorization", "accept", "x-ms-client-request-id", "user-agent")
RECORDED_HEADERS = (
    "content-type",
    "retry-after",
    "retry-after-ms",
    "x-ms-retry-after-ms",
    "apim-request-id",
    "x-ms-request-id",
    "x-request-id",
    "request-id",
)
KEY_QUERY = "subscription-key"  # API Management takes the key in the query too
REDACTED = "[redacted]"
UPSTREAM_TIMEOUT = 60.0


def _query(raw: str) -> list[tuple[str, str]]:
    """A query's pairs without the key, in a stable order: what a request is matched on."""
    pairs = parse_qsl(raw, keep_blank_values=True)
    return sorted((name, value) for name, value in pairs if name.lower() != KEY_QUERY)


def _request_key(method: str, path: str, query: Iterable[Sequence[str]]) -> str:
    return f"{method} {path}?{urlencode([(pair[0], pair[1]) for pair in query])}"


class Cassette:
    """The exchanges of one cassette file, read at start (replay) or written after each exchange (record)."""

    def __init__(self, path: Path, recorded_from: str | None = None, exchanges: list[dict[str, Any]] | None = None):
        self.path = path
        self.recorded_from = recorded_from
        self.exchanges: list[dict[str, Any]] = exchanges or []
        self._lock = threading.Lock()
        self._played: dict[str, int] = {}
        self._responses: dict[str, list[dict[str, Any]]] = {}  # by request, in the order recorded
        for exchange in self.exchanges:
            self._responses.setdefault(_request_key(**exchange["request"]), []).append(exchange["response"])

    @classmethod
    def load(cls, path: Path) -> Cassette:
        """Read a cassette; a file that is not one raises ValueError naming the file and the problem."""
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ValueError(f"cannot read the cassette {path}: {exc.strerror or exc}") from None
        except ValueError as exc:
            raise ValueError(f"the cassette {path} is not JSON: {exc}") from None
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise ValueError(f"the cassette {path} is not a {FORMAT} file")
        exchanges = document.get("exchanges")
        if not isinstance(exchanges, list) or not all(_is_exchange(item) for item in exchanges):
            raise ValueError(f"the cassette {path} has malformed exchanges")
        return cls(path, document.get("recorded_from"), exchanges)

    def add(self, exchange: dict[str, Any]) -> None:
        """Append an exchange and rewrite the file whole (a stopped recording leaves a valid cassette)."""
        with self._lock:
            self.exchanges.append(exchange)
            self._responses.setdefault(_request_key(**exchange["request"]), []).append(exchange["response"])
            document = {"format": FORMAT, "recorded_from": self.recorded_from, "exchanges": self.exchanges}
            folder = self.path.parent
            handle, temporary = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=folder)
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(document, out, indent=1)
                out.write("\n")
            os.replace(temporary, self.path)

    def answer(self, method: str, path: str, query: list[tuple[str, str]]) -> dict[str, Any] | None:
        """The next recorded response to this request, or None when the cassette has none."""
        key = _request_key(method, path, query)
        matching = self._responses.get(key)
        if not matching:
            return None
        with self._lock:
            turn = self._played.get(key, 0)
            self._played[key] = turn + 1
        chosen: dict[str, Any] = matching[min(turn, len(matching) - 1)]
        return chosen


def _is_exchange(item: Any) -> bool:
    if not isinstance(item, dict):
        return False
    request, response = item.get("request"), item.get("response")
    return (
        isinstance(request, dict)
        and set(request) == {"method", "path", "query"}
        and isinstance(request["method"], str)
        and isinstance(request["path"], str)
        and isinstance(request["query"], list)
        and all(
            isinstance(pair, list) and len(pair) == 2 and all(isinstance(part, str) for part in pair)
            for pair in request["query"]
        )
        and isinstance(response, dict)
        and isinstance(response.get("status"), int)
        and isinstance(response.get("headers"), dict)
        and isinstance(response.get("body"), str)
    )


def _secrets(request: Request) -> list[str]:
    """The credentials this request carries, to be kept out of the cassette whatever echoes them."""
    found = [request.headers.get(KEY_HEADER, ""), request.query_params.get(KEY_QUERY, "")]
    authorization = request.headers.get("authorization", "")
    found += [authorization, authorization.partition(" ")[2]]
    return [secret for secret in found if len(secret) >= 4]


def _scrub(text: str, secrets: list[str]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


async def _health(request: Request) -> Response:
    return JSONResponse({"status": "ok", "mode": request.app.state.mode})


def _only_get(request: Request) -> Response | None:
    if request.method == "GET":
        return None
    return error_response(405, "MethodNotAllowed", f"{request.method} is not recorded or replayed: GET only.")


def _app(mode: str, cassette: Cassette, endpoint: Callable[[Request], Awaitable[Response]]) -> Starlette:
    """`endpoint` for every method under ``/speechtotext/`` (it answers 405 but to GET), and the health route."""
    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    health = Route("/_emulator/health", _health, methods=["GET"])
    app = Starlette(routes=[health, Route("/speechtotext/{rest:path}", endpoint, methods=methods)])
    app.state.mode = mode
    app.state.cassette = cassette
    return app


def create_recorder_app(upstream: str, cassette: Path, *, advertise: str | None = None) -> Starlette:
    """A proxy to the live endpoint `upstream` that stores every exchange under ``/speechtotext/`` in `cassette`
    (created or replaced) and answers the client with links that lead back through it."""
    parts = urlsplit(upstream)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"--record-from needs an http(s) URL, not {upstream[:80]!r}")
    upstream_base = f"{parts.scheme}://{parts.netloc}"
    advertised = None if advertise is None else advertised_base(advertise)
    recording = Cassette(cassette, upstream_base)
    recording.path.parent.mkdir(parents=True, exist_ok=True)

    async def proxy(request: Request) -> Response:
        refused = _only_get(request)
        if refused is not None:
            return refused
        headers = {name: value for name, value in request.headers.items() if name.lower() in FORWARDED_HEADERS}
        url = f"{upstream_base}{request.url.path}"
        raw_query = request.scope.get("query_string", b"").decode("latin-1")
        try:
            async with httpx.AsyncClient(timeout=UPSTREAM_TIMEOUT, follow_redirects=False) as client:
                live = await client.get(url + (f"?{raw_query}" if raw_query else ""), headers=headers)
        except httpx.HTTPError as exc:
            message = f"the live endpoint {upstream_base} could not be reached: {type(exc).__name__}"
            return error_response(502, "BadGateway", message)
        secrets = _secrets(request)
        body = _scrub(live.text, secrets).replace(upstream_base, ENDPOINT_PLACEHOLDER)
        kept = {
            name: _scrub(value, secrets) for name, value in live.headers.items() if name.lower() in RECORDED_HEADERS
        }
        recording.add(
            {
                "request": {
                    "method": "GET",
                    "path": request.url.path,
                    "query": [(name, _scrub(value, secrets)) for name, value in _query(raw_query)],
                },
                "response": {"status": live.status_code, "headers": kept, "body": body},
            }
        )
        own = body.replace(ENDPOINT_PLACEHOLDER, own_base(request, advertised))
        return Response(own, status_code=live.status_code, headers=kept)

    return _app("record", recording, proxy)


def create_replay_app(cassette: Path, *, advertise: str | None = None) -> Starlette:
    """A server that answers from `cassette` (see the module's description)."""
    recorded = Cassette.load(cassette)
    advertised = None if advertise is None else advertised_base(advertise)

    async def replay(request: Request) -> Response:
        refused = _only_get(request)
        if refused is not None:
            return refused
        query = _query(request.scope.get("query_string", b"").decode("latin-1"))
        response = recorded.answer("GET", request.url.path, query)
        if response is None:
            asked = _request_key("GET", request.url.path, query)
            message = f"The cassette {cassette.name} has no answer for {asked}; record it with --record-from."
            return error_response(404, "NotFound", message)
        body = response["body"].replace(ENDPOINT_PLACEHOLDER, own_base(request, advertised))
        return Response(body, status_code=response["status"], headers=response["headers"])

    return _app("replay", recorded, replay)
