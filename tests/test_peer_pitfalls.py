"""What peer SDKs got wrong (../shared/peer-pitfalls.md), each pinned by a test: request ids across retries,
request ids on pages, waits at the cap, server waits never shortened, a second iteration, OData quoting."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
import speech_models as sm
from speech_models_emulator import build_models, run_emulator

from tests.loopback import ScriptedServer, answer, close_mid_body, page_body
from tests.test_client import run
from tests.test_faults import make
from tests.test_retry import _send

KINDS = pytest.mark.parametrize("kind", ["sync", "async"])
CLIENT_ID = re.compile(r"x-ms-client-request-id: ([0-9a-f-]+)", re.I)


@KINDS
def test_the_client_request_id_stays_the_same_across_retries_of_one_call(kind: str) -> None:
    with ScriptedServer([]) as server:
        link = f"{server.url}/speechtotext/models?skip=2"
        server._script.extend([close_mid_body(), answer(body=page_body(next_link=link)), answer()])
        models = run(kind, make(kind, server.url))
        ids = [CLIENT_ID.search(head).group(1) for head in server.requests]  # type: ignore[union-attr]
    assert len(models) == 4
    assert ids[0] == ids[1]  # the retry of the first page
    assert ids[2] != ids[0]  # the next page is another call


@KINDS
def test_pages_and_errors_carry_the_request_ids(kind: str) -> None:
    headers = {"apim-request-id": "req-7"}
    with ScriptedServer([answer(headers=headers)]) as server:
        pages = run(kind, make(kind, server.url), "pages")
    assert pages[0].request_id == "req-7"
    refused = answer(400, b'{"code": "InvalidArgument"}', {"x-ms-request-id": "req-8"})
    with ScriptedServer([refused]) as server, pytest.raises(sm.BadRequestError) as info:
        run(kind, make(kind, server.url))
    assert info.value.request_id == "req-8"
    assert info.value.client_request_id is not None
    assert "request id req-8" in str(info.value)


@KINDS
def test_a_wait_exactly_at_the_cap_is_honoured_and_never_shortened(kind: str) -> None:
    response, _scripted, fake = _send(
        kind, [httpx.Response(429, headers={"Retry-After": "30"}), httpx.Response(200)], max_wait=30.0
    )
    assert response.status_code == 200
    assert fake.sleeps == [30.0]  # no jitter on a wait the server gave


@KINDS
def test_a_second_iteration_fetches_again(kind: str) -> None:
    with run_emulator(count=12) as emulator:
        api = make(kind, emulator.url, key=emulator.key)
        paged = api.list_models(top=5)

        if kind == "sync":
            with api:
                first, second = [m.display_name for m in paged], [m.display_name for m in paged]
        else:

            async def twice() -> tuple[list[str | None], list[str | None]]:
                async with api:
                    one = [m.display_name async for m in paged]
                    return one, [m.display_name async for m in paged]

            first, second = asyncio.run(twice())
    assert first == second == [m["displayName"] for m in build_models(12)]


def test_odata_string_doubles_quotes_and_finds_names_with_apostrophes() -> None:
    assert sm.odata_string("O'Brien's model") == "'O''Brien''s model'"
    assert sm.odata_string("") == "''"
    with pytest.raises(sm.ConfigurationError):
        sm.odata_string(5)  # type: ignore[arg-type]
    models = [
        {"displayName": "O'Brien's model", "locale": "en-US"},
        {"displayName": "O", "locale": "en-US"},
        {"displayName": "Brien", "locale": "en-US"},
    ]
    with run_emulator(models=models) as emulator, sm.SpeechToTextModels(emulator.url, emulator.key) as client:
        found = list(client.list_models(filter=f"displayName eq {sm.odata_string(models[0]['displayName'])}"))
    assert [m.display_name for m in found] == ["O'Brien's model"]
