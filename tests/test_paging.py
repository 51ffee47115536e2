"""ItemPaged and AsyncItemPaged on scripted pages: laziness, limits, resume, loop detection and pacing."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from speech_models import AsyncItemPaged, ItemPaged, NextLinkError, Page, SpeechModelsError

KINDS = pytest.mark.parametrize("kind", ["sync", "async"])


class Book:
    """Pages keyed by token: None -> "p2" -> "p3" -> end, three items each; records every fetch."""

    def __init__(self, pages: dict[str | None, Page[int]] | None = None, fail_at: str = "nowhere") -> None:
        self.pages = pages or {
            None: Page([1, 2, 3], "p2", None, 200),
            "p2": Page([4, 5, 6], "p3", 2.0, 200),
            "p3": Page([7, 8, 9], None, 1.0, 200),
        }
        self.fail_at = fail_at
        self.fetched: list[str | None] = []

    def get(self, token: str | None) -> Page[int]:
        self.fetched.append(token)
        if token == self.fail_at:
            raise SpeechModelsError(f"failed at {token}")
        return self.pages[token]

    async def aget(self, token: str | None) -> Page[int]:
        return self.get(token)


def paged(kind: str, book: Book, sleeps: list[float] | None = None, **kwargs: Any) -> Any:
    record = sleeps if sleeps is not None else []
    if kind == "sync":
        return ItemPaged(book.get, sleep=record.append, **kwargs)

    async def asleep(seconds: float) -> None:
        record.append(seconds)

    return AsyncItemPaged(book.aget, sleep=asleep, **kwargs)


def items(kind: str, pager: Any, take: int | None = None) -> list[int]:
    if kind == "sync":
        out = []
        for item in pager:
            out.append(item)
            if take is not None and len(out) == take:
                break
        return out

    async def go() -> list[int]:
        out = []
        async for item in pager:
            out.append(item)
            if take is not None and len(out) == take:
                break
        return out

    return asyncio.run(go())


def pages(kind: str, pager: Any, token: str | None = None) -> list[Page[int]]:
    if kind == "sync":
        return list(pager.by_page(token))

    async def go() -> list[Page[int]]:
        return [page async for page in pager.by_page(token)]

    return asyncio.run(go())


def raises(kind: str, call: Callable[[], object], error: type[Exception]) -> Any:
    with pytest.raises(error) as info:
        call()
    return info.value


@KINDS
def test_items_span_all_pages(kind: str) -> None:
    book = Book()
    assert items(kind, paged(kind, book)) == [1, 2, 3, 4, 5, 6, 7, 8, 9]
    assert book.fetched == [None, "p2", "p3"]


@KINDS
def test_iteration_is_lazy(kind: str) -> None:
    book = Book()
    pager = paged(kind, book)
    assert book.fetched == []
    assert items(kind, pager, take=2) == [1, 2]
    assert book.fetched == [None]


@KINDS
@pytest.mark.parametrize(
    ("max_items", "fetched"), [(0, []), (2, [None]), (3, [None]), (4, [None, "p2"]), (50, [None, "p2", "p3"])]
)
def test_max_items_stops_without_fetching_more(kind: str, max_items: int, fetched: list[str | None]) -> None:
    book = Book()
    got = items(kind, paged(kind, book, max_items=max_items))
    assert got == list(range(1, 10))[:max_items]
    assert book.fetched == fetched


@KINDS
def test_pages_expose_items_token_retry_after_and_status(kind: str) -> None:
    got = pages(kind, paged(kind, Book()))
    assert [list(p) for p in got] == [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
    assert [p.continuation_token for p in got] == ["p2", "p3", None]
    assert [p.retry_after for p in got] == [None, 2.0, 1.0]
    assert [p.status_code for p in got] == [200, 200, 200]


@KINDS
def test_resume_from_a_continuation_token(kind: str) -> None:
    book = Book()
    assert items(kind, paged(kind, book, continuation_token="p2")) == [4, 5, 6, 7, 8, 9]
    assert book.fetched == ["p2", "p3"]
    book = Book()
    assert [list(p) for p in pages(kind, paged(kind, book), token="p3")] == [[7, 8, 9]]


@KINDS
def test_a_failed_page_carries_its_token_and_resuming_there_continues(kind: str) -> None:
    book = Book(fail_at="p2")
    seen: list[int] = []
    pager = paged(kind, book)

    def consume() -> None:
        if kind == "sync":
            for item in pager:
                seen.append(item)
        else:

            async def go() -> None:
                async for item in pager:
                    seen.append(item)

            asyncio.run(go())

    error = raises(kind, consume, SpeechModelsError)
    assert seen == [1, 2, 3]
    assert error.continuation_token == "p2"
    book.fail_at = "nowhere"
    assert items(kind, paged(kind, book, continuation_token=error.continuation_token)) == [4, 5, 6, 7, 8, 9]


@KINDS
def test_a_failed_first_page_has_no_token(kind: str) -> None:
    book = Book()

    def fail(token: str | None) -> Page[int]:
        error = SpeechModelsError("down")
        error.continuation_token = "stale"  # a token left by an earlier walk must not survive
        raise error

    book.get = fail  # type: ignore[method-assign]
    error = raises(kind, lambda: items(kind, paged(kind, book)), SpeechModelsError)
    assert error.continuation_token is None


@KINDS
def test_a_repeated_next_link_stops_with_a_clear_error(kind: str) -> None:
    book = Book(
        pages={
            None: Page([1], "a", None, 200),
            "a": Page([2], "b", None, 200),
            "b": Page([3], "a", None, 200),
        }
    )
    error = raises(kind, lambda: items(kind, paged(kind, book)), NextLinkError)
    assert "already followed" in str(error)
    assert error.link == "a"
    assert book.fetched == [None, "a", "b"]


@KINDS
def test_a_page_pointing_at_itself_is_a_loop(kind: str) -> None:
    book = Book(pages={"x": Page([1], "x", None, 200)})
    raises(kind, lambda: items(kind, paged(kind, book, continuation_token="x")), NextLinkError)
    assert book.fetched == ["x"]


@KINDS
def test_pacing_is_off_by_default(kind: str) -> None:
    sleeps: list[float] = []
    items(kind, paged(kind, Book(), sleeps))
    assert sleeps == []


@KINDS
def test_pacing_waits_each_pages_retry_after_before_the_next_fetch(kind: str) -> None:
    sleeps: list[float] = []
    items(kind, paged(kind, Book(), sleeps, honor_retry_after=True))
    assert sleeps == [2.0]  # page 2 asked for 2s before page 3; page 3 is the last, so no wait after it


@KINDS
def test_pacing_is_capped(kind: str) -> None:
    sleeps: list[float] = []
    book = Book(pages={None: Page([1], "n", 500.0, 200), "n": Page([2], None, None, 200)})
    items(kind, paged(kind, book, sleeps, honor_retry_after=True, max_wait=5.0))
    assert sleeps == [5.0]


def test_negative_max_items_is_rejected() -> None:
    with pytest.raises(ValueError, match="max_items"):
        ItemPaged(Book().get, max_items=-1)
