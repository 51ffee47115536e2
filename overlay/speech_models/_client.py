"""The client facade, ``SpeechToTextModels`` and ``AsyncSpeechToTextModels``: wires the generated client to the
endpoint, the key, the retry transport, typed errors and paging."""

from __future__ import annotations

import contextlib
import gc
import logging
import platform
import time
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from types import TracebackType
from typing import Any, Self

import anyio
import httpx
from speech_models_client import AuthenticatedClient
from speech_models_client.api.models import models_list_custom_models
from speech_models_client.models import CustomModel, PaginatedCustomModels
from speech_models_client.types import UNSET, Response, Unset

from ._config import Endpoint, SubscriptionKeyAuth
from ._errors import (
    KEY_HEADER,
    APIConnectionError,
    APITimeoutError,
    ConfigurationError,
    InvalidResponseError,
    redact,
    status_error,
)
from ._paging import AsyncItemPaged, ItemPaged, Page
from ._retry import AsyncRetryTransport, RetryPolicy, RetryTransport, parse_retry_after
from ._version import __version__

__all__ = ["DEFAULT_API_VERSION", "AsyncSpeechToTextModels", "SpeechToTextModels"]

DEFAULT_API_VERSION = "2025-10-15"
USER_AGENT = f"speech-models/{__version__} python/{platform.python_version()} httpx/{httpx.__version__}"
_LOGGER = logging.getLogger("speech_models")
_PARSE_ERRORS = (ValueError, TypeError, KeyError, AttributeError, RecursionError)


def _log_request(request: httpx.Request) -> None:
    _LOGGER.debug("%s %s", request.method, request.url)


def _raise_for_status(response: httpx.Response) -> None:
    if not response.is_success:
        response.read()
        raise status_error(response)


async def _alog_request(request: httpx.Request) -> None:
    _log_request(request)


async def _araise_for_status(response: httpx.Response) -> None:
    if not response.is_success:
        await response.aread()
        raise status_error(response)


def _check_paging_args(top: int | None, skip: int | None) -> None:
    if top is not None and (isinstance(top, bool) or not isinstance(top, int) or top < 1):
        raise ConfigurationError(f"top must be a positive integer, not {top!r}")
    if skip is not None and (isinstance(skip, bool) or not isinstance(skip, int) or skip < 0):
        raise ConfigurationError(f"skip must be a non-negative integer, not {skip!r}")


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a page is parsed.

    A page of 100 models allocates about 3,000 containers that all stay reachable, so the collections they
    trigger find nothing and cost about a third of the parsing time. Collection resumes right after.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _page(parsed: PaginatedCustomModels, status: int, headers: httpx.Headers) -> Page[CustomModel]:
    if isinstance(parsed.values, Unset):
        raise InvalidResponseError(f"the {status} response has no 'values' array")
    next_link = parsed.next_link if isinstance(parsed.next_link, str) and parsed.next_link else None
    return Page(parsed.values, next_link, parse_retry_after(headers), status)


def _first_page(response: Response[Any]) -> Page[CustomModel]:
    """The first page, which the generated operation has already parsed."""
    if not isinstance(response.parsed, PaginatedCustomModels):
        raise InvalidResponseError(f"the {response.status_code} response is not a page of models")
    return _page(response.parsed, response.status_code, httpx.Headers(response.headers))


def _linked_page(response: httpx.Response) -> Page[CustomModel]:
    """A page reached through ``@nextLink``, parsed by the generated ``from_dict``."""
    try:
        with _gc_paused():
            data = response.json()
            if not isinstance(data, dict):
                raise TypeError(f"expected a JSON object, got {type(data).__name__}")
            parsed = PaginatedCustomModels.from_dict(data)
    except _PARSE_ERRORS as exc:
        raise InvalidResponseError(
            f"the {response.status_code} response is not a valid page of models: {exc!s}"
        ) from exc
    return _page(parsed, response.status_code, response.headers)


@contextlib.contextmanager
def _page_errors() -> Iterator[None]:
    """Translate what fetching a page can raise below the SDK into the SDK's error tree."""
    try:
        yield
    except httpx.InvalidURL as exc:  # httpx refuses URLs over 65,536 characters, for one
        raise ConfigurationError(f"cannot build the request URL: {exc} (is the filter too long?)") from exc
    except httpx.TransportError as exc:
        raise _connection_error(exc) from exc
    except _PARSE_ERRORS as exc:  # the generated operation parses the first page itself
        raise InvalidResponseError(f"the response is not a valid page of models: {exc!s}") from exc


