"""The main job: start the emulator on a loopback port, list every model through the SDK across pages, show a
throttled request retried after its Retry-After, a bad filter as a clear error and the command line's view of models
whose deprecation dates come soon, then stop the emulator."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time

import httpx
import speech_models as sm
from speech_models_emulator import run_emulator

PAGE_SIZE = 25


def table(models: list[sm.CustomModel]) -> str:
    rows = [("name", "locale", "status", "created")]
    for m in models:
        created = m.created_date_time.isoformat().replace("+00:00", "Z") if m.created_date_time else ""
        rows.append((m.display_name or "", m.locale or "", str(m.status or ""), created))
    widths = [max(len(str(row[i])) for row in rows) for i in range(4)]
    lines = ["  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def main() -> int:
    with run_emulator(count=60) as emulator:
        print(f"emulator listening on {emulator.url}\n")
        with sm.SpeechToTextModels(emulator.url, emulator.key) as client:
            print(f"1. every model, {PAGE_SIZE} a page, following @nextLink")
            models: list[sm.CustomModel] = []
            for number, page in enumerate(client.list_models(top=PAGE_SIZE).by_page(), start=1):
                more = "more pages follow" if page.continuation_token else "last page"
                print(f"   page {number}: {len(page)} models ({more})")
                models.extend(page.items)
            print(table(models), "\n")

            print("2. a throttled request: the emulator answers the next request 429 with Retry-After: 1")
            httpx.post(
                f"{emulator.url}/_emulator/faults",
                json={"status": 429, "retry_after": 1},
                headers=emulator.admin_headers,
            ).raise_for_status()
            handler = logging.StreamHandler(sys.stdout)
            handler.setFormatter(logging.Formatter("   [%(name)s] %(message)s"))
            retry_log = logging.getLogger("speech_models.retry")
            retry_log.addHandler(handler)
            retry_log.setLevel(logging.DEBUG)
            started = time.monotonic()
            running = list(client.list_models(filter="status eq 'Running'"))
            retry_log.removeHandler(handler)
            print(f"   got {len(running)} running models after {time.monotonic() - started:.1f}s\n")

            print("3. a filter the service does not support")
            try:
                list(client.list_models(filter="status gt 'Running'"))
            except sm.BadRequestError as error:
                print(f"   {type(error).__name__}: {error}")
                print(f"   detailed codes: {[str(code) for code in error.detailed_codes]}\n")
            else:
                print("   unexpected: the bad filter was accepted")
                return 1

        command = ["models", "expiring", "--before", "2026-01-01", "--output", "table", "--max-items", "12"]
        print(f"4. the command line: speech-models {' '.join(command)}")
        environment = {
            **os.environ,
            "AZURE_SPEECH_ENDPOINT": emulator.url,
            "AZURE_SPEECH_KEY": emulator.key,
            "COLUMNS": "140",
        }
        result = subprocess.run(
            [sys.executable, "-m", "speech_models", *command], env=environment, capture_output=True, text=True
        )
        print("\n".join("   " + line for line in result.stdout.splitlines()))
        print(f"   exit code {result.returncode}\n")
        if result.returncode != 0:
            print(result.stderr)
            return 1
    print("emulator stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
