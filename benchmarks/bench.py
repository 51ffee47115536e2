"""Pagination throughput and memory of the SDK against raw httpx (``make bench``). Prints figures; asserts nothing.

The emulator runs in its own process on a loopback port, so it shares no interpreter (or GIL) with the clients.
Throughput: 20,000 models, page size 100, the four clients interleaved, medians of several repetitions.
Memory: peak RSS of a fresh process iterating 1,000 and 100,000 models through the overlay.
Parsing: the generated models' ``from_dict`` on 20,000 already-loaded models.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import parse_qs, urlsplit

import httpx
import speech_models as sm
from speech_models_client import AuthenticatedClient
from speech_models_client.api.models import models_list_custom_models
from speech_models_client.models import PaginatedCustomModels

KEY = "emulator-key"
HEADERS = {"Ocp-Apim-Subscription-Key": KEY}
PAGE = 100


@contextmanager
def emulator(count: int) -> Iterator[str]:
    """Run the emulator in a child process; yield its URL."""
    command = [sys.executable, "-m", "speech_models_emulator", "--port", "0", "--count", str(count), "--key", KEY]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert child.stdout is not None
        url = child.stdout.readline().strip()
        if not url.startswith("http://127.0.0.1:"):
            raise RuntimeError(f"the emulator did not start: {url!r}")
        yield url
    finally:
        child.terminate()
        child.wait(10)


def raw_httpx(url: str) -> int:
    """(a) The floor: an httpx.Client loop following @nextLink, json.loads on each page."""
    count = 0
    with httpx.Client(headers=HEADERS) as client:
        link: str | None = f"{url}/speechtotext/models?top={PAGE}&api-version=2025-10-15"
        while link:
            body = json.loads(client.get(link).content)
            count += len(body["values"])
            link = body.get("@nextLink")
    return count


def generated(url: str) -> int:
    """(b) The plain generated client: its detailed call in a loop, skip taken from each @nextLink."""
    count = 0
    client = AuthenticatedClient(base_url=url, token=KEY, prefix="", auth_header_name="Ocp-Apim-Subscription-Key")
    with client:
        skip: int | None = 0
        while skip is not None:
            page = models_list_custom_models.sync_detailed(client=client, skip=skip, top=PAGE).parsed
            assert isinstance(page, PaginatedCustomModels)
            count += len(page.values)  # type: ignore[arg-type]
            link = page.next_link
            skip = int(parse_qs(urlsplit(link).query)["skip"][0]) if isinstance(link, str) else None
    return count


def overlay_sync(url: str) -> int:
    """(c) The overlay's item iterator, sync."""
    with sm.SpeechToTextModels(url, KEY) as client:
        return sum(1 for _ in client.list_models(top=PAGE))


def overlay_async(url: str) -> int:
    """(d) The overlay's item iterator, async."""

    async def run() -> int:
        count = 0
        async with sm.AsyncSpeechToTextModels(url, KEY) as client:
            async for _ in client.list_models(top=PAGE):
                count += 1
        return count

    return asyncio.run(run())


CLIENTS: dict[str, Callable[[str], int]] = {
    "(a) raw httpx + json.loads": raw_httpx,
    "(b) generated client": generated,
    "(c) overlay items, sync": overlay_sync,
    "(d) overlay items, async": overlay_async,
}


def throughput(count: int, repetitions: int) -> None:
    with emulator(count) as url:
        for client in CLIENTS.values():  # warm-up: imports, connections, the emulator's caches
            client(url)
        timings: dict[str, list[float]] = {name: [] for name in CLIENTS}
        names = list(CLIENTS)
        for repetition in range(repetitions):
            order = names[repetition % len(names) :] + names[: repetition % len(names)]  # rotate: interleaved
            for name in order:
                started = time.perf_counter()
                got = CLIENTS[name](url)
                timings[name].append(time.perf_counter() - started)
                if got != count:
                    raise RuntimeError(f"{name} listed {got} models, not {count}")
    floor = statistics.median(timings[names[0]])
    print(f"\nThroughput: {count} models, page size {PAGE}, median of {repetitions} interleaved runs")
    print(f"{'client':<30} {'median s':>9} {'models/s':>10} {'vs (a)':>7}")
    for name in names:
        median = statistics.median(timings[name])
        print(f"{name:<30} {median:>9.3f} {count / median:>10,.0f} {median / floor:>6.2f}x")


def parsing(count: int, repetitions: int) -> None:
    with emulator(count) as url, httpx.Client(headers=HEADERS) as client:
        bodies: list[bytes] = []
        link: str | None = f"{url}/speechtotext/models?top={PAGE}&api-version=2025-10-15"
        while link:
            bodies.append(client.get(link).content)
            link = json.loads(bodies[-1]).get("@nextLink")
    loaded = [json.loads(body) for body in bodies]
    loads, parse, paused = [], [], []
    for _ in range(repetitions):
        started = time.perf_counter()
        for body in bodies:
            json.loads(body)
        loads.append(time.perf_counter() - started)
        started = time.perf_counter()
        for page in loaded:
            PaginatedCustomModels.from_dict(page)
        parse.append(time.perf_counter() - started)
        started = time.perf_counter()
        for page in loaded:
            gc.disable()  # as the overlay parses a page
            PaginatedCustomModels.from_dict(page)
            gc.enable()
        paused.append(time.perf_counter() - started)
    print(f"\nParsing {count} already-loaded models (all held at once), median of {repetitions}")
    print(f"  json.loads of the pages:            {count / statistics.median(loads):>10,.0f} models/s")
    print(f"  generated from_dict:                {count / statistics.median(parse):>10,.0f} models/s")
    print(f"  generated from_dict, GC paused:     {count / statistics.median(paused):>10,.0f} models/s")


# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the forking parent across exec.
MEMORY_PROBE = """
import sys
import speech_models as sm
with sm.SpeechToTextModels(sys.argv[1], "emulator-key") as client:
    n = sum(1 for _ in client.list_models(top=100, max_items=int(sys.argv[2])))
peak = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:")).split()[1]
print(n, peak)
"""


def memory(sizes: list[int]) -> None:
    print("\nPeak RSS of a process iterating the overlay's items (one page held at a time)")
    with emulator(max(sizes)) as url:
        for size in sizes:
            out = subprocess.run([sys.executable, "-c", MEMORY_PROBE, url, str(size)], capture_output=True, text=True)
            listed, peak_kib = map(int, out.stdout.split())
            print(f"  {listed:>7,} models: {peak_kib / 1024:6.1f} MiB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--repetitions", type=int, default=7)
    parser.add_argument("--memory-sizes", type=int, nargs="*", default=[1_000, 100_000])
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {platform.processor() or 'cpu'}, Python {platform.python_version()}")
    print(f"speech-models {sm.__version__}, httpx {httpx.__version__}")
    throughput(args.count, args.repetitions)
    parsing(args.count, args.repetitions)
    if args.memory_sizes:
        memory(args.memory_sizes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
