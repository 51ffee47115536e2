"""The client facade, ``SpeechToTextModels`` and ``AsyncSpeechToTextModels``: wires the endpoint, the key, the
retry transport and the page path together, and hands out ``ItemPaged`` listings."""

from __future__ import annotations

import copy
import inspect
import threading
import time
import urllib.request
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, Self

import httpx
from speech_models_client import AuthenticatedClient
from speech_models_client.models import CustomModel

from ._ahead import TaskWaves, ThreadWaves
from ._async_retry_transport import AsyncRetryTransport, async_sleep
from ._auth import AsyncTokenCredentialLike, KeyCredentialLike, TokenCredentialLike, auth_for
from ._config import DEFAULT_API_VERSION, KEY_HEADER, USER_AGENT
from ._endpoint import Endpoint
from ._errors import ConfigurationError
from ._page import AsyncPageSender, CallSettings, ListQuery, PageSender, afetch_page, fetch_page
from ._paging import AsyncItemPaged, ItemPaged, Page
from ._retry import RetryPolicy
from ._retry_transport import RetryTransport
from ._throttle import Throttle
from ._tls import DeferredTrustContext

__all__ = ["DEFAULT_API_VERSION", "AsyncSpeechToTextModels", "SpeechToTextModels"]


def _timeouts(timeout: float | httpx.Timeout) -> tuple[httpx.Timeout, float | None]:
    """httpx's per-operation timeouts and the total an attempt may take, from the `timeout` argument."""
    if isinstance(timeout, httpx.Timeout):
        return timeout, None
    if isinstance(timeout, int | float) and not isinstance(timeout, bool) and timeout > 0:
        return httpx.Timeout(timeout), float(timeout)
    raise ConfigurationError(f"timeout must be a positive number of seconds or an httpx.Timeout, not {timeout!r}")


def _policy(retry_policy: RetryPolicy | None, is_async: bool) -> RetryPolicy:
    if retry_policy is None:
        return RetryPolicy()
    if not isinstance(retry_policy, RetryPolicy):
        raise ConfigurationError(f"retry_policy must be a RetryPolicy, not {type(retry_policy).__name__}")
    if not is_async and inspect.iscoroutinefunction(retry_policy.on_retry):
        raise ConfigurationError("RetryPolicy.on_retry is a coroutine function: it needs AsyncSpeechToTextModels")
    return retry_policy


