"""Pagination throughput, latency and memory of the SDK against raw httpx (``make bench``). Prints figures; asserts
nothing.

A server of pre-serialized pages (``page_server.py``) runs in its own process on a loopback port. Each loop of
``clients.py`` runs in a fresh process: one warm-up pass, one timed pass of 20,000 models, 100 a page, reading
three fields of every model. The loops are interleaved (the order rotates every repetition); the medians of wall
and CPU time (the machines are shared: CPU time is steadier) are compared with the floor of the same kind (sync
with sync, async with async), with the spread (min-max) of the wall times. ``--before REF`` times the SDK of an
older commit too, in the same run, from a temporary git worktree. Then the latency case (the same server answering
30 ms late: sequential against concurrent listing), the peak memory of the overlay's iterator against the floor's,
the emulator's own CPU a page against the page server's, and the quota case (``quota.py``: listings under the
service's 100 requests per 10 s, before and after the client-wide throttle).
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
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
from quota import BEFORE_THROTTLE, QUOTA, quota_case
from quota import LATENCY as QUOTA_LATENCY

GIT = shutil.which("git") or "git"
ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
FLOORS = {"raw_sync": "sync floor", "raw_async": "async floor"}
LOOPS = [
    ("raw_sync", "(a) raw httpx.Client + json.loads", "raw_sync"),
    ("raw_async", "(a') raw httpx.AsyncClient + json.loads", "raw_async"),
    ("generated", "(b) generated client", "raw_sync"),
    ("overlay_sync", "(c) overlay items, sync", "raw_sync"),
    ("overlay_sync_json", "(c2) ... json instead of msgspec", "raw_sync"),
    ("overlay_sync_untraced", "(c0) ... tracing=False", "raw_sync"),
    ("overlay_sync_otel_sdk", "(c1) ... OpenTelemetry SDK configured", "raw_sync"),
    ("overlay_async", "(d) overlay items, async", "raw_async"),
]


@contextmanager
def serving(command: list[str]) -> Iterator[tuple[str, int]]:
    """A server in a child process that prints its URL first; yields the URL and the child's pid."""
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert child.stdout is not None
        url = child.stdout.readline().strip()
        if not url.startswith("http://127.0.0.1:"):
            raise RuntimeError(f"the server did not start: {' '.join(command)}: {url!r}")
        yield url, child.pid
    finally:
        child.terminate()
        child.wait(10)


@contextmanager
def page_server(count: int, delay: float = 0.0) -> Iterator[str]:
    with serving([sys.executable, "-u", str(HERE / "page_server.py"), str(count), str(delay)]) as (url, _):
        yield url


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of process `pid` so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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


def run_loop(name: str, url: str, count: int, tree: Path | None) -> tuple[float, float]:
    env = dict(os.environ)
    if tree is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(tree / "generated"), str(tree / "overlay"), str(tree / "emulator")])
    out = subprocess.run(
        [sys.executable, str(HERE / "clients.py"), name, url, str(count)], env=env, capture_output=True, text=True
    )
    if out.returncode != 0:
        raise RuntimeError(f"{name} failed: {out.stderr.strip()[-500:]}")
    wall, cpu = out.stdout.split()
    return float(wall), float(cpu)


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
        timings = interleaved(runs, url, count, repetitions)
    title = f"{count:,} models, {100} a page, 3 fields read per model; medians of {repetitions} interleaved runs"
    print(f"\nThroughput: {title}" + (f"; before = {before}" if before else ""))
    report(runs, timings, {"raw_sync": LOOPS[0][1], "raw_async": LOOPS[1][1]}, count)


def interleaved(
    runs: list[tuple[str, str, str, Path | None]], url: str, count: int, repetitions: int
) -> dict[str, list[tuple[float, float]]]:
    """Each loop `repetitions` times, the order rotating every repetition: (wall, cpu) seconds per run."""
    timings: dict[str, list[tuple[float, float]]] = {label: [] for label, *_ in runs}
    for repetition in range(repetitions):
        shift = repetition % len(runs)
        for label, name, _, where in runs[shift:] + runs[:shift]:
            timings[label].append(run_loop(name, url, count, where))
    return timings


