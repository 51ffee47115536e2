"""Fetching pages ahead of the caller (``list_models(concurrency=N)``): the links of the pages to come, read off an
``@nextLink`` of the service's shape (``skip`` and ``top`` in its query), and the window of up to N fetches in
flight, on threads (sync) or tasks (async), handed back strictly in order.

Every page handed back was fetched by the very link its predecessor's ``@nextLink`` names: ``take`` checks that,
and a page whose ``@nextLink`` is not the predicted one ends the window (the listing then follows links one at a
time), so the items are those of the sequential listing, in the same order.
"""

from __future__ import annotations

import contextvars
import re
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

if TYPE_CHECKING:  # asyncio is imported when an async window runs: a sync program does not load it
    import asyncio

__all__ = ["AsyncWindow", "Links", "Window", "WindowBase", "links_after"]

T = TypeVar("T")

_SKIP = re.compile(r"(?:(?<=[?&])|^)skip=(\d{1,10})(?=&|$)")
_TOP = re.compile(r"(?:(?<=[?&])|^)top=(\d{1,10})(?=&|$)")


@dataclass(frozen=True)
class Links:
    """The links of the pages from one ``@nextLink`` on: the same URL, ``skip`` moved on by ``top`` a page (every
    other byte of the link kept as the service wrote it)."""

    head: str  # the link up to the skip value
    tail: str  # the link after it
    skip: int
    top: int

    def at(self, k: int) -> str:
        """The link of the k-th page from the first (k = 0: the ``@nextLink`` itself)."""
        return f"{self.head}{self.skip + k * self.top}{self.tail}"


def links_after(link: str) -> Links | None:
    """The links to come after `link`, or ``None`` when its query has no single ``skip`` and ``top`` (a service
    that pages by an opaque cursor: those pages can only be fetched one after another)."""
    query_at = link.find("?")
    if query_at < 0 or "#" in link:
        return None
    query = link[query_at + 1 :]
    skips, tops = list(_SKIP.finditer(query)), _TOP.findall(query)
    if len(skips) != 1 or len(tops) != 1 or int(tops[0]) < 1:
        return None
    found = skips[0]
    start, end = query_at + 1 + found.start(1), query_at + 1 + found.end(1)
    return Links(link[:start], link[end:], int(found.group(1)), int(tops[0]))


class _Cancellable(Protocol):
    def cancel(self) -> bool: ...


H = TypeVar("H", bound=_Cancellable)


class WindowBase(ABC, Generic[T, H]):
    """What both windows share: the fetches in flight (`H`: a future or a task) in the order of their links, and how
    many pages may still be asked for."""

    def __init__(self, links: Links, size: int, max_pages: int | None) -> None:
        self._links = links
        self._size = size
        self._next = 0  # the index of the next link to ask for
        self._taken = 0  # how many pages were handed back
        self._max_pages = max_pages  # None: until the last page
        self._stopped = False
        self._in_flight: deque[tuple[str, H]] = deque()

    @property
    def page_size(self) -> int:
        return self._links.top

    def _next_link(self) -> str | None:
        """The link to ask for next, or ``None`` when the window is full, stopped, or has asked for enough."""
        if (
            self._stopped
            or len(self._in_flight) >= self._size
            or (self._max_pages is not None and self._next >= self._max_pages)
        ):
            return None
        self._next += 1
        return self._links.at(self._next - 1)

    def _pop(self, link: str) -> H | None:
        """The fetch of `link` when it is the one the window asked for next."""
        if not self._in_flight or self._in_flight[0][0] != link:
            return None
        self._taken += 1
        return self._in_flight.popleft()[1]

    def follows(self, next_link: str | None) -> bool:
        """Whether the ``@nextLink`` of the page last handed back is the link the window fetches next (or there is
        none: the listing ends)."""
        return next_link is None or next_link == self._links.at(self._taken)

    def stop_asking(self) -> None:
        """Ask for no further page (a short or last page came: the pages after it are past the end)."""
        self._stopped = True

    @abstractmethod
    def fill(self) -> None:
        """Ask for pages until the window is full (called after each page handed back has been checked, so that
        nothing is asked for past a last page)."""

    def close(self) -> None:
        """Drop every fetch not handed back: a thread's not started never starts (one under way finishes unread);
        a task is cancelled."""
        self._stopped = True
        while self._in_flight:
            self._in_flight.popleft()[1].cancel()


class Window(WindowBase[T, Future[T]]):
    """Up to `size` pages fetched on threads by `fetch(link)`, handed back in order by `take`."""

    def __init__(
        self, fetch: Callable[[str], T], links: Links, size: int, max_pages: int | None, executor: Executor
    ) -> None:
        super().__init__(links, size, max_pages)
        self._fetch = fetch
        self._executor = executor
        self.fill()

    def fill(self) -> None:
        while (link := self._next_link()) is not None:
            context = contextvars.copy_context()  # the caller's trace context and the like, in the worker
            self._in_flight.append((link, self._executor.submit(context.run, self._fetch, link)))

    def take(self, link: str) -> T | None:
        """The page `link` points at (raising what fetching it raised), or ``None`` when `link` is not the one the
        window fetched next (the caller then fetches it itself)."""
        future = self._pop(link)
        return None if future is None else future.result()


class AsyncWindow(WindowBase[T, "asyncio.Task[T]"]):
    """The async twin of ``Window``: the fetches are tasks."""

    def __init__(self, fetch: Callable[[str], Awaitable[T]], links: Links, size: int, max_pages: int | None) -> None:
        super().__init__(links, size, max_pages)
        self._fetch = fetch
        self.fill()

    async def _run(self, link: str) -> T:
        return await self._fetch(link)

    def fill(self) -> None:
        from asyncio import get_running_loop

        while (link := self._next_link()) is not None:
            task = get_running_loop().create_task(self._run(link))
            task.add_done_callback(_retrieve)
            self._in_flight.append((link, task))

    async def take(self, link: str) -> T | None:
        """The page `link` points at, or ``None``; see ``Window.take``."""
        task = self._pop(link)
        return None if task is None else await task


def _retrieve(task: asyncio.Task[Any]) -> None:
    """Mark a dropped task's outcome as seen, so that asyncio does not log it as never retrieved."""
    if not task.cancelled():
        task.exception()