class _Base:
    """What both facades share: the validated configuration, the httpx client's arguments, listing arguments."""

    _owner = True  # closes the connection pool; a client from with_options() shares its original's
    _derived = False
    _honor_retry_after = False
    _is_async = False

    def __init__(
        self,
        endpoint: str | None,
        key: str | None,
        credential: str | KeyCredentialLike | TokenCredentialLike | AsyncTokenCredentialLike | None,
        api_version: str,
        timeout: float | httpx.Timeout,
        retry_policy: RetryPolicy | None,
        is_async: bool,
        now: Callable[[], float],
        tracing: bool,
        rate_limit: tuple[int, float] | None,
        clock: Callable[[], float],
    ) -> None:
        self._endpoint = Endpoint(endpoint)
        try:
            self._throttle = Throttle(clock, rate_limit)
        except ValueError as exc:
            raise ConfigurationError(str(exc)) from None
        self.retry_policy = _policy(retry_policy, is_async)
        self._auth = auth_for(
            key,
            credential,
            is_async=is_async,
            host=self._endpoint.url.host,
            now=now,
            token_wait=self.retry_policy.deadline,
        )
        if not api_version or not isinstance(api_version, str):
            raise ConfigurationError("api_version must be a non-empty string")
        self.api_version = api_version
        self._is_async = is_async
        self._tracing = tracing
        self._timeout, self._attempt_timeout = _timeouts(timeout)

    def with_options(
        self,
        *,
        timeout: float | httpx.Timeout | None = None,
        retry_policy: RetryPolicy | None = None,
        honor_retry_after: bool | None = None,
    ) -> Self:
        """A client for the same endpoint, credentials and connection pool, whose calls use these settings; this
        client's own settings are untouched. Closing it does nothing: the pool belongs to this client.

        ``client.with_options(timeout=5).list_models()``, as openai-python shapes it.
        """
        clone = copy.copy(self)
        clone._owner = False
        clone._derived = True
        if timeout is not None:
            clone._timeout, clone._attempt_timeout = _timeouts(timeout)
        if retry_policy is not None:
            clone.retry_policy = _policy(retry_policy, self._is_async)
        if honor_retry_after is not None:
            clone._honor_retry_after = bool(honor_retry_after)
        return clone

    def _query(
        self,
        filter: str | None,
        top: int | None,
        skip: int | None,
        timeout: float | httpx.Timeout | None,
        retry_policy: RetryPolicy | None,
    ) -> ListQuery:
        """The listing's query, with this call's settings when they differ from the ones the transport holds."""
        call = None
        if self._derived or timeout is not None or retry_policy is not None:
            http_timeout, attempt_timeout = (
                (self._timeout, self._attempt_timeout) if timeout is None else _timeouts(timeout)
            )
            policy = self.retry_policy if retry_policy is None else _policy(retry_policy, self._is_async)
            call = CallSettings(http_timeout, attempt_timeout, policy)
        return ListQuery(self._endpoint, self.api_version, filter, top, skip, call)

    def _retry_args(
        self, clock: Callable[[], float], now: Callable[[], float], transport: object, limits: httpx.Limits | None
    ) -> dict[str, Any]:
        """The retry transport's arguments but the wrapped transport and the sleep (sync or async); its connection
        slots are the pool's when the SDK knows them (its own transport, or limits given with yours)."""
        if limits is not None and not isinstance(limits, httpx.Limits):
            raise ConfigurationError(f"limits must be an httpx.Limits, not {type(limits).__name__}")
        known = limits if limits is not None else httpx.Limits() if transport is None else None
        return {
            "policy": self.retry_policy,
            "attempt_timeout": self._attempt_timeout,
            "clock": clock,
            "now": now,
            "tracing": self._tracing,
            "max_connections": None if known is None else known.max_connections,
            "throttle": self._throttle,
        }

    def _http_args(self) -> dict[str, Any]:
        """The httpx client's arguments but its transport."""
        return {
            "base_url": str(self._endpoint.url),
            "auth": self._auth,
            "headers": {"User-Agent": USER_AGENT},
            "timeout": self._timeout,
        }

    @property
    def endpoint(self) -> str:
        return str(self._endpoint)

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
        # The key travels through the httpx client's auth, so the generated client's own token, which its attrs
        # repr would print, stays empty.
        return AuthenticatedClient(base_url=str(self._endpoint.url), token="", prefix="", auth_header_name=KEY_HEADER)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(endpoint={self.endpoint!r}, api_version={self.api_version!r})"