def _connection_error(exc: httpx.TransportError) -> APIConnectionError:
    try:
        request = exc.request
    except RuntimeError:  # raised by httpx when the error carries no request
        where = ""
    else:
        redact(request)  # the httpx error stays reachable as __cause__
        where = f" to {request.url}"
    cls = APITimeoutError if isinstance(exc, httpx.TimeoutException) else APIConnectionError
    return cls(f"the request{where} failed: {type(exc).__name__}: {exc}")


class _Base:
    """What both facades share: the validated configuration and the generated client's arguments."""

    def __init__(
        self,
        endpoint: str | None,
        key: str | None,
        api_version: str,
        timeout: float | httpx.Timeout,
        retry_policy: RetryPolicy | None,
    ) -> None:
        self._endpoint = Endpoint(endpoint)
        self._auth = SubscriptionKeyAuth(key)
        if not api_version or not isinstance(api_version, str):
            raise ConfigurationError("api_version must be a non-empty string")
        self.api_version = api_version
        self.retry_policy = retry_policy or RetryPolicy()
        self._timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)

    @property
    def endpoint(self) -> str:
        return str(self._endpoint)

    def _http_args(self) -> dict[str, Any]:
        return {
            "base_url": str(self._endpoint.url),
            "auth": self._auth,
            "headers": {"User-Agent": USER_AGENT},
            "timeout": self._timeout,
        }

    def _proxy(self) -> str | None:
        """The proxy the environment names for the endpoint (HTTPS_PROXY, NO_PROXY, ...).

        httpx reads these only when it builds its own transport; ours wraps another one, so it reads them here.
        """
        url = self._endpoint.url
        if urllib.request.proxy_bypass(url.host):
            return None
        proxies = urllib.request.getproxies()
        return proxies.get(url.scheme) or proxies.get("all")

    def _generated(self) -> AuthenticatedClient:
        # The key travels through the httpx client's auth (set below), so the generated client's own token,
        # which its attrs repr would print, stays empty.
        return AuthenticatedClient(base_url=str(self._endpoint.url), token="", prefix="", auth_header_name=KEY_HEADER)

    def _query(self, filter_: str | None, top: int | None, skip: int | None) -> dict[str, Any]:
        """The generated operation's arguments for the first page (checked here: a bad one is caller misuse)."""
        _check_paging_args(top, skip)
        return {
            "skip": UNSET if skip is None else skip,
            "top": UNSET if top is None else top,
            "filter_": UNSET if filter_ is None else filter_,
            "api_version": self.api_version,
        }

    def _paging(self, continuation_token: str | None, max_items: int | None, honor: bool) -> dict[str, Any]:
        return {
            "continuation_token": continuation_token,
            "max_items": max_items,
            "honor_retry_after": honor,
            "max_wait": self.retry_policy.max_wait,
        }

    def __repr__(self) -> str:
        return f"{type(self).__name__}(endpoint={self.endpoint!r}, api_version={self.api_version!r})"


