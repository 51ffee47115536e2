"""One page of the list, the one path every page takes: build its request, send it through the retry transport
(which reads the whole body), raise its status error, parse it. ``fetch_page`` and ``afetch_page`` are the sync
and async halves of the same steps; everything but the I/O is shared."""

from __future__ import annotations

import contextlib
import json
import threading
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from speech_models_client.api.models import models_list_custom_models
from speech_models_client.errors import FieldValueError
from speech_models_client.models import CustomModel, PaginatedCustomModels

from ._config import CLIENT_REQUEST_ID_HEADER
from ._endpoint import Endpoint
from ._errors import (
    ClientClosedError,
    ConfigurationError,
    InvalidResponseError,
    NextLinkError,
    attempts_of,
    connection_error,
    redact,
    status_error,
)
from ._headers import parse_retry_after, request_id
from ._json import loads
from ._paging import Page
from ._retry import (
    ATTEMPT_TIMEOUT_EXTENSION,
    DECODE_EXTENSION,
    DECODED_EXTENSION,
    POLICY_EXTENSION,
    STOP_EXTENSION,
    RetryPolicy,
)
from ._telemetry import Operation

__all__ = ["AsyncPageSender", "CallSettings", "ListQuery", "PageSender", "afetch_page", "fetch_page", "parse_page"]


def _check_int(name: str, value: int | None, low: int) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < low):
        kind = "a positive integer" if low == 1 else "a non-negative integer"
        raise ConfigurationError(f"{name} must be {kind}, not {value!r}")


@dataclass(frozen=True)
class CallSettings:
    """A listing's own timeout and retry policy (``list_models(timeout=...)``, ``with_options``), carried to the
    shared retry transport on each request."""

    timeout: httpx.Timeout
    attempt_timeout: float | None
    retry_policy: RetryPolicy


@dataclass(frozen=True)
class ListQuery:
    """What one listing asks the service for, checked once; builds the request of every page it fetches."""

    endpoint: Endpoint
    api_version: str
    filter: str | None = None
    top: int | None = None
    skip: int | None = None
    call: CallSettings | None = None

    def max_wait(self, default: RetryPolicy) -> float:
        """The cap on a pacing wait: the listing's own policy's ``max_wait``, else the client's."""
        return (default if self.call is None else self.call.retry_policy).max_wait

    def _settle(self, request: httpx.Request, stop: threading.Event | None) -> httpx.Request:
        """The listing's options for the retry transport, on a request it just built."""
        request.extensions[DECODE_EXTENSION] = decode_body
        if stop is not None:
            request.extensions[STOP_EXTENSION] = stop
        call = self.call
        if call is not None:
            request.extensions["timeout"] = call.timeout.as_dict()
            request.extensions[POLICY_EXTENSION] = call.retry_policy
            request.extensions[ATTEMPT_TIMEOUT_EXTENSION] = call.attempt_timeout
        return request

    def __post_init__(self) -> None:
        if self.filter is not None and not isinstance(self.filter, str):
            raise ConfigurationError(f"filter must be a string, not {type(self.filter).__name__}")
        _check_int("top", self.top, 1)
        _check_int("skip", self.skip, 0)

    def request(
        self, sender: PageSender | AsyncPageSender, token: str | None, stop: threading.Event | None = None
    ) -> httpx.Request:
        """The request for the page `token` points at (``None``: the first page, built by the generated code); a
        page fetched ahead ends early once `stop` is set."""
        request_id = str(uuid.uuid4())
        http = sender.http
        try:
            if token is not None:
                url = self.endpoint.resolve_link(token, self.api_version)
                return self._settle(sender.link_request(url, request_id), stop)
            headers = {CLIENT_REQUEST_ID_HEADER: request_id}
            kwargs: dict[str, Any] = models_list_custom_models.request_kwargs(
                skip=self.skip, top=self.top, filter_=self.filter, api_version=self.api_version
            )
            return self._settle(http.build_request(**kwargs, headers=headers), stop)
        except httpx.InvalidURL as exc:  # httpx refuses URLs over 65,536 characters, for one
            raise ConfigurationError(f"cannot build the request URL: {exc} (is the filter too long?)") from exc

    def check_link(self, link: str) -> None:
        """Raise ``NextLinkError`` for an ``@nextLink`` that leads anywhere but this listing's operation."""
        self.endpoint.resolve_link(link, self.api_version)

    def check_token(self, token: str) -> None:
        """Refuse a continuation token that is not one of this listing's, or that contradicts its arguments."""
        try:
            url = self.endpoint.resolve_link(token, self.api_version)
        except NextLinkError as exc:
            raise ConfigurationError(
                f"continuation_token {token[:80]!r} is not one of this client's (a Page's or an error's "
                f"continuation_token for {self.endpoint}): {exc}"
            ) from None
        params = url.params
        for name, given in (("filter", self.filter), ("top", self.top), ("skip", self.skip)):
            if given is not None and params.get(name) != str(given):
                raise ConfigurationError(
                    f"{name}={given!r} contradicts the continuation token, which carries "
                    f"{name}={params.get(name)!r}: the token already says where to resume; drop {name}"
                )


