"""The emulator as an ASGI app: ``GET /speechtotext/models`` with the contract of the OpenAPI document.

Checks the key (401), ``api-version`` (400), ``skip``/``top`` (400, ``InvalidParameterValue``) and ``filter``
(400, ``UnsupportedFilter``); pages with an absolute ``@nextLink`` and sends ``Retry-After`` on 200. Every error
is an ``Error`` body. Outside the contract: ``/openapi.json`` (the spec), ``/_emulator/health``, and, with one of
the emulator's keys, ``/_emulator/faults`` (see ``faults``), ``/_emulator/requests`` (the journal of models
requests), ``/_emulator/keys`` (rotation), ``/_emulator/quota`` (the resource's request quota, see ``quota``) and
``/_emulator/reset``. Every answer carries an ``apim-request-id``.
"""

from __future__ import annotations

import base64
import hmac
import json
import logging
import os
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import anyio
import anyio.lowlevel
import yaml
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .chaos import SOCKET_KINDS, Chaos, ChaosFault
from .data import StoredModel, build_models, store
from .faults import Fault, Faults, retry_after_headers
from .filters import FilterError, compile_filter
from .quota import Quota
from .validation import SpecValidator

__all__ = ["DEFAULT_KEY", "DEFAULT_TOP", "MAX_TOP", "EmulatorState", "create_app", "load_spec"]

DEFAULT_KEY = "emulator-key"
DEFAULT_TOP = 100
MAX_TOP = 100
INT32_MAX = 2**31 - 1
KEY_HEADER = "Ocp-Apim-Subscription-Key"
_LOGGER = logging.getLogger("speech_models_emulator")
_QUERY_PARAMS = ("skip", "top", "filter", "api-version")
JOURNAL_SIZE = 10_000
VALIDATE_ENV = "SPEECH_MODELS_EMULATOR_VALIDATE"
HANGUP_EXTENSION = "speech_models.hangup"  # put in the scope by run_emulator's protocol: hangup(abort: bool)
REQUEST_ID_HEADER = "apim-request-id"  # the service's API Management gateway's id of each request
REQUEST_ID_STATE = "request_id"  # where RequestIds puts it in the scope's state, for the journal
_FAULT_CODES = {429: "TooManyRequests", 500: "InternalServerError", 503: "ServiceUnavailable", 403: "Forbidden"}


