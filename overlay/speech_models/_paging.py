"""Lazy paging in azure-core's shape: ``ItemPaged`` iterates items, ``by_page()`` iterates pages.

One callable drives it: ``get_page(token)`` fetches the page that `token` points at (``None``: the first page) and
returns a ``Page``. The token is opaque to callers (the ``@nextLink`` underneath). Only the current page is held.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Generic, TypeVar

from ._ahead import Plan, TaskWaves, ThreadWaves, links_after
from ._async_retry_transport import async_sleep
from ._errors import ConfigurationError, NextLinkError, SpeechModelsError

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


class _PagingState:
    """The state of one walk over pages, shared by the sync and async loops."""

    def __init__(
        self,
        token: str | None,
        max_items: int | None,
        honor_retry_after: bool,
        max_wait: float,
        check_link: Callable[[str], None] | None,
        concurrency: int,
    ) -> None:
        self.token = token  # the token of the page to fetch next: where a caller resumes after any error
        self.done = max_items == 0
        self._remaining = max_items
        self._seen: set[str] = set() if token is None else {token}
        self._check_link = check_link
        self._honor = honor_retry_after
        self._max_wait = max_wait
        self.wait = 0.0  # how long to pace before fetching the next page
        self._concurrency = concurrency
        self._first = True
        self.plan: Plan | None = None  # the pages fetched ahead, once the first page has shown their links
        self.ready: deque[Any] = deque()  # pages (or a failure) a wave fetched, handed back in order

    def pages_left(self, top: int) -> int | None:
        """How many pages of `top` items the items still wanted fill (``None``: no ``max_items``, all of them)."""
        return None if self._remaining is None else math.ceil(self._remaining / top)

    def advance(self, page: Page[T]) -> Page[T]:
        """Move past `page`, once its ``@nextLink`` is one that may be followed (not seen before in this walk, and
        to this listing: so a page is never handed back before its link is known to be good, and a caller resumes
        after an error at the page that was not handed back); return it, cut to what ``max_items`` leaves (a cut
        page is the last one)."""
        if self._remaining is not None and len(page.items) >= self._remaining:
            page = replace(page, items=page.items[: self._remaining], continuation_token=None)
        link = page.continuation_token
        if link is not None:
            if link in self._seen:
                raise NextLinkError(
                    "the service returned an @nextLink that was already followed in this iteration; "
                    "stopping instead of looping forever",
                    link=link,
                )
            if self._check_link is not None:
                self._check_link(link)
            self._seen.add(link)
        if self._remaining is not None:
            self._remaining -= len(page.items)
        self.token = link
        self.done = link is None
        self.wait = 0.0
        if self._honor and page.retry_after:
            self.wait = min(page.retry_after, self._max_wait)
            _LOGGER.debug("pacing: waiting %.3fs before the next page (Retry-After %gs)", self.wait, page.retry_after)
        if self._first:
            self._first = False
            self.plan = self._plan()
        return page

    def _plan(self) -> Plan | None:
        """The pages to fetch ahead after the walk's first page, when this listing runs ahead and the page's link
        allows it."""
        if self._concurrency == 1 or self.token is None:
            return None
        if self._honor:
            _LOGGER.debug("concurrency=%d is off: honor_retry_after paces the pages one at a time", self._concurrency)
            return None
        links = links_after(self.token)
        if links is None:
            _LOGGER.debug(
                "concurrency=%d is off: the service's @nextLink has no skip and top to fetch ahead by; following "
                "links one at a time",
                self._concurrency,
            )
            return None
        return Plan(links, self._concurrency)

    def wave(self, width: Callable[[int], int]) -> list[str]:
        """The links of the next wave to fetch ahead, when no page is ready and the plan goes on; `width` says
        how many of the listing's concurrency the client's throttle allows."""
        if self.ready or self.plan is None:
            return []
        return self.plan.wave(self.token, self.pages_left(self.plan.page_size), width)

    def take(self) -> Any:
        """The next page a wave fetched (raising the failure fetching it raised), or ``None`` when the walk
        fetches it itself."""
        if not self.ready:
            return None
        outcome = self.ready.popleft()
        if isinstance(outcome, BaseException):
            self.ready.clear()
            raise outcome
        return outcome


@dataclass(frozen=True)
class _Options:
    """What an ``ItemPaged`` or ``AsyncItemPaged`` was asked for, checked once."""

    continuation_token: str | None
    max_items: int | None
    honor_retry_after: bool
    max_wait: float
    check_token: Callable[[str], None] | None
    check_link: Callable[[str], None] | None
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

    def walk(self, continuation_token: str | None) -> _PagingState:
        if continuation_token is not None:
            self._check(continuation_token)
        else:
            continuation_token = self.continuation_token
        return _PagingState(
            continuation_token,
            self.max_items,
            self.honor_retry_after,
            self.max_wait,
            self.check_link,
            self.concurrency,
        )


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
        check_link: raises ``NextLinkError`` for an ``@nextLink`` that must not be followed (checked before its
            page is handed back).
        concurrency: up to this many pages fetched at once, in waves, when the service's ``@nextLink`` pages by
            ``skip`` and ``top`` (see ``_ahead``); 1: one page at a time.
        fetch_ahead: fetches a page ahead: ``fetch_ahead(link, stop)`` ends early once `stop` is set (default:
            `get_page`, which is not stopped early).
        waves: runs the waves (the client's, which its ``close()`` stops); by default each listing has its own.
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
        check_link: Callable[[str], None] | None = None,
        concurrency: int = 1,
        fetch_ahead: Callable[[str, threading.Event], Page[T]] | None = None,
        waves: ThreadWaves | None = None,
    ) -> None:
        self._get_page = get_page
        self._options = _Options(
            continuation_token, max_items, honor_retry_after, max_wait, check_token, check_link, concurrency
        )
        self._sleep = sleep
        self._fetch_ahead = fetch_ahead or (lambda link, stop: get_page(link))
        self._waves = waves or ThreadWaves()

    def by_page(self, continuation_token: str | None = None) -> Iterator[Page[T]]:
        """Iterate pages lazily, from `continuation_token` (default: where this iterable starts).

        Each page is fetched when the previous one has been consumed (with ``concurrency``, a wave of pages at
        once). With ``max_items``, the page that reaches it is cut to fit and is the last (its
        ``continuation_token`` is ``None``). Any ``SpeechModelsError`` raised carries a ``continuation_token`` that
        resumes exactly after the last page handed back. An ``@nextLink`` that was already followed, or that leads
        elsewhere, raises ``NextLinkError`` before its page is handed back. Each call starts a new walk.
        """
        walk = self._options.walk(continuation_token)
        while not walk.done:
            try:
                if walk.wait:
                    self._sleep(walk.wait)
                if links := walk.wave(self._waves.width):
                    assert walk.plan is not None
                    walk.ready.extend(self._waves.run(self._fetch_ahead, links, walk.plan))
                page = walk.take()
                if page is None:
                    page = self._get_page(walk.token)
                page = walk.advance(page)
            except SpeechModelsError as exc:
                exc.continuation_token = walk.token
                raise
            yield page

    def __iter__(self) -> Iterator[T]:
        for page in self.by_page():
            yield from page.items


class AsyncItemPaged(Generic[T]):
    """The async twin of ``ItemPaged``: ``async for`` over items, ``by_page()`` over pages; same arguments, but
    for `fetch_ahead`: a page fetched ahead is a task, stopped by cancelling it."""

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
        check_link: Callable[[str], None] | None = None,
        concurrency: int = 1,
        waves: TaskWaves | None = None,
    ) -> None:
        self._get_page = get_page
        self._options = _Options(
            continuation_token, max_items, honor_retry_after, max_wait, check_token, check_link, concurrency
        )
        self._sleep = sleep
        self._waves = waves or TaskWaves()

    async def by_page(self, continuation_token: str | None = None) -> AsyncIterator[Page[T]]:
        """Iterate pages lazily; see ``ItemPaged.by_page``."""
        walk = self._options.walk(continuation_token)
        while not walk.done:
            try:
                if walk.wait:
                    await self._sleep(walk.wait)
                if links := walk.wave(self._waves.width):
                    assert walk.plan is not None
                    walk.ready.extend(await self._waves.run(self._get_page, links, walk.plan))
                page = walk.take()
                if page is None:
                    page = await self._get_page(walk.token)
                page = walk.advance(page)
            except SpeechModelsError as exc:
                exc.continuation_token = walk.token
                raise
            yield page

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.by_page():
            for item in page.items:
                yield item
