"""What a sync listing leaves behind and loads: no asyncio or anyio in a program that never runs an event loop, no
opentelemetry in a program that does not use it, and pages freed by reference counting alone (no cycle left for the
collector)."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.loopback import ScriptedServer, answer, page_body

SYNC_LISTING = r"""
import gc, json, sys
import httpx
import speech_models as sm

def handler(request):
    skip = int(request.url.params.get("skip", "0"))
    values = [{"displayName": f"m{i}", "status": "Succeeded", "createdDateTime": "2024-01-01T00:00:00Z",
               "properties": {"features": {"supportsEndpoints": True}}} for i in range(skip, skip + 100)]
    body = {"values": values}
    if skip < 900:
        body["@nextLink"] = f"https://x.example/speechtotext/models?skip={skip + 100}&top=100&api-version=2025-10-15"
    return httpx.Response(200, json=body)

with sm.SpeechToTextModels("https://x.example", "k", transport=httpx.MockTransport(handler)) as client:
    list(client.list_models(top=100, max_items=100))  # warm: first-use caches are not garbage
    gc.collect()
    gc.disable()
    n = 0
    for model in client.list_models(top=100):
        n += model.created_date_time is not None and model.properties.features.supports_endpoints
    garbage = gc.collect()
print(n, garbage, "asyncio" in sys.modules, "anyio" in sys.modules, "opentelemetry" in sys.modules)
"""


def test_a_sync_listing_loads_no_asyncio_anyio_or_opentelemetry_and_leaves_no_cycles() -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("OTEL_")}
    out = subprocess.run([sys.executable, "-c", SYNC_LISTING], capture_output=True, text=True, check=False, env=env)
    assert out.returncode == 0, out.stderr
    listed, garbage, asyncio_loaded, anyio_loaded, otel_loaded = out.stdout.split()
    assert listed == "1000"
    assert asyncio_loaded == "False"
    assert anyio_loaded == "False"
    assert otel_loaded == "False"  # installed here, but this program does not use it (see _telemetry)
    assert int(garbage) == 0


ASYNC_LISTING = r"""
import asyncio, sys
import speech_models as sm

looked_up = []


class Recorder:
    def find_spec(self, name, path=None, target=None):
        looked_up.append(name)  # asked only for a module not already imported
        return None


async def main():
    async with sm.AsyncSpeechToTextModels(sys.argv[1], "k") as api:
        warm = [model async for model in api.list_models(max_items=2)]  # first-use imports happen here
        sys.meta_path.insert(0, Recorder())
        listed = [model async for model in api.list_models(max_items=10)]
    print(len(warm), len(listed), sorted(set(looked_up)))


asyncio.run(main())
"""


def test_an_async_listing_looks_for_no_module_on_each_request() -> None:
    """httpcore's async path imports sniffio on every lock and event it sets up; without sniffio installed each of
    those imports fails after searching sys.path (about 3 ms a page here, half an async listing's time). The SDK
    declares sniffio, so after its first page an async listing asks the import system for nothing."""
    script = [answer(body=page_body(2, f"/speechtotext/models?page={n + 1}", start=2 * n)) for n in range(8)]
    with ScriptedServer(script) as server:
        out = subprocess.run(
            [sys.executable, "-c", ASYNC_LISTING, server.url], capture_output=True, text=True, check=False, timeout=60
        )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "2 10 []"
