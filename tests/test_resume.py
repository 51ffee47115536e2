"""Every listing error carries a token that resumes exactly: what was handed back before the error, followed by a
listing resumed from its token, is every model once, in order. A page whose ``@nextLink`` is refused (a repeat,
another origin) is not handed back, and the token resumes at it; never at the refused link. Over loopback."""

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


def names(got: list[Any]) -> list[str]:
    return [str(model.display_name) for page in got for model in page]


@KINDS
def test_a_repeated_link_is_refused_before_its_page_is_handed_back(kind: str) -> None:
    """Page c links back to b: c is not handed back, and the error resumes at c, so nothing is seen twice."""
    with ScriptedServer([close_before_head()]) as server:
        b, c = f"{server.url}/speechtotext/models?page=b", f"{server.url}/speechtotext/models?page=c"
        server.play([answer(body=linked(0, b)), answer(body=linked(2, c)), answer(body=linked(4, b))])
        got, error = pages(kind, server.url)
        assert isinstance(error, sm.NextLinkError)
        assert error.link == b
        assert error.continuation_token == c  # the token of the page that was not handed back
        server.play([answer(body=page_body(2, None, 4))])  # the service mended: c is the last page
        again, second = pages(kind, server.url, continuation_token=error.continuation_token)
    assert second is None
    assert names(got) + names(again) == ["m0", "m1", "m2", "m3", "m4", "m5"]


@KINDS
def test_an_off_origin_link_is_refused_before_its_page_is_handed_back(kind: str) -> None:
    with ScriptedServer([close_before_head()]) as server:
        b = f"{server.url}/speechtotext/models?page=b"
        evil = "https://evil.example/speechtotext/models?page=c"
        server.play([answer(body=linked(0, b)), answer(body=linked(2, evil))])
        got, error = pages(kind, server.url)
        assert isinstance(error, sm.NextLinkError)
        assert error.link == evil
        assert error.continuation_token == b  # the page that carried the link, never the link itself
        server.play([answer(body=page_body(2, None, 2))])
        again, second = pages(kind, server.url, continuation_token=error.continuation_token)
    assert second is None
    assert names(got) + names(again) == ["m0", "m1", "m2", "m3"]
    assert [path for path in server.paths() if "evil" in path] == []


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
