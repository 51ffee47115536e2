"""Chaos in the emulator, through the SDK over real sockets: each fault kind, one-shot or drawn at random, leaves
every listing exact or ends it with an error the README names; the same seed replays the same faults."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import speech_models as sm
from speech_models_emulator import run_emulator
from speech_models_emulator.chaos import KINDS, Chaos
from speech_models_emulator.server import RunningEmulator

from tests.fakes import FakeClock

COUNT = 37
TYPED = (sm.APIConnectionError, sm.APIStatusError)  # what a listing may end with when retries give up


@pytest.fixture(params=["h11", "httptools"])
def emulator(request: pytest.FixtureRequest) -> Iterator[RunningEmulator]:
    """The emulator on each HTTP parser: the socket-level kinds (reset, midbody, drip, stall) go through it."""
    with run_emulator(count=COUNT, http=request.param) as running:
        yield running


def names(emulator: RunningEmulator, kind: str = "sync", **list_kwargs: Any) -> list[str]:
    clock = FakeClock()  # the SDK's waits between tries are not really waited
    if kind == "sync":
        with sm.SpeechToTextModels(emulator.url, emulator.key, sleep=clock.sleep) as client:
            return [m.display_name or "" for m in client.list_models(**list_kwargs)]

    async def go() -> list[str]:
        async with sm.AsyncSpeechToTextModels(emulator.url, emulator.key, sleep=clock.asleep) as client:
            return [m.display_name or "" async for m in client.list_models(**list_kwargs)]

    return asyncio.run(go())


@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize("fault", KINDS)
def test_each_kind_once_leaves_the_listing_exact(emulator: RunningEmulator, fault: str, kind: str) -> None:
    expected = names(emulator, top=10)
    emulator.state.journal.clear()
    response = httpx.post(
        f"{emulator.url}/_emulator/faults", json={"kind": fault, "count": 2}, headers=emulator.admin_headers
    )
    assert response.status_code == 200
    assert names(emulator, kind, top=10) == expected
    assert [entry["fault"] for entry in emulator.requests][:2] == [fault, fault]


def test_the_same_seed_replays_the_same_faults(emulator: RunningEmulator) -> None:
    def run() -> list[tuple[int | None, str | None]]:
        emulator.state.journal.clear()
        body = {"rate": 0.5, "seed": 1234, "kinds": {"stall": 0, "drip": 0}}
        httpx.post(f"{emulator.url}/_emulator/chaos", json=body, headers=emulator.admin_headers).raise_for_status()
        for skip in range(0, 40):
            with contextlib.suppress(httpx.TransportError):  # reset and midbody
                httpx.get(
                    f"{emulator.url}/speechtotext/models?skip={skip}&top=1&api-version=2025-10-15",
                    headers=emulator.admin_headers,
                ).read()
        return [(entry["status"], entry["fault"]) for entry in emulator.requests]

    first, second = run(), run()
    assert first == second
    faults = {fault for _, fault in first}
    assert {"reset", "midbody", "throttle", "unavailable", None} <= faults  # 40 draws at 0.5 meet every kind


def test_draws_do_not_depend_on_the_outcome() -> None:
    """Each draw takes the same numbers from the generator, hit or miss: a replay stays in step."""
    one, two = Chaos(rate=0.3, seed=5), Chaos(rate=0.3, seed=5)
    assert [one.draw(True) for _ in range(200)] == [two.draw(True) for _ in range(200)]
    in_process = Chaos(rate=1.0, seed=5)
    drawn = [in_process.draw(False) for _ in range(100)]
    assert all(fault is not None and fault.kind not in ("reset", "midbody") for fault in drawn)


@pytest.mark.speech_emulator(count=COUNT)
def test_listings_under_chaos_resume_to_every_model_once_in_order(speech_emulator: RunningEmulator) -> None:
    """Chaos set through the admin API (stalls and drips left out to keep the test short), few retries: some
    listings end in a typed error; each is resumed from its token until it ends, and what was yielded before each
    error, followed by the rest, is every model once, in the service's order."""
    expected = [m["displayName"] for m in _all(speech_emulator)]
    httpx.post(
        f"{speech_emulator.url}/_emulator/chaos",
        json={"rate": 0.3, "seed": 99, "kinds": {"stall": 0, "drip": 0}},
        headers=speech_emulator.admin_headers,
    ).raise_for_status()
    clock = FakeClock()
    policy = sm.RetryPolicy(max_retries=1)
    errors = 0
    with sm.SpeechToTextModels(speech_emulator.url, speech_emulator.key, sleep=clock.sleep, retry_policy=policy) as c:
        for _ in range(30):
            seen: list[str | None] = []
            token: str | None = None
            for _resume in range(100):
                try:
                    seen.extend(m.display_name for m in c.list_models(top=10, continuation_token=token))
                    break
                except TYPED as error:
                    errors += 1
                    token = error.continuation_token
            assert seen == expected
    assert errors > 0  # the chaos did end listings, and they resumed
    assert any(entry["fault"] for entry in speech_emulator.requests)


def test_a_bad_chaos_setting_is_400_and_changes_nothing(emulator: RunningEmulator) -> None:
    for body in ({"rate": 2}, {"rate": 0.1, "kinds": {"meteor": 1}}, {"rate": 0.1, "seed": "x"}, [1]):
        response = httpx.post(f"{emulator.url}/_emulator/chaos", json=body, headers=emulator.admin_headers)
        assert response.status_code == 400
    assert httpx.get(f"{emulator.url}/_emulator/chaos", headers=emulator.admin_headers).json()["rate"] == 0.0


def _all(emulator: RunningEmulator) -> list[dict[str, Any]]:
    saved = emulator.state.chaos.as_json()
    emulator.state.chaos.configure({"rate": 0, "kinds": {}})
    try:
        response = httpx.get(
            f"{emulator.url}/speechtotext/models?top=100&api-version=2025-10-15", headers=emulator.admin_headers
        )
        values: list[dict[str, Any]] = response.json()["values"]
        return values
    finally:
        emulator.state.chaos.configure(saved)
