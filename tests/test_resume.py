"""Every listing error carries a token that resumes: at the page that failed to arrive, or, when a link itself is
refused (a repeat, another origin), at the last page read whole; never the refused link. Over loopback."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import speech_models as sm

from tests.loopback import ScriptedServer, answer, close_before_head, page_body

KINDS = pytest.mark.parametrize("kind", ["sync", "async"])


def pages(kind: str, url: str, continuation_token: str | None = None) -> tuple[list[Any], BaseException | None]:
    """The pages read before the listing failed, and its error."""
    got: list[Any] = []
    if kind == "sync":
        with sm.SpeechToTextModels(url, "k") as api:
            try:
                for page in api.list_models(continuation_token=continuation_token).by_page():
                    got.append(page)
            except sm.SpeechModelsError as exc:
                return got, exc
        return got, None

    async def go() -> tuple[list[Any], BaseException | None]:
        async with sm.AsyncSpeechToTextModels(url, "k") as api:
            try:
                async for page in api.list_models(continuation_token=continuation_token).by_page():
                    got.append(page)
            except sm.SpeechModelsError as exc:
                return got, exc
        return got, None

    return asyncio.run(go())


def linked(start: int, link: str) -> bytes:
    return page_body(2, link, start)


@KINDS
def test_a_repeated_link_resumes_at_the_last_page_read_whole(kind: str) -> None:
    with ScriptedServer([close_before_head()]) as server:
        b, c = f"{server.url}/speechtotext/models?page=b", f"{server.url}/speechtotext/models?page=c"
        server.play([answer(body=linked(0, b)), answer(body=linked(2, c)), answer(body=linked(4, b))])
        got, error = pages(kind, server.url)
        assert isinstance(error, sm.NextLinkError)
        assert len(got) == 3
        assert error.continuation_token == c  # the token that fetched the third page, not None (the start)
        again, second = pages(kind, server.url, continuation_token=error.continuation_token)
    assert isinstance(second, sm.NextLinkError)  # resumed at that page: the server repeats itself again
    assert [m.display_name for m in again[0]] == ["m4", "m5"]


@KINDS
def test_an_off_origin_link_resumes_at_the_page_that_carried_it(kind: str) -> None:
    with ScriptedServer([close_before_head()]) as server:
        b = f"{server.url}/speechtotext/models?page=b"
        evil = "https://evil.example/speechtotext/models?page=c"
        server.play([answer(body=linked(0, b)), answer(body=linked(2, evil))])
        got, error = pages(kind, server.url)
        assert isinstance(error, sm.NextLinkError)
        assert error.link == evil
        assert error.continuation_token == b
        again, _ = pages(kind, server.url, continuation_token=error.continuation_token)  # a token this client takes
    assert [m.display_name for m in again[0]] == ["m2", "m3"]
    assert len(got) == 2


@KINDS
def test_a_failed_page_resumes_at_that_page(kind: str) -> None:
    with ScriptedServer([close_before_head()]) as server:
        b = f"{server.url}/speechtotext/models?page=b"
        broken = json.dumps({"values": "not a list"}).encode()
        server.play([answer(body=linked(0, b)), answer(body=broken), answer(body=page_body(2, None, 2))])
        got, error = pages(kind, server.url)
        assert isinstance(error, sm.InvalidResponseError)
        assert error.continuation_token == b
        rest, none = pages(kind, server.url, continuation_token=error.continuation_token)
    assert none is None
    names = [m.display_name for page in got + rest for m in page]
    assert names == ["m0", "m1", "m2", "m3"]