def report(
    runs: list[tuple[str, str, str, Path | None]],
    timings: dict[str, list[tuple[float, float]]],
    floors: dict[str, str],
    count: int,
) -> dict[str, float]:
    """Print each loop's median wall time, its spread, its median CPU time and both against its floor's; return
    the median wall times."""
    wall = {label: statistics.median(w for w, _ in values) for label, values in timings.items()}
    cpu = {label: statistics.median(c for _, c in values) for label, values in timings.items()}
    print(f"{'loop':<52} {'wall s':>7} {'spread':>13} {'cpu s':>7} {'models/s':>10} {'wall x':>7} {'cpu x':>6}")
    for label, _, floor, _ in runs:
        low, high = min(w for w, _ in timings[label]), max(w for w, _ in timings[label])
        versus = f"{wall[label] / wall[floors[floor]]:>6.2f}x {cpu[label] / cpu[floors[floor]]:>5.2f}x" if floor else ""
        spread = f"{low:.3f}-{high:.3f}"
        print(f"{label:<52} {wall[label]:>7.3f} {spread:>13} {cpu[label]:>7.3f} {count / wall[label]:>10,.0f} {versus}")
    return wall


LATENCY = [
    ("latency_raw_sync", "(l0) raw httpx.Client, sequential", "floor"),
    ("latency_overlay_sync", "(l1) overlay, sequential", "floor"),
    ("latency_overlay_concurrent", "(l2) overlay, concurrency=8 (threads)", "floor"),
    ("latency_overlay_async_concurrent", "(l3) async overlay, concurrency=8 (tasks)", "floor"),
]


def latency(count: int, repetitions: int, delay: float) -> None:
    """The wall time is the network's: each response 30 ms late. Sequential against concurrent listing."""
    with page_server(count, delay) as url:
        runs: list[tuple[str, str, str, Path | None]] = [(label, name, floor, None) for name, label, floor in LATENCY]
        timings = interleaved(runs, url, count, repetitions)
    print(
        f"\nLatency: {count:,} models, 100 a page, each response {delay * 1000:.0f} ms late; medians of {repetitions}"
    )
    wall = report(runs, timings, {"floor": LATENCY[0][1]}, count)
    speedup = wall[LATENCY[1][1]] / wall[LATENCY[2][1]]
    print(f"concurrency=8 against the sequential listing: {speedup:.1f}x faster (threads), "
          f"{wall[LATENCY[1][1]] / wall[LATENCY[3][1]]:.1f}x (async tasks)")  # fmt: skip


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


FLOOR_PROBE = """
import json, sys, httpx
n, link = 0, sys.argv[1] + "/speechtotext/models?top=100&api-version=2025-10-15"
with httpx.Client(headers={"Ocp-Apim-Subscription-Key": "emulator-key"}) as client:
    while link and n < int(sys.argv[2]):
        body = json.loads(client.get(link).content)
        n += sum(1 for m in body["values"] if m["createdDateTime"])
        link = body.get("@nextLink")
peak = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:")).split()[1]
print(n, peak)
"""


def memory(sizes: list[int]) -> None:
    with page_server(max(sizes)) as url:
        floor: dict[int, float] = {}  # the first probe's peaks, by size
        for title, probe in (
            ("the floor (raw httpx.Client + json.loads)", FLOOR_PROBE),
            ("a process iterating the overlay's items (one page held at a time)", MEMORY_PROBE),
            ("`speech-models models list -o jsonl` (streamed)", CLI_PROBE),
        ):
            print(f"\nPeak RSS of {title}")
            for size in sizes:
                out = subprocess.run([sys.executable, "-c", probe, url, str(size)], capture_output=True, text=True)
                listed, peak_kib = map(int, out.stdout.split())
                peak = peak_kib / 1024
                floor.setdefault(size, peak)
                print(f"  {listed:>7,} models: {peak:6.1f} MiB ({peak / floor[size]:.2f}x the floor's)")