def _invalid(response: httpx.Response, what: str) -> InvalidResponseError:
    """The error for a 2xx `response` whose body is not a page: it keeps the response (its request redacted) and
    the service's request id, for a support case."""
    redact(response.request)
    rid = request_id(response.headers)
    tail = f" (request id {rid})" if rid else ""
    attempts = attempts_of(response)
    if attempts is not None:
        tail += f" ({attempts.describe()})"
    error = InvalidResponseError(
        f"the {response.status_code} response is not a valid page of models: {what}{tail}", response=response
    )
    error.request_id = rid
    return error


_NOT_DECODED = object()  # a response the retry transport did not decode (not a page request, or it gave up)


def decode_body(content: bytes) -> Any:
    """A page's body decoded from JSON; ``ValueError`` when it does not decode (the retry transport retries it)."""
    try:
        return loads(content)
    except RecursionError:
        raise ValueError("its JSON is nested too deep to read") from None


def parse_page(response: httpx.Response) -> Page[CustomModel]:
    """The page in a 2xx `response`, or ``InvalidResponseError`` saying what is wrong with the body."""
    data = response.extensions.get(DECODED_EXTENSION, _NOT_DECODED)
    if data is _NOT_DECODED:
        try:
            data = decode_body(response.content)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise _invalid(response, f"not JSON: {exc}") from exc
        except ValueError as exc:
            raise _invalid(response, str(exc)) from None
    if not isinstance(data, dict):
        raise _invalid(response, f"a JSON {type(data).__name__}, not an object")
    if not isinstance(data.get("values"), list):
        what = "no 'values' array" if data.get("values") is None else f"'values' is a {type(data['values']).__name__}"
        raise _invalid(response, what)
    link = data.get("@nextLink")
    if link is not None and not isinstance(link, str):
        raise _invalid(response, f"'@nextLink' is a {type(link).__name__}, not a string; the listing cannot go on")
    try:
        items = PaginatedCustomModels.from_dict(data).values
    except FieldValueError as exc:  # an item is not an object; a model's own fields are checked when read
        raise _invalid(response, str(exc)) from exc
    headers = response.headers
    return Page(
        items or [], link or None, parse_retry_after(headers), response.status_code, request_id(headers), headers
    )


def _closed() -> ClientClosedError:
    return ClientClosedError(
        "the client is closed (its with block ended, or close() was called): iterate the listing inside the with "
        "block, or use a new client"
    )


def _checked(response: httpx.Response) -> Page[CustomModel]:
    if not response.is_success:
        raise status_error(response)
    return parse_page(response)