class SpeechToTextModels(_Base):
    """Client for the custom-models list of the Speech to text API.

    Args:
        endpoint: the service endpoint, such as ``https://westus.api.cognitive.microsoft.com``; defaults to the
            ``AZURE_SPEECH_ENDPOINT`` environment variable. https is required, except on loopback hosts.
        key: the subscription key; defaults to ``AZURE_SPEECH_KEY``. It is sent only to the endpoint and never
            appears in a repr, a log record, an exception or a URL.
        credential: instead of `key`: a key string; a key credential (``AzureKeyCredential``: its ``key`` is read
            at every request, so ``update()`` rotates it); or a Microsoft Entra ID token credential
            (``DefaultAzureCredential``), which needs a custom subdomain endpoint
            (``https://<resource>.cognitiveservices.azure.com``).
        api_version: sent with every request, followed ``@nextLink`` URLs included.
        timeout: seconds each attempt may take in total, body included; an ``httpx.Timeout`` instead sets
            httpx's per-operation timeouts and no total.
        retry_policy: how to retry throttled and failed requests; see ``RetryPolicy``.
        transport: the httpx transport under the retry layer (for tests: ``httpx.MockTransport``).
        limits: the connection pool's limits (default ``httpx.Limits()``: 100 connections). Requests beyond its
            ``max_connections`` wait for a connection in the SDK, not in httpcore's pool, where a pool timeout can
            strand a connection for good (encode/httpcore#550). With your own `transport`, pass the limits you gave
            it, so the SDK knows how many connections it has.
        sleep: how retries and paging wait (``time.sleep``); tests pass a fake.
        clock: the monotonic clock that times attempts and the retry deadline (``time.monotonic``).
        now: the wall clock, in POSIX seconds, for HTTP-date waits and token expiry (``time.time``).
        tracing: OpenTelemetry spans and metrics for each page and each try, when opentelemetry-api is installed
            and the application configured it (the ``[otel]`` extra); ``False`` turns them off.
        rate_limit: ``(requests, seconds)``, such as ``(100, 10.0)``, the service's quota for model customization
            per resource: this client's requests are spaced so that no window of that many seconds holds more.
            Without it (the default) the client still shares one throttle state among its listings, threads and
            tasks: after a 429 with ``Retry-After`` every request waits it out, and listings with ``concurrency``
            fetch fewer pages at once, then more again as pages succeed.

    Use it as a context manager, or call ``close()``, to release its connections.
    """

    def __init__(
        self,
        endpoint: str | None = None,
        key: str | None = None,
        *,
        credential: str | KeyCredentialLike | TokenCredentialLike | None = None,
        api_version: str = DEFAULT_API_VERSION,
        timeout: float | httpx.Timeout = 30.0,
        retry_policy: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        limits: httpx.Limits | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], float] = time.time,
        tracing: bool = True,
        rate_limit: tuple[int, float] | None = None,
    ) -> None:
        super().__init__(
            endpoint,
            key,
            credential,
            api_version,
            timeout,
            retry_policy,
            is_async=False,
            now=now,
            tracing=tracing,
            rate_limit=rate_limit,
            clock=clock,
        )
        self._sleep = sleep
        self._waves = ThreadWaves(self._throttle)
        wrapped = transport or httpx.HTTPTransport(
            proxy=self._proxy(), verify=DeferredTrustContext(), limits=limits or httpx.Limits()
        )
        retrying = RetryTransport(wrapped, sleep=sleep, **self._retry_args(clock, now, transport, limits))
        self._http = httpx.Client(transport=retrying, **self._http_args())
        self._sender = PageSender(self._http, retrying, self._auth)
        self.generated_client = self._generated().set_httpx_client(self._http)
        """The generated ``AuthenticatedClient`` on this client's connection (key and retries; the generated
        functions return their own ``Response`` for every status)."""

    def list_models(
        self,
        *,
        filter: str | None = None,
        top: int | None = None,
        skip: int | None = None,
        max_items: int | None = None,
        continuation_token: str | None = None,
        honor_retry_after: bool | None = None,
        timeout: float | httpx.Timeout | None = None,
        retry_policy: RetryPolicy | None = None,
        concurrency: int = 1,
    ) -> ItemPaged[CustomModel]:
        """List the subscription's custom models, lazily, following ``@nextLink``.

        Args:
            filter: an OData filter, such as ``status eq 'Running'``.
            top: the page size the service is asked for.
            skip: how many models to skip first.
            max_items: stop after this many models without fetching further pages (the last page is cut).
            continuation_token: resume where a page (``Page.continuation_token``) or an error left off; the
                token carries the filter, page size and position, so `filter`, `top` and `skip` may be left out
                (given, they must agree with it).
            honor_retry_after: wait as long as each page's ``Retry-After`` asks before fetching the next one
                (at most ``retry_policy.max_wait``); default: off, or what ``with_options`` set.
            timeout: this listing's timeout, instead of the client's (same forms as the constructor's).
            retry_policy: this listing's retry policy, instead of the client's.
            concurrency: fetch pages in waves of up to this many at once (threads of their own; an anyio task
                group in the async client). A wave is whole before its first page is handed back, so nothing is
                fetched while the caller holds a page. The items and their order are those of the plain listing:
                pages are addressed by ``skip``/``top``, the shape of the service's ``@nextLink``, and each page's
                ``@nextLink`` is checked against the one fetched ahead (a service that pages otherwise is followed
                one page at a time, as the debug log says). Each page is retried under the same policy (a
                throttled service slows the listing down, it does not fail it); ``max_items`` bounds what is
                fetched; a wave's fetches past the last page stop at their next safe point. As with any listing,
                models created or deleted meanwhile shift the pages: a deletion while listing skips a model (the
                service pages by position). With ``honor_retry_after`` the pages come one at a time. Default 1; at
                most 64.

        Returns:
            An ``ItemPaged`` of ``CustomModel``: iterate it for models, or ``by_page()`` for pages.

        Raises:
            ConfigurationError: a bad argument, or a continuation token that is not this client's.
        """
        query = self._query(filter, top, skip, timeout, retry_policy)  # the token: checked by ItemPaged

        def get_page(token: str | None, stop: threading.Event | None = None) -> Page[CustomModel]:
            return fetch_page(self._sender, query.request(self._sender, token, stop), self._tracing)

        return ItemPaged(
            get_page,
            continuation_token=continuation_token,
            max_items=max_items,
            honor_retry_after=self._honor_retry_after if honor_retry_after is None else honor_retry_after,
            max_wait=query.max_wait(self.retry_policy),
            sleep=self._sleep,
            check_token=query.check_token,
            check_link=query.check_link,
            concurrency=concurrency,
            fetch_ahead=get_page,
            waves=self._waves,
        )

    def close(self) -> None:
        """Close the connections (a client from ``with_options`` leaves them to its original); pages being fetched
        ahead by a listing in another thread stop at their next safe point, and that listing raises
        ``ClientClosedError``."""
        if self._owner:
            self._waves.close()
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
        credential: str | KeyCredentialLike | TokenCredentialLike | AsyncTokenCredentialLike | None = None,
        api_version: str = DEFAULT_API_VERSION,
        timeout: float | httpx.Timeout = 30.0,
        retry_policy: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        limits: httpx.Limits | None = None,
        sleep: Callable[[float], Awaitable[None]] = async_sleep,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], float] = time.time,
        tracing: bool = True,
        rate_limit: tuple[int, float] | None = None,
    ) -> None:
        super().__init__(
            endpoint,
            key,
            credential,
            api_version,
            timeout,
            retry_policy,
            is_async=True,
            now=now,
            tracing=tracing,
            rate_limit=rate_limit,
            clock=clock,
        )
        self._sleep = sleep
        self._waves = TaskWaves(self._throttle)
        wrapped = transport or httpx.AsyncHTTPTransport(
            proxy=self._proxy(), verify=DeferredTrustContext(), limits=limits or httpx.Limits()
        )
        retrying = AsyncRetryTransport(wrapped, sleep=sleep, **self._retry_args(clock, now, transport, limits))
        self._http = httpx.AsyncClient(transport=retrying, **self._http_args())
        self._sender = AsyncPageSender(self._http, retrying, self._auth)
        self.generated_client = self._generated().set_async_httpx_client(self._http)
        """The generated ``AuthenticatedClient`` on this client's connection (key and retries)."""

    def list_models(
        self,
        *,
        filter: str | None = None,
        top: int | None = None,
        skip: int | None = None,
        max_items: int | None = None,
        continuation_token: str | None = None,
        honor_retry_after: bool | None = None,
        timeout: float | httpx.Timeout | None = None,
        retry_policy: RetryPolicy | None = None,
        concurrency: int = 1,
    ) -> AsyncItemPaged[CustomModel]:
        """List the subscription's custom models lazily; see ``SpeechToTextModels.list_models``."""
        query = self._query(filter, top, skip, timeout, retry_policy)  # the token: checked by ItemPaged

        async def get_page(token: str | None) -> Page[CustomModel]:
            return await afetch_page(self._sender, query.request(self._sender, token), self._tracing)

        return AsyncItemPaged(
            get_page,
            continuation_token=continuation_token,
            max_items=max_items,
            honor_retry_after=self._honor_retry_after if honor_retry_after is None else honor_retry_after,
            max_wait=query.max_wait(self.retry_policy),
            sleep=self._sleep,
            check_token=query.check_token,
            check_link=query.check_link,
            concurrency=concurrency,
            waves=self._waves,
        )

    async def aclose(self) -> None:
        """Close the connections (a client from ``with_options`` leaves them to its original); pages being fetched
        ahead by a listing in another task are cancelled, and that listing raises ``ClientClosedError``."""
        if self._owner:
            self._waves.close()
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