def emulator_cpu(pages: int, rounds: int) -> None:
    """CPU seconds a page of 100 models costs the emulator's server process (on each HTTP parser), against the page
    server's: `rounds` listings of `pages` pages each, the servers taken in turn, medians with their spread."""
    print(f"\nServer CPU a page (100 models; {pages} pages listed by a raw httpx loop; medians of {rounds} rounds)")
    emulator = [sys.executable, "-u", "-m", "speech_models_emulator", "--port", "0", "--count", str(pages * 100)]
    page = [sys.executable, "-u", str(HERE / "page_server.py"), str(pages * 100)]
    servers = [("page server (pre-serialized)", page)]
    servers += [(f"emulator on {http}", [*emulator, "--http", http]) for http in ("httptools", "h11")]
    spent: dict[str, list[float]] = {title: [] for title, _ in servers}
    with ExitStack() as stack:
        running = [(title, *stack.enter_context(serving(command))) for title, command in servers]
        client = stack.enter_context(httpx.Client(headers={"Ocp-Apim-Subscription-Key": "emulator-key"}))
        for _, url, _ in running:
            client.get(url + "/speechtotext/models?top=100&api-version=2025-10-15")  # warm-up
        for _ in range(rounds):
            for title, url, pid in running:
                link: str | None = url + "/speechtotext/models?top=100&api-version=2025-10-15"
                before = cpu_seconds(pid)
                while link:
                    link = client.get(link).json().get("@nextLink")
                spent[title].append((cpu_seconds(pid) - before) / pages * 1000)
    floor = statistics.median(spent[servers[0][0]])
    for title, values in spent.items():
        median = statistics.median(values)
        spread = f"{min(values):.2f}-{max(values):.2f}"
        print(f"  {title:<30} {median:7.2f} ms   {spread}   {median / floor:4.1f}x the page server's")


def quota(repetitions: int, before: str | None) -> None:
    """The quota case (``quota.py``): the emulator in its own process with the service's quota."""
    command = [sys.executable, "-m", "speech_models_emulator", "--port", "0", "--count", "30000"]
    command += ["--quota", f"{QUOTA[0]}/{QUOTA[1]:g}", "--latency", str(QUOTA_LATENCY)]
    with serving(command) as (url, _), checkout(before) as tree:
        quota_case(url, repetitions, tree, before or "")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--repetitions", type=int, default=7)
    parser.add_argument("--before", help="a git ref whose SDK is timed too, for a before/after comparison")
    parser.add_argument("--memory-sizes", type=int, nargs="*", default=[1_000, 100_000])
    parser.add_argument("--latency-count", type=int, default=20_000, help="models listed in the latency case")
    parser.add_argument("--latency", type=float, default=0.030, help="seconds each response is late")
    parser.add_argument("--server-pages", type=int, default=200, help="pages listed to time the servers' CPU")
    parser.add_argument("--server-rounds", type=int, default=7, help="listings of --server-pages per server")
    parser.add_argument("--quota-repetitions", type=int, default=3, help="runs of each quota case (0: none)")
    parser.add_argument(
        "--quota-before", default=BEFORE_THROTTLE, help="a git ref whose SDK runs the quota case first ('': none)"
    )
    args = parser.parse_args()
    python = platform.python_version()
    from speech_models._json import DECODER

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {python}, httpx {httpx.__version__}, "
        f"decoder: {DECODER}"
    )
    if args.repetitions > 0:
        throughput(args.count, args.repetitions, args.before or None)
    if args.repetitions > 0 and args.latency_count > 0:
        latency(args.latency_count, args.repetitions, args.latency)
    if args.memory_sizes:
        memory(args.memory_sizes)
    if args.server_pages > 0:
        emulator_cpu(args.server_pages, args.server_rounds)
    if args.quota_repetitions > 0:
        quota(args.quota_repetitions, args.quota_before or None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
