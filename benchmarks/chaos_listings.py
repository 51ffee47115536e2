"""Listings under the emulator's chaos, with the SDK's default retry policy: how many come out exact, how many end
in an error the README names, and whether each of those resumes to an exact listing from its continuation token.

    .venv/bin/python benchmarks/chaos_listings.py --listings 1000 --chaos 0.3 --seed 18 --threads 20
"""

from __future__ import annotations

import argparse
import collections
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import speech_models as sm
from speech_models_emulator import run_emulator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--listings", type=int, default=1000)
    parser.add_argument("--chaos", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--threads", type=int, default=20)
    args = parser.parse_args()
    outcomes: collections.Counter[str] = collections.Counter()
    lock = threading.Lock()
    with (
        run_emulator(count=250, chaos=0.0, validate=False) as emulator,
        sm.SpeechToTextModels(emulator.url, emulator.key) as client,
    ):
        expected = [m.display_name for m in client.list_models(top=100)]
        emulator.state.chaos.configure({"rate": args.chaos, "seed": args.seed})
        started = time.monotonic()

        def one(_: int) -> None:
            names: list[str | None] = []
            token: str | None = None
            outcome = "exact"
            while True:
                try:
                    for page in client.list_models(top=100, continuation_token=token).by_page():
                        names.extend(m.display_name for m in page.items)
                    break
                except sm.SpeechModelsError as exc:  # every failure is one the README names
                    outcome = f"resumed after {type(exc).__name__}"
                    token = exc.continuation_token
            with lock:
                outcomes[outcome if names == expected else "WRONG"] += 1

        with ThreadPoolExecutor(args.threads) as pool:
            list(pool.map(one, range(args.listings)))
        elapsed = time.monotonic() - started
        faults = collections.Counter(entry["fault"] for entry in emulator.requests)
    print(
        f"{args.listings} listings of 250 models (pages of 100), chaos {args.chaos} seed {args.seed}, "
        f"{args.threads} threads, default RetryPolicy: {elapsed:.0f} s"
    )
    for outcome, count in sorted(outcomes.items()):
        print(f"  {outcome}: {count}")
    print(f"  requests (the last {sum(faults.values())}): " + ", ".join(f"{k}: {v}" for k, v in faults.most_common()))


if __name__ == "__main__":
    main()
