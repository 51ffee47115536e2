"""The loops the benchmark times, each run in a fresh process: ``python benchmarks/clients.py NAME URL COUNT``
prints the wall and CPU seconds of one timed pass after one warm-up pass (the latency loops, against a server that
answers after 30 ms, have no warm-up: a pass is long enough). Every loop reads three fields of every model
(display name, status, created time), the floors included. The SDK is imported from ``sys.path``, so the same
loops time an older checkout of the SDK (``PYTHONPATH``) for a before/after comparison."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

KEY = "emulator-key"
HEADERS = {"Ocp-Apim-Subscription-Key": KEY}
PAGE = 100
FIRST = "/speechtotext/models?top=100&api-version=2025-10-15"


def raw_sync(url: str) -> int:
    """The sync floor: an httpx.Client loop following @nextLink, json.loads on each page."""
    import httpx

    count = 0
    with httpx.Client(headers=HEADERS) as client:
        link: str | None = url + FIRST
        while link:
            body = json.loads(client.get(link).content)
            for model in body["values"]:
                _ = (model["displayName"], model["status"], model["createdDateTime"])
                count += 1
            link = body.get("@nextLink")
    return count


def raw_async(url: str) -> int:
    """The async floor: the same loop on an httpx.AsyncClient."""
    import httpx

    async def run() -> int:
        count = 0
        async with httpx.AsyncClient(headers=HEADERS) as client:
            link: str | None = url + FIRST
            while link:
                body = json.loads((await client.get(link)).content)
                for model in body["values"]:
                    _ = (model["displayName"], model["status"], model["createdDateTime"])
                    count += 1
                link = body.get("@nextLink")
        return count

    return asyncio.run(run())


def generated(url: str) -> int:
    """The plain generated client: its detailed call in a loop, skip taken from each @nextLink."""
    from speech_models_client import AuthenticatedClient
    from speech_models_client.api.models import models_list_custom_models

    count = 0
    client = AuthenticatedClient(base_url=url, token=KEY, prefix="", auth_header_name="Ocp-Apim-Subscription-Key")
    with client:
        skip: int | None = 0
        while skip is not None:
            page: Any = models_list_custom_models.sync_detailed(client=client, skip=skip, top=PAGE).parsed
            for model in page.values:
                _ = (model.display_name, model.status, model.created_date_time)
                count += 1
            link = page.next_link
            skip = int(parse_qs(urlsplit(link).query)["skip"][0]) if isinstance(link, str) else None
    return count


def overlay_sync(url: str, tracing: bool = True) -> int:
    """The overlay's item iterator, sync (opentelemetry-api installed, no provider configured: its default)."""
    import speech_models as sm

    count = 0
    options: dict[str, Any] = {} if tracing else {"tracing": False}  # an SDK from before (BEFORE=...) has no flag
    with sm.SpeechToTextModels(url, KEY, **options) as client:
        for model in client.list_models(top=PAGE):
            _ = (model.display_name, model.status, model.created_date_time)
            count += 1
    return count


def overlay_sync_json(url: str) -> int:
    """The overlay's item iterator, sync, decoding with the standard library's json (msgspec hidden)."""
    sys.modules["msgspec"] = None  # type: ignore[assignment]
    return overlay_sync(url)


def overlay_sync_untraced(url: str) -> int:
    """The overlay's item iterator, sync, with ``tracing=False``: the floor of the OpenTelemetry overhead."""
    return overlay_sync(url, tracing=False)


_CONFIGURED = False


def overlay_sync_otel_sdk(url: str) -> int:
    """The overlay's item iterator, sync, with opentelemetry-sdk's providers configured as an application would
    (every span and point recorded, then dropped: no exporter, so the figure is the SDK's cost, not an exporter's)."""
    global _CONFIGURED
    if not _CONFIGURED:
        from opentelemetry import metrics, trace
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import InMemoryMetricReader
        from opentelemetry.sdk.trace import TracerProvider

        trace.set_tracer_provider(TracerProvider())
        metrics.set_meter_provider(MeterProvider(metric_readers=[InMemoryMetricReader()]))
        _CONFIGURED = True
    return overlay_sync(url)


def overlay_async(url: str) -> int:
    """The overlay's item iterator, async."""
    import speech_models as sm

    async def run() -> int:
        count = 0
        async with sm.AsyncSpeechToTextModels(url, KEY) as client:
            async for model in client.list_models(top=PAGE):
                _ = (model.display_name, model.status, model.created_date_time)
                count += 1
        return count

    return asyncio.run(run())


def latency_overlay_concurrent(url: str) -> int:
    """The overlay's listing with ``concurrency=8`` (threads) against the slow server."""
    import speech_models as sm

    count = 0
    with sm.SpeechToTextModels(url, KEY) as client:
        for model in client.list_models(top=PAGE, concurrency=8):
            _ = (model.display_name, model.status, model.created_date_time)
            count += 1
    return count


def latency_overlay_async_concurrent(url: str) -> int:
    """The async overlay's listing with ``concurrency=8`` (tasks) against the slow server."""
    import speech_models as sm

    async def run() -> int:
        count = 0
        async with sm.AsyncSpeechToTextModels(url, KEY) as client:
            async for model in client.list_models(top=PAGE, concurrency=8):
                _ = (model.display_name, model.status, model.created_date_time)
                count += 1
        return count

    return asyncio.run(run())


def wrap(url: str) -> int:
    """Not a listing: all pages fetched and json-loaded first, then only ``from_dict(page).values`` is timed
    (in ``main``), the cost of turning a page of JSON into models before any field is read."""
    import httpx

    pages = []
    with httpx.Client(headers=HEADERS) as client:
        link: str | None = url + FIRST
        while link:
            pages.append(client.get(link).content)
            link = json.loads(pages[-1]).get("@nextLink")
    global LOADED
    LOADED = pages
    return sum(len(json.loads(page)["values"]) for page in pages)


LOADED: list[bytes] = []

LOOPS: dict[str, Callable[[str], int]] = {
    "raw_sync": raw_sync,
    "raw_async": raw_async,
    "generated": generated,
    "overlay_sync": overlay_sync,
    "overlay_sync_json": overlay_sync_json,
    "overlay_sync_untraced": overlay_sync_untraced,
    "overlay_sync_otel_sdk": overlay_sync_otel_sdk,
    "overlay_async": overlay_async,
    "wrap": wrap,
    "latency_raw_sync": raw_sync,  # the same loops against the slow server (named apart: no warm-up pass)
    "latency_overlay_sync": overlay_sync,
    "latency_overlay_concurrent": latency_overlay_concurrent,
    "latency_overlay_async_concurrent": latency_overlay_async_concurrent,
}


def main(name: str, url: str, count: int) -> None:
    loop = LOOPS[name]
    if name == "wrap":
        from speech_models_client.models import PaginatedCustomModels

        loop(url)
        loaded = [json.loads(page) for page in LOADED]
        started, cpu = time.perf_counter(), time.process_time()
        got = sum(len(PaginatedCustomModels.from_dict(page).values or []) for page in loaded)
    else:
        if name.startswith("latency_"):
            import httpx  # noqa: F401 - the imports, not the connections, are kept out of the timed pass
            import speech_models  # noqa: F401
        else:
            loop(url)  # warm-up: imports, connections
        started, cpu = time.perf_counter(), time.process_time()
        got = loop(url)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    if got != count:
        raise SystemExit(f"{name} listed {got} models, not {count}")
    print(f"{elapsed:.6f} {cpu:.6f}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