class SpeechToTextModels(_Base):
    """Client for the custom-models list of the Speech to text API.

    Args:
        endpoint: the service endpoint, such as ``https://westus.api.cognitive.microsoft.com``; defaults to the
            ``AZURE_SPEECH_ENDPOINT`` environment variable. https is required, except on loopback hosts.
        key: the subscription key; defaults to ``AZURE_SPEECH_KEY``. It is sent only to the endpoint and never
            appears in a repr, a log record, an exception or a URL.
        api_version: sent with every request, followed ``@nextLink`` URLs included.
        timeout: seconds (or an ``httpx.Timeout``) for each attempt.
        retry_policy: how to retry throttled and failed requests; see ``RetryPolicy``.
        transport: the httpx transport under the retry layer (for tests: ``httpx.MockTransport``).
        sleep: how retries and paging wait (``time.sleep``); tests pass a fake.

    Use it as a context manager, or call ``close()``, to release its connections.
    """

    def __init__(
        self,
        endpoint: str | None = None,
        key: str | None = None,
        *,
        api_version: str = DEFAULT_API_VERSION,
        timeout: float | httpx.Timeout = 30.0,
        retry_policy: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(endpoint, key, api_version, timeout, retry_policy)
        self._sleep = sleep
        self._http = httpx.Client(
            **self._http_args(),
            transport=RetryTransport(
                transport or httpx.HTTPTransport(proxy=self._proxy()), policy=self.retry_policy, sleep=sleep
            ),
            event_hooks={"request": [_log_request], "response": [_raise_for_status]},
        )
        self.generated_client = self._generated().set_httpx_client(self._http)
        """The generated ``AuthenticatedClient`` on this client's connection (key, retries, typed errors)."""

    def list_models(
        self,
        *,
        filter: str | None = None,
        top: int | None = None,
        skip: int | None = None,
        max_items: int | None = None,
        continuation_token: str | None = None,
        honor_retry_after: bool = False,
    ) -> ItemPaged[CustomModel]:
        """List the subscription's custom models, lazily, following ``@nextLink``.

        Args:
            filter: an OData filter, such as ``status eq 'Running'``.
            top: the page size the service is asked for.
            skip: how many models to skip first.
            max_items: stop after this many models without fetching further pages.
            continuation_token: resume where a page (``Page.continuation_token``) or an error left off; the
                token carries the filter, page size and position, so the other arguments are then unused.
            honor_retry_after: wait as long as each page's ``Retry-After`` asks before fetching the next one
                (at most ``retry_policy.max_wait``).

        Returns:
            An ``ItemPaged`` of ``CustomModel``: iterate it for models, or ``by_page()`` for pages.

        Raises:
            ConfigurationError: `top` or `skip` is not a valid integer.
        """
        query = self._query(filter, top, skip)

        def get_page(token: str | None) -> Page[CustomModel]:
            with _page_errors():
                if token is None:
                    return _first_page(models_list_custom_models.sync_detailed(client=self.generated_client, **query))
                response = self._http.get(self._endpoint.resolve_link(token, self.api_version))
            return _linked_page(response)

        paging = self._paging(continuation_token, max_items, honor_retry_after)
        return ItemPaged(get_page, sleep=self._sleep, **paging)

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class AsyncSpeechToTextModels(_Base):
    """The async twin of ``SpeechToTextModels``: the same arguments (an async `transport` and `sleep`), the same
    ``list_models`` returning an ``AsyncItemPaged`` for ``async for``; use ``async with`` or ``await aclose()``."""

    def __init__(
        self,
        endpoint: str | None = None,
        key: str | None = None,
        *,
        api_version: str = DEFAULT_API_VERSION,
        timeout: float | httpx.Timeout = 30.0,
        retry_policy: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    ) -> None:
        super().__init__(endpoint, key, api_version, timeout, retry_policy)
        self._sleep = sleep
        self._http = httpx.AsyncClient(
            **self._http_args(),
            transport=AsyncRetryTransport(
                transport or httpx.AsyncHTTPTransport(proxy=self._proxy()), policy=self.retry_policy, sleep=sleep
            ),
            event_hooks={"request": [_alog_request], "response": [_araise_for_status]},
        )
        self.generated_client = self._generated().set_async_httpx_client(self._http)
        """The generated ``AuthenticatedClient`` on this client's connection (key, retries, typed errors)."""

    def list_models(
        self,
        *,
        filter: str | None = None,
        top: int | None = None,
        skip: int | None = None,
        max_items: int | None = None,
        continuation_token: str | None = None,
        honor_retry_after: bool = False,
    ) -> AsyncItemPaged[CustomModel]:
        """List the subscription's custom models lazily; see ``SpeechToTextModels.list_models``."""
        query = self._query(filter, top, skip)

        async def get_page(token: str | None) -> Page[CustomModel]:
            with _page_errors():
                if token is None:
                    return _first_page(
                        await models_list_custom_models.asyncio_detailed(client=self.generated_client, **query)
                    )
                response = await self._http.get(self._endpoint.resolve_link(token, self.api_version))
            return _linked_page(response)

        paging = self._paging(continuation_token, max_items, honor_retry_after)
        return AsyncItemPaged(get_page, sleep=self._sleep, **paging)

    async def aclose(self) -> None:
        """Close the connections."""
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
