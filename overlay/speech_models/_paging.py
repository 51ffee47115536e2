"""Lazy paging in azure-core's shape: ``ItemPaged`` iterates items, ``by_page()`` iterates pages.

One callable drives it: ``get_page(token)`` fetches the page that `token` points at (``None``: the first page) and
returns a ``Page``. The token is opaque to callers (the ``@nextLink`` underneath). Only the current page is held.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any, Generic, TypeVar

from ._ahead import AsyncWindow, Links, Window, WindowBase, links_after
from ._errors import ConfigurationError, NextLinkError, SpeechModelsError
from ._retry import async_sleep

__all__ = ["AsyncItemPaged", "ItemPaged", "Page"]

_LOGGER = logging.getLogger("speech_models.paging")

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of results.

    Attributes:
        items: the page's items.
        continuation_token: resumes iteration after this page (``by_page(continuation_token=...)``);
            ``None`` on the last page.
        retry_after: the wait, in seconds, the service asked for before the next request (it sends
            ``Retry-After`` on successful pages too), or ``None``.
        status_code: the HTTP status of the response.
        request_id: the service's id of the request (``apim-request-id`` and the like), for support cases.
        headers: every header of the response (case-insensitive), for what this SDK does not read itself: rate
            limit headers, or anything a newer service sends.
    """

    items: Sequence[T]
    continuation_token: str | None
    retry_after: float | None
    status_code: int
    request_id: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


class _Walk:
    """The state of one walk over pages, shared by the sync and async loops."""

    def __init__(self, token: str | None, max_items: int | None, honor_retry_after: bool, max_wait: float) -> None:
        self.token = token
        self._read_by = token  # the token that fetched the last page read whole (the start: where the walk began)
        self.done = max_items == 0
        self._remaining = max_items
        self._seen: set[str] = set()
        self._honor = honor_retry_after
        self._max_wait = max_wait
        self._wait = 0.0
        self.ahead_tried = False  # whether this walk has considered fetching ahead (once: at its first link)

    def next_wait(self) -> float:
        """Check the token about to be fetched, and return how long to pace before fetching it."""
        token = self.token
        if token is not None:
            if token in self._seen:
                raise NextLinkError(
                    "the service returned an @nextLink that was already followed in this iteration; "
                    "stopping instead of looping forever",
                    link=token,
                )
            self._seen.add(token)
        return self._wait

    def pages_left(self, links: Links) -> int | None:
        """How many pages of `links` the items still wanted fill (``None``: no ``max_items``, all of them)."""
        return None if self._remaining is None else math.ceil(self._remaining / links.top)

    def resume_token(self, error: SpeechModelsError) -> str | None:
        """Where a caller resumes after `error`: at the page that failed to arrive (the token that asked for it);
        but when the link itself is refused (another origin, a repeat), at the last page read whole, never at the
        refused link (``None``: the first page)."""
        return self._read_by if isinstance(error, NextLinkError) else self.token

    def advance(self, page: Page[T]) -> Page[T]:
        """Move past `page`; return it, cut to what ``max_items`` leaves (a cut page is the last one)."""
        self._read_by = self.token
        if self._remaining is not None:
            if len(page.items) >= self._remaining:
                page = replace(page, items=page.items[: self._remaining], continuation_token=None)
            self._remaining -= len(page.items)
        self.token = page.continuation_token
        self.done = page.continuation_token is None
        self._wait = 0.0
        if self._honor and page.retry_after:
            self._wait = min(page.retry_after, self._max_wait)
            _LOGGER.debug("pacing: waiting %.3fs before the next page (Retry-After %gs)", self._wait, page.retry_after)
        return page


@dataclass(frozen=True)
class _Options:
    """What an ``ItemPaged`` or ``AsyncItemPaged`` was asked for, checked once."""

    continuation_token: str | None
    max_items: int | None
    honor_retry_after: bool
    max_wait: float
    check_token: Callable[[str], None] | None
    concurrency: int = 1

    def __post_init__(self) -> None:
        if (
            isinstance(self.concurrency, bool)
            or not isinstance(self.concurrency, int)
            or not 1 <= self.concurrency <= 64
        ):
            raise ConfigurationError(f"concurrency must be an integer from 1 to 64, not {self.concurrency!r}")
        if self.max_items is not None and (
            isinstance(self.max_items, bool) or not isinstance(self.max_items, int) or self.max_items < 0
        ):
            raise ConfigurationError(f"max_items must be an integer, 0 or more, not {self.max_items!r}")
        if self.continuation_token is not None:
            self._check(self.continuation_token)

    def _check(self, token: str) -> None:
        if not isinstance(token, str) or not token:
            raise ConfigurationError(f"continuation_token must be a non-empty string, not {token!r}")
        if self.check_token is not None:
            self.check_token(token)

    def ahead(self, page: Page[T], walk: _Walk) -> Links | None:
        """The links to fetch ahead after `page`, when this listing runs ahead, has not done so yet in this walk (a
        window that ended stays ended), and the page's link allows it."""
        if self.concurrency == 1 or walk.ahead_tried or walk.done or page.continuation_token is None:
            return None
        walk.ahead_tried = True
        if self.honor_retry_after:
            _LOGGER.debug("concurrency=%d is off: honor_retry_after paces the pages one at a time", self.concurrency)
            return None
        links = links_after(page.continuation_token)
        if links is None:
            _LOGGER.debug(
                "concurrency=%d is off: the service's @nextLink has no skip and top to fetch ahead by; following "
                "links one at a time",
                self.concurrency,
            )
        return links

    def walk(self, continuation_token: str | None) -> _Walk:
        if continuation_token is not None:
            self._check(continuation_token)
        else:
            continuation_token = self.continuation_token
        return _Walk(continuation_token, self.max_items, self.honor_retry_after, self.max_wait)


