"""Fetching pages ahead of the caller (``list_models(concurrency=N)``), in waves.

The links of the pages to come are read off an ``@nextLink`` of the service's shape (``skip`` and ``top`` in its
query). A wave fetches up to N of them at once (threads in the sync client, an anyio task group in the async one)
and is whole before its first page is handed back: between two waves nothing runs, so a listing that is stopped or
finished leaves no fetch behind, and a closed client none either. Within a wave, as soon as the pages in order
reach a failure, the last page, a short page or an ``@nextLink`` that is not the predicted one, the wave's other
fetches are stopped (threads at their next safe point, tasks cancelled) and dropped.

Every page handed back was fetched by the very link its predecessor's ``@nextLink`` names, so the items are those
of the sequential listing, in the same order.
"""

from __future__ import annotations

import contextvars
import logging
import re
import threading
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._retry import CallStopped
from ._throttle import Throttle

if TYPE_CHECKING:
    import anyio

__all__ = ["Links", "Plan", "TaskWaves", "ThreadWaves", "links_after"]

_LOGGER = logging.getLogger("speech_models.paging")

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


Outcome = Any  # a page, or the exception fetching it raised


class Plan:
    """What one walk fetches ahead, as decisions without I/O: the links of the next wave, and how much of a wave's
    outcomes is handed back. Once a wave ends on anything but a full page whose ``@nextLink`` is the predicted one,
    the plan is over and the walk follows links one at a time."""

    def __init__(self, links: Links, size: int) -> None:
        self._links = links
        self._size = size
        self._next = 0  # the index of the next link to fetch
        self.over = False

    @property
    def page_size(self) -> int:
        return self._links.top

    def wave(self, token: str | None, pages_left: int | None, width: Callable[[int], int]) -> list[str]:
        """The links of the next wave, the first of them `token`, as many as `width` allows of the listing's
        concurrency; none when the plan is over or `token` is not the predicted link."""
        if self.over or token != self._links.at(self._next):
            self.over = True
            return []
        size = width(self._size)
        count = size if pages_left is None else min(size, pages_left)
        return [self._links.at(self._next + k) for k in range(count)]

    def _ends(self, k: int, outcome: Outcome) -> bool:
        """Whether the k-th outcome of the wave ends the plan: a failure, the last page, a short page, or a page
        whose ``@nextLink`` is not the next link."""
        return (
            isinstance(outcome, BaseException)
            or outcome.continuation_token != self._links.at(self._next + k + 1)
            or len(outcome) < self._links.top
        )

    def kept(self, outcomes: Sequence[Outcome | None]) -> int | None:
        """How many of a wave's outcomes (in the order of its links; ``None``: not arrived) are handed back, once
        that is known: up to and including the first that ends the plan, or all of them. ``None``: not known yet."""
        for k, outcome in enumerate(outcomes):
            if outcome is None:
                return None
            if self._ends(k, outcome):
                return k + 1
        return len(outcomes)

    def handed_back(self, outcomes: Sequence[Outcome | None]) -> list[Outcome]:
        """The outcomes handed back once the wave's fetches have ended or been stopped: the decided prefix, cut
        before the first fetch that did not end (the walk then fetches that page itself)."""
        kept = self.kept(outcomes)
        prefix: list[Outcome] = []
        for outcome in outcomes[: len(outcomes) if kept is None else kept]:
            if outcome is None or isinstance(outcome, CallStopped):
                break
            prefix.append(outcome)
        if len(prefix) < len(outcomes) or self._ends(len(prefix) - 1, prefix[-1]):
            self.over = True
            last = prefix[-1] if prefix else None
            link = getattr(last, "continuation_token", None)
            if link is not None and link != self._links.at(self._next + len(prefix)):
                _LOGGER.debug("the @nextLink is not the one fetched ahead; following links one at a time from here")
        self._next += len(prefix)
        return prefix


class _Waves:
    """What both runners share: the client's throttle, whose window bounds each wave, and the stops of the waves
    under way, so that closing the client stops them."""

    def __init__(self, throttle: Throttle | None = None) -> None:
        self._throttle = throttle
        self._lock = threading.Lock()
        self._under_way: set[Callable[[], object]] = set()
        self._closed = False

    def width(self, concurrency: int) -> int:
        """How many pages the next wave of a listing asking for `concurrency` fetches (fewer after a 429)."""
        return concurrency if self._throttle is None else self._throttle.width(concurrency)

    def _track(self, stop: Callable[[], object]) -> None:
        with self._lock:
            if self._closed:
                stop()
            self._under_way.add(stop)

    def _untrack(self, stop: Callable[[], object]) -> None:
        with self._lock:
            self._under_way.discard(stop)

    def close(self) -> None:
        """Stop every wave under way (its fetches end at their next safe point; the walk then finds the client
        closed) and any wave started later."""
        with self._lock:
            self._closed = True
            stops = list(self._under_way)
        for stop in stops:
            stop()


class ThreadWaves(_Waves):
    """Runs a wave's fetches on threads of their own (daemon threads: a fetch that was stopped in the middle of a
    read never holds the interpreter's exit) and waits until the plan says what is handed back."""

    def run(self, fetch: Callable[[str, threading.Event], Outcome], links: list[str], plan: Plan) -> list[Outcome]:
        """The outcomes handed back of fetching `links` at once with `fetch(link, stop)`."""
        stop = threading.Event()
        outcomes: list[Outcome | None] = [None] * len(links)
        arrived = threading.Condition()

        def one(k: int, link: str) -> None:
            try:
                outcome: Outcome = fetch(link, stop)
            except Exception as exc:  # handed back in order, raised when the walk reaches it
                outcome = exc
            with arrived:
                outcomes[k] = outcome
                arrived.notify()

        def stopped() -> None:
            stop.set()
            with arrived:
                arrived.notify()

        self._track(stopped)
        try:
            for k, link in enumerate(links):
                context = contextvars.copy_context()  # the caller's trace context and the like, in the thread
                name = f"speech-models-page-{k}"
                threading.Thread(target=context.run, args=(one, k, link), name=name, daemon=True).start()
            with arrived:
                arrived.wait_for(lambda: stop.is_set() or plan.kept(outcomes) is not None)
                return plan.handed_back(outcomes)
        finally:
            stop.set()  # the fetches not handed back end at their next safe point
            self._untrack(stopped)


class TaskWaves(_Waves):
    """The async twin of ``ThreadWaves``: a wave's fetches are tasks of an anyio task group (asyncio or trio),
    and the group's scope is cancelled once the plan says what is handed back."""

    async def run(self, fetch: Callable[[str], Awaitable[Outcome]], links: list[str], plan: Plan) -> list[Outcome]:
        """The outcomes handed back of fetching `links` at once with `fetch(link)`."""
        import anyio

        outcomes: list[Outcome | None] = [None] * len(links)

        async def one(k: int, link: str, scope: anyio.CancelScope) -> None:
            try:
                outcomes[k] = await fetch(link)
            except Exception as exc:  # handed back in order, raised when the walk reaches it
                outcomes[k] = exc
            if plan.kept(outcomes) is not None:
                scope.cancel()

        stop: Callable[[], object] | None = None
        try:
            async with anyio.create_task_group() as group:
                stop = group.cancel_scope.cancel
                self._track(stop)
                for k, link in enumerate(links):
                    group.start_soon(one, k, link, group.cancel_scope)
        finally:
            if stop is not None:
                self._untrack(stop)
        return plan.handed_back(outcomes)