@lru_cache(maxsize=1)
def load_spec() -> dict[str, Any]:
    """The OpenAPI document: shipped in the package (wheel), or read from the repository (editable install)."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "openapi.yaml", here.parent.parent / "openapi" / "speechtotext-models.yaml"):
        if candidate.is_file():
            spec: dict[str, Any] = yaml.safe_load(candidate.read_text(encoding="utf-8"))
            return spec
    raise FileNotFoundError("the OpenAPI document is neither in the package nor in the repository")


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    target: str | None = None,
    detailed: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """A response with an ``Error`` body (and a detailed code in ``innerError`` when given)."""
    body: dict[str, Any] = {"code": code, "message": message}
    if target is not None:
        body["target"] = target
    if detailed is not None:
        body["innerError"] = {"code": detailed, "message": message}
        if target is not None:
            body["innerError"]["target"] = target
    return JSONResponse(body, status_code=status, headers=headers)


class BadQuery(Exception):
    """A query parameter is missing or invalid; carries the ``Error`` fields for a 400."""

    def __init__(self, message: str, target: str, detailed: str = "InvalidParameterValue") -> None:
        super().__init__(message)
        self.message = message
        self.target = target
        self.detailed = detailed


class EmulatorState:
    """The emulator's data and settings, reachable as ``app.state.emulator``."""

    def __init__(
        self,
        models: Sequence[dict[str, Any]],
        *,
        key: str | Sequence[str] | None,
        tokens: Iterable[str],
        faults: Faults,
        chaos: Chaos,
        default_top: int,
        max_top: int,
        page_retry_after: int,
        api_versions: Sequence[str],
        sleep: Callable[[float], Awaitable[None]],
        entra: bool = False,
        now: Callable[[], float] = time.time,
        validator: SpecValidator | None = None,
        quota: Quota | None = None,
        advertise: str | None = None,
    ) -> None:
        self.sleep = sleep
        self.advertise = None if advertise is None else advertised_base(advertise)
        """The address clients reach the emulator by, for its links (``None``: the socket's own)."""
        self.validator = validator
        """Checks every answer against the spec before it is sent (``validate``), or None."""
        self.entra = entra
        """Accept JWT bearer tokens for the Cognitive Services audience that have not expired (no signature check)."""
        self.now = now
        self._initial = (list(models), key if key is None or isinstance(key, str) else list(key), set(tokens))
        self.quota = quota or Quota()
        """The resource's request quota, shared by every key and token (``POST /_emulator/quota``)."""
        self._initial_limits = (self.quota.limit, faults.latency)
        self.models: Sequence[StoredModel] = store(models)
        self.keys: list[bytes] = _keys(key)
        """The accepted subscription keys (as an Azure resource has KEY1 and KEY2); empty: key authentication is
        off. Replace them (or ``POST /_emulator/keys``) to rotate: the old key is refused from the next request."""
        self.tokens: set[str] = set(tokens)
        """The accepted bearer tokens; add to issue one, discard (or a revoke_tokens fault) to revoke."""
        self.journal: deque[dict[str, Any]] = deque(maxlen=JOURNAL_SIZE)
        """The models requests received, oldest first (the last 10,000), secrets redacted."""
        self.faults = faults
        self.chaos = chaos
        """Faults drawn at random, reproducibly (``chaos.configure`` or ``POST /_emulator/chaos``)."""
        self.default_top = default_top
        self.max_top = max_top
        self.page_retry_after = page_retry_after
        self.api_versions = frozenset(api_versions)
        self._filtered = lru_cache(maxsize=64)(self._select)

    @property
    def key(self) -> bytes | None:
        """The first accepted key (bytes), None when key authentication is off; assigning one replaces them all."""
        return self.keys[0] if self.keys else None

    @key.setter
    def key(self, value: bytes | None) -> None:
        self.keys = [] if value is None else [value]

    def reset(self) -> None:
        """Back to how the app was created: its data set, keys and tokens; no faults, no journal."""
        models, key, tokens = self._initial
        self.models = store(models)
        self._filtered.cache_clear()
        self.keys = _keys(key)
        self.tokens = set(tokens)
        self.faults.clear()
        self.quota.set(self._initial_limits[0])
        self.faults.latency = self._initial_limits[1]
        self.chaos.configure({"rate": 0, "seed": None, "kinds": {}})
        self.journal.clear()

    def _select(self, filter_text: str) -> tuple[int, ...]:
        predicate = compile_filter(filter_text)
        return tuple(i for i, model in enumerate(self.models) if predicate(model.fields))

    def selection(self, filter_text: str | None) -> Sequence[int] | range:
        if filter_text is None:
            return range(len(self.models))
        return self._filtered(filter_text)


def _keys(key: str | Sequence[str] | None) -> list[bytes]:
    if key is None:
        return []
    keys = [key] if isinstance(key, str) else list(key)
    if not keys or not all(isinstance(k, str) and k for k in keys):
        raise ValueError("keys must be non-empty strings")
    return [k.encode() for k in keys]


ENTRA_AUDIENCE = "https://cognitiveservices.azure.com"


# The latest expiry the emulator takes for a time: the last second of year 9999 (a bigger number is a forgery or a bug).
_LATEST_TIME = 253_402_300_799


def _jwt_time(payload: dict[str, Any], claim: str) -> float | str | None:
    """A JWT's time claim: the number, None when it is absent, or why it is not a time (NaN, infinite, a string)."""
    value = payload.get(claim)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= _LATEST_TIME:
        return f"the bearer token's {claim} is not a time"
    return float(value)