W = TypeVar("W", bound=WindowBase[Any, Any])


def _check_window(window: W, page: Page[Any]) -> W | None:
    """The window, still valid after `page` came through it; or ``None`` (closed) when the page's ``@nextLink`` is
    not the link the window fetches next: from there the listing follows links one at a time."""
    if not window.follows(page.continuation_token):
        _LOGGER.debug("the @nextLink is not the one fetched ahead; following links one at a time from here")
        window.close()
        return None
    if page.continuation_token is None or len(page.items) < window.page_size:
        window.stop_asking()  # the last page, or a short one: what lies after it is past the end
    window.fill()
    return window


class ItemPaged(Generic[T]):
    """A lazy iterable of items across pages; ``by_page()`` gives the pages themselves.

    Args:
        get_page: fetches the page a token points at (``None``: the first page).
        continuation_token: where iteration starts (a token from a page or from an error); ``None``: the start.
        max_items: stop after this many items, without fetching further pages.
        honor_retry_after: before fetching the next page, wait as long as the last page's ``Retry-After`` asks
            (at most `max_wait` seconds). Off by default.
        max_wait: the cap on a pacing wait, in seconds (the client passes its retry policy's ``max_wait``).
        sleep: how to wait; tests pass a fake.
        check_token: raises ``ConfigurationError`` for a continuation token this listing cannot resume from.
        concurrency: up to this many pages fetched at once, ahead of the caller, when the service's ``@nextLink``
            pages by ``skip`` and ``top`` (see ``_ahead``); 1: one page at a time.
        executor: the threads that fetch ahead (the client's, which its ``close()`` waits for); by default each
            walk makes its own.
    """

    def __init__(
        self,
        get_page: Callable[[str | None], Page[T]],
        *,
        continuation_token: str | None = None,
        max_items: int | None = None,
        honor_retry_after: bool = False,
        max_wait: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        check_token: Callable[[str], None] | None = None,
        concurrency: int = 1,
        executor: Callable[[], Executor] | None = None,
    ) -> None:
        self._get_page = get_page
        self._options = _Options(continuation_token, max_items, honor_retry_after, max_wait, check_token, concurrency)
        self._sleep = sleep
        self._executor = executor

    def by_page(self, continuation_token: str | None = None) -> Iterator[Page[T]]:
        """Iterate pages lazily, from `continuation_token` (default: where this iterable starts).

        Each page is fetched when the previous one has been consumed. With ``max_items``, the page that reaches
        it is cut to fit and is the last (its ``continuation_token`` is ``None``). A failure to fetch a page raises
        a ``SpeechModelsError`` whose ``continuation_token`` resumes at that page. An ``@nextLink`` that was
        already followed raises ``NextLinkError``. Each call starts a new walk that fetches again.
        """
        options = self._options
        walk = options.walk(continuation_token)
        window: Window[Page[T]] | None = None
        own: ThreadPoolExecutor | None = None
        try:
            while not walk.done:
                try:
                    wait = walk.next_wait()
                    if wait:
                        self._sleep(wait)
                    page = None if window is None else window.take(walk.token or "")
                    if page is None:
                        page = self._get_page(walk.token)
                except SpeechModelsError as exc:
                    exc.continuation_token = walk.resume_token(exc)
                    raise
                page = walk.advance(page)
                if window is not None:
                    window = _check_window(window, page)
                elif (links := options.ahead(page, walk)) is not None:
                    if self._executor is not None:
                        executor: Executor = self._executor()
                    else:
                        executor = own = ThreadPoolExecutor(
                            options.concurrency, thread_name_prefix="speech-models-page"
                        )
                    window = Window(self._get_page, links, options.concurrency, walk.pages_left(links), executor)
                yield page
        finally:
            if window is not None:
                window.close()
            if own is not None:
                own.shutdown(wait=False, cancel_futures=True)

    def __iter__(self) -> Iterator[T]:
        for page in self.by_page():
            yield from page.items


class AsyncItemPaged(Generic[T]):
    """The async twin of ``ItemPaged``: ``async for`` over items, ``by_page()`` over pages; same arguments."""

    def __init__(
        self,
        get_page: Callable[[str | None], Awaitable[Page[T]]],
        *,
        continuation_token: str | None = None,
        max_items: int | None = None,
        honor_retry_after: bool = False,
        max_wait: float = 60.0,
        sleep: Callable[[float], Awaitable[None]] = async_sleep,
        check_token: Callable[[str], None] | None = None,
        concurrency: int = 1,
    ) -> None:
        self._get_page = get_page
        self._options = _Options(continuation_token, max_items, honor_retry_after, max_wait, check_token, concurrency)
        self._sleep = sleep

    async def by_page(self, continuation_token: str | None = None) -> AsyncIterator[Page[T]]:
        """Iterate pages lazily; see ``ItemPaged.by_page``."""
        options = self._options
        walk = options.walk(continuation_token)
        window: AsyncWindow[Page[T]] | None = None
        try:
            while not walk.done:
                try:
                    wait = walk.next_wait()
                    if wait:
                        await self._sleep(wait)
                    page = None if window is None else await window.take(walk.token or "")
                    if page is None:
                        page = await self._get_page(walk.token)
                except SpeechModelsError as exc:
                    exc.continuation_token = walk.resume_token(exc)
                    raise
                page = walk.advance(page)
                if window is not None:
                    window = _check_window(window, page)
                elif (links := options.ahead(page, walk)) is not None:
                    window = AsyncWindow(self._get_page, links, options.concurrency, walk.pages_left(links))
                yield page
        finally:
            if window is not None:
                window.close()

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.by_page():
            for item in page.items:
                yield item