def _name_request(exc: httpx.TransportError, request: httpx.Request) -> None:
    """Leave on `exc` the request it failed (as ``httpx.Client.send`` does): the SDK's errors read the URL and the
    retry transport's record of attempts there."""
    try:
        _ = exc.request
    except RuntimeError:  # raised by httpx when the error carries no request yet
        exc.request = request


class _Sender:
    """What both senders share: the httpx client (its headers, timeout, closed state), its transport stack and its
    auth, and the request of a followed link built without the client's URL merging."""

    def __init__(self, http: httpx.Client | httpx.AsyncClient, auth: httpx.Auth) -> None:
        self.http = http
        self._auth = auth
        self._headers = list(http.headers.multi_items())
        self._timeout = http.timeout.as_dict()

    def link_request(self, url: httpx.URL, client_request_id: str) -> httpx.Request:
        """The request of an absolute link: the client's headers (User-Agent, Accept-Encoding and the like), its
        timeout, and this request's own id."""
        headers = [*self._headers, (CLIENT_REQUEST_ID_HEADER, client_request_id)]
        return httpx.Request("GET", url, headers=headers, extensions={"timeout": self._timeout})


class PageSender(_Sender):
    """Sends a page request straight through the client's transport stack (the retry transport over httpcore's
    pool) under the client's auth flow: the one place tries are made stays the retry transport, and what
    ``httpx.Client.send`` adds beyond that (cookie jars, redirects, event hooks), which a page request does not
    use, is not paid for on every page."""

    def __init__(self, http: httpx.Client, transport: httpx.BaseTransport, auth: httpx.Auth) -> None:
        super().__init__(http, auth)
        self._transport = transport

    def send(self, request: httpx.Request) -> httpx.Response:
        with contextlib.closing(self._auth.sync_auth_flow(request)) as flow:
            request = next(flow)
            while True:
                try:
                    response = self._transport.handle_request(request)
                except httpx.TransportError as exc:
                    _name_request(exc, request)
                    raise
                response.read()  # in memory already: the retry transport read it whole
                try:
                    request = flow.send(response)
                except StopIteration:
                    return response
                finally:
                    response.close()


class AsyncPageSender(_Sender):
    """The async twin of ``PageSender``."""

    def __init__(self, http: httpx.AsyncClient, transport: httpx.AsyncBaseTransport, auth: httpx.Auth) -> None:
        super().__init__(http, auth)
        self._transport = transport

    async def send(self, request: httpx.Request) -> httpx.Response:
        # closed however the send ends (a cancelled fetch ahead too): trio warns of an auth flow left to the collector
        async with contextlib.aclosing(self._auth.async_auth_flow(request)) as flow:
            request = await flow.__anext__()
            while True:
                try:
                    response = await self._transport.handle_async_request(request)
                except httpx.TransportError as exc:
                    _name_request(exc, request)
                    raise
                await response.aread()
                try:
                    request = await flow.asend(response)
                except StopAsyncIteration:
                    return response
                finally:
                    await response.aclose()


def fetch_page(sender: PageSender, request: httpx.Request, tracing: bool) -> Page[CustomModel]:
    """Send `request` (retried, body read, by the client's transport) and return its page, in an OpenTelemetry
    span of its own when `tracing` (and opentelemetry-api is installed)."""
    if sender.http.is_closed:
        raise _closed()
    with Operation(request, tracing) as operation:
        try:
            response = sender.send(request)
        except httpx.TransportError as exc:
            raise connection_error(exc) from exc
        operation.service_request_id(request_id(response.headers))
        return _checked(response)


async def afetch_page(sender: AsyncPageSender, request: httpx.Request, tracing: bool) -> Page[CustomModel]:
    """The async twin of ``fetch_page``."""
    if sender.http.is_closed:
        raise _closed()
    with Operation(request, tracing) as operation:
        try:
            response = await sender.send(request)
        except httpx.TransportError as exc:
            raise connection_error(exc) from exc
        operation.service_request_id(request_id(response.headers))
        return _checked(response)
