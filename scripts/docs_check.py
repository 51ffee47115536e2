"""``make docs-check``: the built site looked at in headless Chromium, as a person would: the API reference renders
with ``list_models``, and the search box finds ``RetryPolicy``. Screenshots of both go to ``build/docs-check/``.

The site is served on a loopback port by the standard library; Chromium (Debian's package) is driven through the
DevTools protocol over a pipe (``--remote-debugging-pipe``), so nothing but the two is needed. Without Chromium it
says plainly that it did not run and exits 0, as ``make image-test`` does without an engine.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "build" / "site"
SHOTS = ROOT / "build" / "docs-check"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",  # containers often have a small /dev/shm
    "--disable-background-networking",
    "--window-size=1280,900",
]


class DevTools:
    """A Chromium driven over ``--remote-debugging-pipe``: JSON messages ending in NUL, fd 3 in and fd 4 out."""

    def __init__(self, binary: str, profile: str) -> None:
        to_browser_read, self._to_browser = os.pipe()
        self._from_browser, from_browser_write = os.pipe()

        def pipes_at_3_and_4() -> None:
            os.dup2(to_browser_read, 3)
            os.dup2(from_browser_write, 4)

        self.process = subprocess.Popen(
            [binary, *FLAGS, "--remote-debugging-pipe", f"--user-data-dir={profile}", "about:blank"],
            preexec_fn=pipes_at_3_and_4,
            close_fds=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_browser_read)
        os.close(from_browser_write)
        self._buffer = b""
        self._next_id = 0

    def call(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        while True:
            answer = self._read()
            if answer.get("id") == self._next_id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                result: dict[str, Any] = answer.get("result", {})
                return result

    def _read(self) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            chunk = os.read(self._from_browser, 1 << 16)
            if not chunk:
                raise RuntimeError("Chromium closed its DevTools pipe")
            self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        parsed: dict[str, Any] = json.loads(message)
        return parsed

    def close(self) -> None:
        with contextlib.suppress(OSError, RuntimeError):
            os.write(self._to_browser, json.dumps({"id": 0, "method": "Browser.close"}).encode() + b"\0")
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._to_browser)
        os.close(self._from_browser)


class Page:
    """One tab: navigate, wait for a JavaScript condition, take a screenshot."""

    def __init__(self, browser: DevTools) -> None:
        self._browser = browser
        target = browser.call("Target.createTarget", url="about:blank")["targetId"]
        self._session = browser.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]

    def open(self, url: str) -> None:
        self._browser.call("Page.navigate", self._session, url=url)

    def wait_for(self, expression: str, timeout: float = 20) -> Any:
        """The value of `expression` once it is truthy; a RuntimeError naming it when it never is."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = self._browser.call("Runtime.evaluate", self._session, expression=expression, returnByValue=True)
            value = result.get("result", {}).get("value")
            if value:
                return value
            time.sleep(0.1)
        raise RuntimeError(f"never true within {timeout:g} s: {expression}")

    def screenshot(self, path: Path) -> int:
        data = self._browser.call("Page.captureScreenshot", self._session, format="png")["data"]
        path.write_bytes(base64.b64decode(data))
        return path.stat().st_size


@contextlib.contextmanager
def serving(folder: Path) -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return None


REFERENCE_RENDERED = """(() => {
  const heading = document.getElementById("speech_models.SpeechToTextModels.list_models");
  return heading && heading.getBoundingClientRect().height > 0 && heading.textContent.includes("list_models")
    ? heading.textContent.trim() : null;
})()"""
SEARCH_FOUND = """(() => {
  const items = [...document.querySelectorAll(".md-search-result__item")];
  const hit = items.find(item => item.textContent.includes("RetryPolicy"));
  return hit ? items.length + " results, the first: " + items[0].textContent.trim().slice(0, 60) : null;
})()"""


def check(binary: str) -> None:
    if not (SITE / "reference" / "index.html").is_file():
        raise RuntimeError(f"no built site in {SITE}: run make docs first")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with serving(SITE) as url, tempfile.TemporaryDirectory(prefix="speech-models-chromium-") as profile:
        browser = DevTools(binary, profile)
        try:
            page = Page(browser)
            page.open(f"{url}/reference/")
            heading = page.wait_for(REFERENCE_RENDERED)
            size = page.screenshot(SHOTS / "reference.png")
            print(f"docs-check: the API reference renders {heading!r} (screenshot {size:,} bytes)")
            page.open(f"{url}/?q=RetryPolicy")
            found = page.wait_for(SEARCH_FOUND)
            size = page.screenshot(SHOTS / "search.png")
            print(f"docs-check: search for RetryPolicy: {found} (screenshot {size:,} bytes)")
        finally:
            browser.close()


def main() -> int:
    binary = next((found for name in ("chromium", "chromium-browser") if (found := shutil.which(name))), None)
    if binary is None:
        print("make docs-check: did not run: Chromium is not installed (Debian: apt-get install chromium)")
        return 0
    try:
        check(binary)
    except RuntimeError as failed:
        print(f"make docs-check: {failed}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
