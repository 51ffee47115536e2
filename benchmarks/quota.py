"""The quota case of ``make bench``: listings against the emulator with the service's quota (``--quota 100/10``) and
30 ms of latency, pages of 100, ``concurrency=8``.

- one listing of 30,000 models (300 requests): the quota-bound minimum is 20 s (100 requests at once, then the
  window's 100 every 10 s);
- four processes at once, the same key, 10,000 models each (400 requests): the minimum is 30 s.

Each run is checked exact (every model once, in order, by a digest of the ids) and its requests are read off the
emulator's journal (how many were answered 429). The wall is the listings': from the first client's creation to
the last model of the last listing, on the system-wide monotonic clock each process reads; the wall of the processes
(interpreter start and imports included, about a third of a second) is printed beside it. The same runs with the
SDK of another commit (``--quota-before``, by default main before the client-wide throttle) are measured first and
reported beside, and then with the quota known: ``rate_limit`` of each process's share. Run as
``python benchmarks/quota.py LIST URL COUNT CONCURRENCY RATE_LIMIT`` it is one listing's process.
"""

from __future__ import annotations

import hashlib
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

QUOTA = (100, 10.0)
LATENCY = 0.03
PAGE = 100
KEY = "emulator-key"
HERE = Path(__file__).resolve().parent
BEFORE_THROTTLE = "b133e57"  # main before the client-wide throttle (issue 27)


def digest(ids: list[str]) -> str:
    return hashlib.sha256("\n".join(ids).encode()).hexdigest()


def listing(url: str, count: int, concurrency: int, rate_limit: str) -> None:
    """One listing's process: prints when its client was created and when its last model came (monotonic seconds,
    which on Linux all processes share), the models it got and the digest of their ids."""
    import speech_models as sm

    started = time.monotonic()
    ids = []
    options: dict[str, Any] = {}  # rate_limit only when asked for: the SDK before it has no such argument
    if rate_limit:
        requests, seconds = rate_limit.split("/")
        options["rate_limit"] = (int(requests), float(seconds))
    with sm.SpeechToTextModels(url, KEY, **options) as client:
        for model in client.list_models(top=PAGE, max_items=count, concurrency=concurrency):
            ids.append(str(model.self_).rsplit("/", 1)[1].split("?", 1)[0])
    print(f"{started:.6f} {time.monotonic():.6f} {len(ids)} {digest(ids)}")


def minimum(requests: int) -> float:
    """The quota-bound wall time of `requests` requests: the window's worth at once, then one every time the
    window's oldest request leaves it (100 every 10 s)."""
    allowed, seconds = QUOTA
    return (requests - 1) // allowed * seconds + LATENCY


def _admin(url: str, method: str, path: str) -> object:
    import httpx

    answer = httpx.request(method, url + path, headers={"Ocp-Apim-Subscription-Key": KEY}, timeout=30)
    answer.raise_for_status()
    return answer.json() if answer.content else None


def run(
    url: str, processes: int, count: int, expected: str, tree: Path | None, rate_limit: str
) -> tuple[float, float, int, int, bool]:
    """`processes` listings of `count` models at once: (the listings' wall seconds, the processes' wall seconds,
    requests, 429s, all exact)."""
    _admin(url, "POST", "/_emulator/reset")  # an empty journal and an empty quota window
    env = dict(os.environ)
    if tree is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(tree / "generated"), str(tree / "overlay")])
    command = [sys.executable, str(Path(__file__).resolve()), "LIST", url, str(count), "8", rate_limit]
    started = time.monotonic()
    children = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True) for _ in range(processes)]
    outputs = [child.communicate(timeout=600)[0].split() for child in children]
    wall = time.monotonic() - started
    if any(child.returncode != 0 for child in children):
        raise RuntimeError("a listing failed")
    journal = _admin(url, "GET", "/_emulator/requests")
    assert isinstance(journal, list)
    throttled = sum(1 for entry in journal if entry["status"] == 429)
    exact = all(int(got) == count and ids == expected for _, _, got, ids in outputs)
    listed = max(float(end) for _, end, *_ in outputs) - min(float(start) for start, *_ in outputs)
    return listed, wall, len(journal), throttled, exact


def quota_case(url: str, repetitions: int, before: Path | None, before_ref: str) -> None:
    """Print the quota case: medians and spread of the wall, against the minimum; the share of 429s."""
    from speech_models_emulator import build_models

    models = build_models(30_000)
    ids = [str(m["self"]).rsplit("/", 1)[1].split("?", 1)[0] for m in models]
    cases = [("one listing, 30,000 models", 1, 30_000), ("four processes, 10,000 models each", 4, 10_000)]
    sdks: list[tuple[str, Path | None, str]] = [(f"before ({before_ref})", before, "")] if before else []
    sdks.append(("now", None, ""))
    print(
        f"\nQuota: the emulator with --quota {QUOTA[0]}/{QUOTA[1]:g} --latency {LATENCY}, pages of {PAGE}, "
        f"concurrency=8; medians of {repetitions}"
    )
    print(
        f"{'case':<36} {'sdk':<24} {'wall s':>7} {'spread':>13} {'x min':>6} {'processes s':>11} {'requests':>8} "
        f"{'429s':>6} exact"
    )
    for label, processes, count in cases:
        expected = digest(ids[:count])
        requests = processes * count // PAGE
        share = f"{QUOTA[0] // processes}/{QUOTA[1]:g}"
        for sdk, tree, rate_limit in [*sdks, (f"now, rate_limit {share}", None, share)]:
            runs = [run(url, processes, count, expected, tree, rate_limit) for _ in range(repetitions)]
            walls = [wall for wall, *_ in runs]
            wall = statistics.median(walls)
            whole = statistics.median(w for _, w, *_ in runs)
            sent = statistics.median(r for _, _, r, _, _ in runs)
            throttled = statistics.median(t for *_, t, _ in runs)
            exact = "yes" if all(e for *_, e in runs) else "NO"
            print(
                f"{label:<36} {sdk:<24} {wall:>7.2f} {min(walls):>6.2f}-{max(walls):<6.2f} "
                f"{wall / minimum(requests):>5.2f}x {whole:>11.2f} {sent:>8.0f} {throttled / sent:>6.1%} {exact}"
            )


if __name__ == "__main__" and sys.argv[1:2] == ["LIST"]:
    listing(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