def _jwt_problem(token: str, now: float) -> str | None:
    """Why a bearer token is refused under ``entra`` (as Azurite's ``--oauth basic``: the audience, expiry and
    not-before of a JWT are checked, its signature is not), or None when it is accepted."""
    parts = token.split(".")
    if len(parts) != 3:
        return "the bearer token is not a JWT (and not one of the emulator's opaque tokens)"
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, RecursionError):
        return "the bearer token's payload is not base64url JSON"
    if not isinstance(payload, dict):
        return "the bearer token's payload is not a JSON object"
    audience = payload.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if not any(isinstance(a, str) and a.rstrip("/") == ENTRA_AUDIENCE for a in audiences):
        return f"the bearer token's audience {str(audience)[:80]!r} is not {ENTRA_AUDIENCE}"
    expires, not_before = _jwt_time(payload, "exp"), _jwt_time(payload, "nbf")
    if expires is None:
        return "the bearer token has no exp"
    for problem in (expires, not_before):
        if isinstance(problem, str):
            return problem
    assert isinstance(expires, float)
    if expires <= now:
        return "the bearer token expired"
    if isinstance(not_before, float) and not_before > now:
        return "the bearer token is not valid yet (nbf)"
    return None


def _quoted_string_safe(text: str) -> str:
    """`text` fit for an HTTP quoted-string: printable ASCII without quotes or backslashes (a token's audience is
    the client's text, and must neither forge a parameter nor make the header unencodable)."""
    return "".join(c if " " <= c <= "~" and c not in '"\\' else "?" for c in text)


