"""Pagination throughput and memory of the SDK against raw httpx (``make bench``). Prints figures; asserts nothing.

A server of pre-serialized pages (``page_server.py``) runs in its own process on a loopback port. Each loop of
``clients.py`` runs in a fresh process: one warm-up pass, one timed pass of 20,000 models, 100 a page, reading
three fields of every model. The loops are interleaved (the order rotates every repetition) and the medians are
compared with the floor of the same kind (sync with sync, async with async). ``--before REF`` times the SDK of an
older commit too, in the same run, from a temporary git worktree. Then the peak memory of the overlay's iterator.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

GIT = shutil.which("git") or "git"
ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
FLOORS = {"raw_sync": "sync floor", "raw_async": "async floor"}
LOOPS = [
    ("raw_sync", "(a) raw httpx.Client + json.loads", "raw_sync"),
    ("raw_async", "(a') raw httpx.AsyncClient + json.loads", "raw_async"),
    ("generated", "(b) generated client", "raw_sync"),
    ("overlay_sync", "(c) overlay items, sync", "raw_sync"),
    ("overlay_sync_untraced", "(c0) ... tracing=False", "raw_sync"),
    ("overlay_sync_otel_sdk", "(c1) ... OpenTelemetry SDK configured", "raw_sync"),
    ("overlay_async", "(d) overlay items, async", "raw_async"),
]


@contextmanager
def page_server(count: int) -> Iterator[str]:
    command = [sys.executable, str(HERE / "page_server.py"), str(count)]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert child.stdout is not None
        url = child.stdout.readline().strip()
        if not url.startswith("http://127.0.0.1:"):
            raise RuntimeError(f"the page server did not start: {url!r}")
        yield url
    finally:
        child.terminate()
        child.wait(10)


@contextmanager
def checkout(ref: str | None) -> Iterator[Path | None]:
    """A temporary git worktree of `ref` (its generated/ and overlay/ are imported by the 'before' loops)."""
    if ref is None:
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="speech-models-before-") as tmp:
        tree = Path(tmp) / "tree"
        subprocess.run(
            [GIT, "-C", str(ROOT), "worktree", "add", "--detach", str(tree), ref], check=True, capture_output=True
        )
        try:
            yield tree
        finally:
            subprocess.run([GIT, "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=False)


def run_loop(name: str, url: str, count: int, tree: Path | None) -> float:
    env = dict(os.environ)
    if tree is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(tree / "generated"), str(tree / "overlay"), str(tree / "emulator")])
    out = subprocess.run(
        [sys.executable, str(HERE / "clients.py"), name, url, str(count)], env=env, capture_output=True, text=True
    )
    if out.returncode != 0:
        raise RuntimeError(f"{name} failed: {out.stderr.strip()[-500:]}")
    return float(out.stdout.strip())


def throughput(count: int, repetitions: int, before: str | None) -> None:
    with page_server(count) as url, checkout(before) as tree:
        runs: list[tuple[str, str, str, Path | None]] = [(label, name, floor, None) for name, label, floor in LOOPS]
        runs.append(("wrap a page's models (from_dict(page).values)", "wrap", "", None))
        if tree is not None:
            runs += [
                (f"{label} [before]", name, floor, tree)
                for name, label, floor in LOOPS
                if name in ("generated", "overlay_sync", "overlay_async")
            ]
            runs.append(("wrap a page's models [before]", "wrap", "", tree))
        timings: dict[str, list[float]] = {label: [] for label, *_ in runs}
        for repetition in range(repetitions):
            shift = repetition % len(runs)
            for label, name, _, where in runs[shift:] + runs[:shift]:
                timings[label].append(run_loop(name, url, count, where))
    medians = {label: statistics.median(values) for label, values in timings.items()}
    floors = {"raw_sync": medians[LOOPS[0][1]], "raw_async": medians[LOOPS[1][1]]}
    title = f"{count:,} models, {100} a page, 3 fields read per model; median of {repetitions} interleaved runs"
    print(f"\nThroughput: {title}" + (f"; before = {before}" if before else ""))
    print(f"{'loop':<52} {'median s':>9} {'models/s':>11} {'vs floor':>9}")
    for label, _, floor, _ in runs:
        ratio = f"{medians[label] / floors[floor]:>8.2f}x" if floor else ""
        print(f"{label:<52} {medians[label]:>9.3f} {count / medians[label]:>11,.0f} {ratio}")


# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the forking parent across exec.
MEMORY_PROBE = """
import sys
import speech_models as sm
with sm.SpeechToTextModels(sys.argv[1], "emulator-key") as client:
    n = sum(1 for m in client.list_models(top=100, max_items=int(sys.argv[2])) if m.created_date_time)
peak = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:")).split()[1]
print(n, peak)
"""


CLI_PROBE = """
import os, sys
from speech_models._cli import main
os.environ.update(AZURE_SPEECH_ENDPOINT=sys.argv[1], AZURE_SPEECH_KEY="emulator-key")
with open(os.devnull, "w") as sink:
    code = main(["models", "list", "-o", "jsonl", "--quiet", "--max-items", sys.argv[2]], out=sink)
peak = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:")).split()[1]
print(sys.argv[2] if code == 0 else -1, peak)
"""


def memory(sizes: list[int]) -> None:
    with page_server(max(sizes)) as url:
        for title, probe in (
            ("a process iterating the overlay's items (one page held at a time)", MEMORY_PROBE),
            ("`speech-models models list -o jsonl` (streamed)", CLI_PROBE),
        ):
            print(f"\nPeak RSS of {title}")
            for size in sizes:
                out = subprocess.run([sys.executable, "-c", probe, url, str(size)], capture_output=True, text=True)
                listed, peak_kib = map(int, out.stdout.split())
                print(f"  {listed:>7,} models: {peak_kib / 1024:6.1f} MiB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--repetitions", type=int, default=7)
    parser.add_argument("--before", help="a git ref whose SDK is timed too, for a before/after comparison")
    parser.add_argument("--memory-sizes", type=int, nargs="*", default=[1_000, 100_000])
    args = parser.parse_args()
    python = platform.python_version()
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {python}, httpx {httpx.__version__}")
    if args.repetitions > 0:
        throughput(args.count, args.repetitions, args.before or None)
    if args.memory_sizes:
        memory(args.memory_sizes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