def advertised_base(url: str) -> str:
    """`url` checked as the address clients reach the emulator by (``http(s)://host[:port]``, nothing after it),
    without a trailing slash; ValueError naming the problem otherwise."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"the advertised address must be http:// or https:// and a host, not {url[:80]!r}")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError(f"the advertised address is a scheme, a host and a port, nothing more, not {url[:80]!r}")
    try:
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        raise ValueError(f"the advertised address has a bad port: {url[:80]!r}") from None
    return f"{parts.scheme}://{parts.netloc}"


def _own_base(request: Request) -> str:
    return own_base(request, request.app.state.emulator.advertise)


def own_base(request: Request, advertised: str | None) -> str:
    """The server's own address: `advertised` when it was given (``advertised_base``: behind a mapped port, a
    proxy), else the socket it answers on; never the request's Host header, which a client (or an attacker)
    chooses, so links cannot point elsewhere."""
    if advertised is not None:
        return advertised
    server = request.scope.get("server")
    scheme = request.scope.get("scheme", "http")
    if not server:
        return "http://127.0.0.1"
    host, port = server[0], server[1]
    if ":" in host:
        host = f"[{host}]"
    default = {"http": 80, "https": 443}.get(scheme)
    return f"{scheme}://{host}" if port in (None, default) else f"{scheme}://{host}:{port}"


_REDACTED_HEADERS = {KEY_HEADER.lower(), "authorization", "proxy-authorization", "cookie"}
_REDACTED_QUERY = {"subscription-key"}  # API Management takes the key in the query too


def _journal(state: EmulatorState, request: Request, status: int, fault: str | None) -> None:
    headers = {
        name: ("[redacted]" if name.lower() in _REDACTED_HEADERS else value) for name, value in request.headers.items()
    }
    pairs = parse_qsl(request.scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    state.journal.append(
        {
            "method": request.method,
            "path": request.scope.get("path", ""),
            "query": {name: "[redacted]" if name.lower() in _REDACTED_QUERY else value for name, value in pairs},
            "headers": headers,
            "status": status,
            "fault": fault,
            "request_id": request.scope.get("state", {}).get(REQUEST_ID_STATE),
        }
    )


def _parse_query(raw: bytes) -> dict[str, str]:
    try:
        text = raw.decode("ascii")
        pairs = parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise BadQuery("the query string is not valid percent-encoded UTF-8", "query") from None
    except ValueError as exc:
        raise BadQuery(f"the query string is malformed: {exc}", "query") from None
    params: dict[str, str] = {}
    for name, value in pairs:
        if name in params and name in _QUERY_PARAMS:
            raise BadQuery(f"the query parameter {name!r} is given more than once", name)
        params.setdefault(name, value)
    return params


def _integer(params: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 10 or not low <= int(raw) <= high:
        raise BadQuery(f"{name} must be an integer from {low} to {high}, not {raw[:40]!r}", name)
    return int(raw)


def _page_body(state: EmulatorState, indices: Sequence[int], next_link: str | None, base: str) -> str:
    models = state.models
    values = ",".join([base.join(models[i].parts) for i in indices])
    tail = f',"@nextLink":{json.dumps(next_link)}' if next_link else ""
    return f'{{"values":[{values}]{tail}}}'


def _authentication_error(request: Request, state: EmulatorState) -> Response | None:
    """A 401 for a request whose bearer token or key is not accepted, else None. A bearer token is checked when
    one is sent (never together with a key); the key otherwise, unless key authentication is off (key None)."""
    authorization = request.headers.get("authorization")
    if authorization is not None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() == "bearer" and token and token in state.tokens:
            return None
        challenge = 'Bearer error="invalid_token"'
        why = "the bearer token is unknown, expired or revoked"
        if scheme.lower() == "bearer" and state.entra:
            problem = _jwt_problem(token, state.now())
            if problem is None:
                return None
            why = problem
            challenge += f', error_description="{_quoted_string_safe(why)}"'
        return error_response(401, "Unauthorized", f"Access denied: {why}.", headers={"WWW-Authenticate": challenge})
    if not state.keys:
        return error_response(
            401,
            "Unauthorized",
            "Access denied: key authentication is disabled for this resource; use a Microsoft Entra ID token.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    supplied = request.headers.get(KEY_HEADER, "").encode("utf-8", "replace")
    if not any([hmac.compare_digest(supplied, key) for key in state.keys]):  # a list: compare with every key
        return error_response(
            401,
            "Unauthorized",
            "Access denied: the subscription key is missing or wrong. Provide a valid key in the "
            "Ocp-Apim-Subscription-Key header.",
        )
    return None


class _Hangup(Response):
    """Closes the connection: at once (``reset``, before any head), or after the head and a part of `whole`'s body
    (``midbody``). Needs the socket's hang-up callable that ``run_emulator``'s protocol puts in the scope."""

    def __init__(self, whole: Response | None = None, fraction: float = 0.5) -> None:
        super().__init__(status_code=whole.status_code if whole is not None else 200)
        self.whole = whole
        self.fraction = fraction
        self.journal_status = None if whole is None else whole.status_code

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        hangup = scope["extensions"][HANGUP_EXTENSION]
        whole = self.whole
        if whole is not None:
            body = bytes(whole.body)
            await send({"type": "http.response.start", "status": whole.status_code, "headers": whole.raw_headers})
            await send(
                {"type": "http.response.body", "body": body[: int(len(body) * self.fraction)], "more_body": True}
            )
        hangup(whole is None)  # reset: abort (RST); midbody: close after what was written
        for _ in range(3):  # let the server see the connection lost before the app returns
            await anyio.lowlevel.checkpoint()


class _Drip(Response):
    """`whole`'s head at once, then its body in small pieces over `seconds`."""

    def __init__(self, whole: Response, seconds: float, sleep: Callable[[float], Awaitable[None]]) -> None:
        super().__init__(status_code=whole.status_code)
        self.whole, self.seconds, self.sleep = whole, seconds, sleep
        self.journal_status = whole.status_code

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        body = bytes(self.whole.body)
        await send({"type": "http.response.start", "status": self.whole.status_code, "headers": self.whole.raw_headers})
        pieces = 20
        step = max(1, -(-len(body) // pieces))
        for start in range(0, len(body), step):
            await self.sleep(self.seconds / pieces)
            await send({"type": "http.response.body", "body": body[start : start + step], "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


async def list_models(request: Request) -> Response:
    state: EmulatorState = request.app.state.emulator
    if request.method == "HEAD":  # a 405: no fault or chaos spent on it
        response, _ = await _list(request, state, None, None)
        _journal(state, request, response.status_code, None)
        return response
    if state.faults.latency:
        await state.sleep(state.faults.latency)
    wait = state.quota.take()
    if wait is not None:
        message = f"Rate limit is exceeded. Try again in {wait} seconds."
        response = error_response(429, "TooManyRequests", message, headers={"Retry-After": str(wait)})
        _journal(state, request, 429, "quota")
        return response
    with_socket = HANGUP_EXTENSION in request.scope.get("extensions", {})
    drawn = state.chaos.draw(with_socket)
    fault = None if drawn is not None else state.faults.next()
    if fault is not None and fault.kind is not None and (with_socket or fault.kind not in SOCKET_KINDS):
        drawn = ChaosFault.fixed(fault.kind)
    response, fault_name = await _list(request, state, fault, drawn)
    if state.validator is not None and fault_name is None:  # an injected fault breaks the contract on purpose
        response = _validated(state.validator, response)
    _journal(state, request, getattr(response, "journal_status", response.status_code), fault_name)
    return response


def _validated(validator: SpecValidator, response: Response) -> Response:
    """`response`, or a 500 naming where its body breaks the spec (logged too)."""
    problem = validator.response_problem(response.status_code, bytes(response.body))
    if problem is None:
        return response
    _LOGGER.error("the emulator's %d response breaks the spec at %s", response.status_code, problem)
    return error_response(500, "InternalServerError", f"The emulator's response breaks the spec at {problem}.")


async def _list(
    request: Request, state: EmulatorState, fault: Fault | None, drawn: ChaosFault | None
) -> tuple[Response, str | None]:
    if request.method == "HEAD":
        message = "HEAD /speechtotext/models: the list operation answers GET only."
        return error_response(405, "NotAllowed", message, headers={"Allow": "GET"}), None
    if drawn is not None:
        if drawn.kind == "reset":
            return _Hangup(), "reset"
        if drawn.kind in ("throttle", "unavailable"):
            status = 429 if drawn.kind == "throttle" else 503
            headers = retry_after_headers(Fault(status, drawn.seconds, drawn.form))
            return error_response(status, _FAULT_CODES[status], "Injected fault.", headers=headers), drawn.kind
        if drawn.kind == "stall":
            await state.sleep(drawn.seconds)
        response, _ = await _list(request, state, None, None)
        if drawn.kind == "midbody":
            return _Hangup(response, drawn.fraction), "midbody"
        if drawn.kind == "drip":
            return _Drip(response, drawn.seconds, state.sleep), "drip"
        return response, drawn.kind
    if fault is not None and fault.status is not None:
        code = _FAULT_CODES.get(fault.status, "InternalServerError" if fault.status >= 500 else "InvalidRequest")
        response = error_response(fault.status, code, "Injected fault.", headers=retry_after_headers(fault))
        return response, "throttle" if fault.status == 429 else "unavailable" if fault.status == 503 else "status"
    if fault is not None and fault.malformed:
        return Response(
            '{"values": [{"displayName": "trunc', status_code=200, media_type="application/json"
        ), "malformed"

    denied = _authentication_error(request, state)
    if denied is not None:
        return denied, None
    try:
        params = _parse_query(request.scope.get("query_string", b""))
        api_version = params.get("api-version")
        if not api_version:
            raise BadQuery("the api-version query parameter is required", "api-version")
        if api_version not in state.api_versions:
            supported = ", ".join(sorted(state.api_versions))
            raise BadQuery(f"api-version {api_version[:40]!r} is not supported (supported: {supported})", "api-version")
        skip = _integer(params, "skip", 0, 0, INT32_MAX)
        top = _integer(params, "top", state.default_top, 1, state.max_top)
        filter_text = params.get("filter")
        if filter_text is not None and not filter_text.strip():
            filter_text = None
        try:
            selection = state.selection(filter_text)
        except FilterError as exc:
            raise BadQuery(f"Unsupported filter: {exc}", "filter", "UnsupportedFilter") from None
    except BadQuery as exc:
        return error_response(400, "InvalidArgument", exc.message, target=exc.target, detailed=exc.detailed), None

    base = _own_base(request)
    page = selection[skip : skip + top]
    next_link = None
    if skip + top < len(selection):
        query: dict[str, str | int] = {"skip": skip + top, "top": top}
        if filter_text is not None:
            query["filter"] = filter_text
        query["api-version"] = api_version
        next_link = f"{base}/speechtotext/models?{urlencode(query, quote_via=quote, safe=chr(39))}"
    body = _page_body(state, page, next_link, base)
    return Response(body, media_type="application/json", headers={"Retry-After": str(state.page_retry_after)}), None


async def openapi_json(request: Request) -> Response:
    return JSONResponse(load_spec())


async def health(request: Request) -> Response:
    return JSONResponse({"status": "ok", "models": len(request.app.state.emulator.models)})


def _admin_denied(request: Request, state: EmulatorState) -> Response | None:
    """A 401 for an admin request without one of the emulator's keys (the API's header). With key authentication
    off there is no key to ask for, and the admin routes are open."""
    if not state.keys:
        return None
    supplied = request.headers.get(KEY_HEADER, "").encode("utf-8", "replace")
    if any([hmac.compare_digest(supplied, key) for key in state.keys]):
        return None
    return error_response(
        401, "Unauthorized", f"{request.url.path} needs one of the emulator's keys in the {KEY_HEADER} header."
    )


def _admin(
    handler: Callable[[Request, EmulatorState], Awaitable[Response]],
) -> Callable[[Request], Awaitable[Response]]:
    """An admin route: the state, after the key check."""

    async def route(request: Request) -> Response:
        state: EmulatorState = request.app.state.emulator
        denied = _admin_denied(request, state)
        return denied if denied is not None else await handler(request, state)

    return route


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > 18:
        raise ValueError(f"the number {text[:20]}... is too large")
    return int(text)


async def _admin_body(request: Request) -> Any:
    """The JSON body of an admin request; ValueError (a 400) for one that is not JSON, nests too deep or holds a
    number too large, never an error of the emulator's own."""
    raw = await request.body()
    try:
        return json.loads(raw, parse_int=_bounded_int, parse_constant=_no_constant)
    except RecursionError:
        raise ValueError("the JSON nests too deep") from None
    except UnicodeDecodeError:
        raise ValueError("the body is not UTF-8") from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


@_admin
async def faults_route(request: Request, state: EmulatorState) -> Response:
    if request.method == "DELETE":
        state.faults.clear()
        return Response(status_code=204)
    try:
        body = await _admin_body(request)
        state.faults.configure(body)
        if body.get("revoke_tokens"):  # checked by configure: the tokens issued so far stop working
            state.tokens.clear()
    except (ValueError, OverflowError) as exc:
        return error_response(400, "InvalidArgument", f"Bad fault configuration: {exc}")
    return JSONResponse({"queued": len(state.faults.queue), "latency": state.faults.latency})


@_admin
async def requests_route(request: Request, state: EmulatorState) -> Response:
    """``GET``: the models requests received, oldest first (secrets redacted); ``DELETE``: forget them."""
    if request.method == "DELETE":
        state.journal.clear()
        return Response(status_code=204)
    return JSONResponse(list(state.journal))


@_admin
async def keys_route(request: Request, state: EmulatorState) -> Response:
    """``POST {"keys": [...]}``: replace the accepted keys (one or two, as KEY1 and KEY2), as a rotation does."""
    try:
        body = await _admin_body(request)
        keys = body.get("keys") if isinstance(body, dict) else None
        if not isinstance(keys, list) or not 1 <= len(keys) <= 2:
            raise ValueError('the body must be {"keys": [one or two non-empty strings]}')
        state.keys = _keys(keys)
    except ValueError as exc:
        return error_response(400, "InvalidArgument", f"Bad keys: {exc}")
    return JSONResponse({"keys": len(state.keys)})


@_admin
async def chaos_route(request: Request, state: EmulatorState) -> Response:
    """``POST {"rate", "seed", "kinds"}``: faults at random from now on (the generator restarts from the seed);
    ``GET``: the settings; ``DELETE``: no more chaos."""
    if request.method == "DELETE":
        state.chaos.configure({"rate": 0, "seed": None, "kinds": {}})
        return Response(status_code=204)
    if request.method == "POST":
        try:
            state.chaos.configure(await _admin_body(request))
        except ValueError as exc:
            return error_response(400, "InvalidArgument", f"Bad chaos configuration: {exc}")
    return JSONResponse(state.chaos.as_json())


@_admin
async def quota_route(request: Request, state: EmulatorState) -> Response:
    """``POST {"requests": N, "seconds": S}``: at most N models requests in any S seconds, for every key and token
    together (an empty window from now); ``GET``: the quota; ``DELETE``: no quota."""
    if request.method == "DELETE":
        state.quota.set(None)
        return Response(status_code=204)
    if request.method == "POST":
        try:
            state.quota.configure(await _admin_body(request))
        except ValueError as exc:
            return error_response(400, "InvalidArgument", f"Bad quota: {exc}")
    return JSONResponse(state.quota.as_json())


@_admin
async def reset_route(request: Request, state: EmulatorState) -> Response:
    """``POST``: the data set, keys and tokens as at start; no faults, no journal."""
    state.reset()
    return Response(status_code=204)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = {404: "NotFound", 405: "NotAllowed"}.get(exc.status_code, "InvalidRequest")
    message = f"{request.method} {request.url.path}: {exc.detail}"
    headers = dict(exc.headers or {})  # keeps 405's Allow
    if exc.status_code == 405 and request.url.path == "/speechtotext/models":
        headers["Allow"] = "GET"  # Starlette adds HEAD to a GET route, but the list answers GET only
    return error_response(exc.status_code, code, message, headers=headers)


async def server_error(request: Request, exc: Exception) -> Response:
    _LOGGER.exception("unexpected error")
    return error_response(500, "InternalServerError", "The emulator failed unexpectedly.")


MAX_HEADERS = 100  # as Azure's front doors refuse more, with 431 (a limit, not the service's documented figure)
MAX_HEADER_BYTES = 32_768  # names and values together


class RequestIds:
    """Every answer carries an ``apim-request-id`` of its own, as the service's gateway sends (the journal records
    it: ``request_id``)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = str(uuid.uuid4())
        scope.setdefault("state", {})[REQUEST_ID_STATE] = request_id
        header = (REQUEST_ID_HEADER.encode("ascii"), request_id.encode("ascii"))

        async def send_with_id(message: Any) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), header]}
            await send(message)

        await self.app(scope, receive, send_with_id)


class RequestHeadChecks:
    """What every HTTP/1.1 server checks before routing: a ``Host`` header (400 without one) and a head of bounded
    size (431 for too many headers or too many bytes of them), answered with the service's ``Error`` body."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            refusal = self._refusal(scope)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)

    @staticmethod
    def _refusal(scope: Any) -> Response | None:
        headers = scope.get("headers", [])
        if len(headers) > MAX_HEADERS or sum(len(name) + len(value) for name, value in headers) > MAX_HEADER_BYTES:
            message = f"The request's headers are too large (at most {MAX_HEADERS} and {MAX_HEADER_BYTES} bytes)."
            return error_response(431, "InvalidRequest", message)
        if scope.get("http_version") == "1.1" and not any(name.lower() == b"host" for name, _ in headers):
            return error_response(400, "InvalidRequest", "An HTTP/1.1 request needs a Host header.")
        return None


def create_app(
    models: Sequence[dict[str, Any]] | None = None,
    *,
    count: int = 250,
    key: str | Sequence[str] | None = DEFAULT_KEY,
    tokens: Iterable[str] = (),
    faults: Faults | None = None,
    chaos: float = 0.0,
    seed: int | None = None,
    default_top: int = DEFAULT_TOP,
    max_top: int = MAX_TOP,
    page_retry_after: int = 0,
    api_versions: Sequence[str] = ("2025-10-15",),
    sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    entra: bool = False,
    now: Callable[[], float] = time.time,
    validate: bool | None = None,
    quota: tuple[int, float] | None = None,
    latency: float = 0.0,
    clock: Callable[[], float] = time.monotonic,
    advertise: str | None = None,
) -> Starlette:
    """Build the emulator.

    Args:
        models: the models to serve (each a ``CustomModel`` JSON object); default: the built-in data set.
        count: the size of the built-in data set (default 250).
        key: the subscription key it accepts, or two (KEY1 and KEY2); None turns key authentication off (as
            disableLocalAuth does). The admin routes (``/_emulator/*`` but health) ask for one of them too.
        tokens: the Microsoft Entra ID bearer tokens it accepts (``state.tokens`` changes them at run time).
        faults: faults to inject (also settable at run time through ``/_emulator/faults``).
        chaos: the share of models requests that meet a fault drawn at random (0 to 1; see ``chaos``), with
            `seed` for a reproducible sequence; ``POST /_emulator/chaos`` changes both at run time.
        default_top: the page size when ``top`` is absent; max_top: the largest ``top`` accepted.
        page_retry_after: the ``Retry-After`` seconds sent on every 200.
        api_versions: the api-versions accepted.
        sleep: how the latency fault waits (tests pass a recorder).
        entra: accept a bearer token that is a JWT whose ``aud`` is ``https://cognitiveservices.azure.com`` and whose
            ``exp`` has not passed (by `now`); its signature is not checked, as Azurite's ``--oauth basic``. An
            expired or wrong-audience token gets a 401 that says which. Opaque `tokens` keep working.
        validate: check every answer (but injected faults) against the spec before it is sent, as Prism does: a
            violation becomes a 500 whose ``Error`` names the JSON path, and is logged; the `models` given are
            checked first (ValueError naming the model and the path). Default: on when the environment variable
            ``SPEECH_MODELS_EMULATOR_VALIDATE`` is ``1`` (the project's own tests set it).
        quota: ``(requests, seconds)``: at most that many models requests in any window of that many seconds, for
            all keys and tokens together, as the service's quota per resource (``100, 10``); past it a 429 with
            ``Retry-After`` in whole seconds (see ``quota``). Default: none.
        latency: seconds added before every models answer (a network to stand for; ``faults`` can change it at run
            time, ``reset`` restores it).
        clock: the monotonic clock of the quota's window (tests pass a fake).
        advertise: the address clients reach the emulator by (``http://localhost:18765`` behind ``-p 18765:8765``),
            for the ``@nextLink`` and ``self`` links; default: the address of the socket it answers on.
    """
    app = Starlette(
        routes=[
            Route("/speechtotext/models", list_models, methods=["GET"]),
            Route("/openapi.json", openapi_json, methods=["GET"]),
            Route("/_emulator/health", health, methods=["GET"]),
            Route("/_emulator/faults", faults_route, methods=["POST", "DELETE"]),
            Route("/_emulator/requests", requests_route, methods=["GET", "DELETE"]),
            Route("/_emulator/keys", keys_route, methods=["POST"]),
            Route("/_emulator/reset", reset_route, methods=["POST"]),
            Route("/_emulator/chaos", chaos_route, methods=["GET", "POST", "DELETE"]),
            Route("/_emulator/quota", quota_route, methods=["GET", "POST", "DELETE"]),
        ],
        exception_handlers={HTTPException: http_error, Exception: server_error},
    )
    if validate is None:
        validate = os.environ.get(VALIDATE_ENV) == "1"
    validator = SpecValidator(load_spec()) if validate else None
    if validator is not None and models is not None:
        validator.check_models(models)
    faults = faults or Faults()
    if latency:
        faults.configure({"latency": latency})  # checked as the admin route checks it
    app.state.emulator = EmulatorState(
        build_models(count) if models is None else models,
        key=key,
        tokens=tokens,
        faults=faults,
        chaos=Chaos(rate=chaos, seed=seed),
        default_top=default_top,
        max_top=max_top,
        page_retry_after=page_retry_after,
        api_versions=api_versions,
        sleep=sleep,
        entra=entra,
        now=now,
        validator=validator,
        quota=Quota(quota, clock),
        advertise=advertise,
    )
    # /speechtotext/models/ is not the list: a 404 with an Error body, not a redirect with none.
    app.router.redirect_slashes = False
    app.add_middleware(RequestHeadChecks)
    app.add_middleware(RequestIds)  # outermost: a refused head gets an id too
    return app
