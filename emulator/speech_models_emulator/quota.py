"""The resource's request quota: at most N models requests in any window of S seconds, shared by every key and
token, as the service's "100 requests per 10 seconds per Speech resource" for model customization.

A request past it is answered 429 with the service's ``Error`` body and ``Retry-After`` in whole seconds (rounded
up: waiting that long always finds room); refused requests do not count. ``create_app(quota=(100, 10))``, the
command line's ``--quota 100/10`` and ``POST /_emulator/quota {"requests": 100, "seconds": 10}`` set it;
``DELETE /_emulator/quota`` turns it off.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

__all__ = ["MAX_QUOTA_REQUESTS", "MAX_QUOTA_SECONDS", "Quota", "parse_quota"]

MAX_QUOTA_REQUESTS = 1_000_000
MAX_QUOTA_SECONDS = 86_400.0


def _checked(requests: Any, seconds: Any) -> tuple[int, float]:
    if isinstance(requests, bool) or not isinstance(requests, int) or not 1 <= requests <= MAX_QUOTA_REQUESTS:
        raise ValueError(f"the quota's requests must be an integer from 1 to {MAX_QUOTA_REQUESTS}, not {requests!r}")
    if (
        isinstance(seconds, bool)
        or not isinstance(seconds, int | float)
        or not math.isfinite(seconds)
        or not 0 < seconds <= MAX_QUOTA_SECONDS
    ):
        limit = f"{MAX_QUOTA_SECONDS:g}"
        raise ValueError(f"the quota's seconds must be a number over 0 and at most {limit}, not {seconds!r}")
    return requests, float(seconds)


def parse_quota(text: str) -> tuple[int, float]:
    """``"100/10"`` as (100, 10.0): requests per seconds; ValueError naming the problem otherwise."""
    requests, slash, seconds = text.partition("/")
    try:
        if not slash:
            raise ValueError
        return _checked(int(requests.strip()), float(seconds.strip()))
    except ValueError as exc:
        detail = f": {exc}" if str(exc) else ""
        raise ValueError(f"a quota is REQUESTS/SECONDS, such as 100/10, not {text[:40]!r}{detail}") from None


class Quota:
    """A sliding window of the requests let through, thread-safe. ``limit`` is ``None`` when there is no quota."""

    def __init__(self, limit: tuple[int, float] | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._sent: deque[float] = deque()
        self.limit: tuple[int, float] | None = None
        self.set(limit)

    def set(self, limit: tuple[int, float] | None) -> None:
        """A new quota (or none), with an empty window."""
        checked = None if limit is None else _checked(*limit)
        with self._lock:
            self.limit = checked
            self._sent.clear()

    def take(self) -> int | None:
        """Let one request through (``None``), or the whole seconds it must wait for room (at least 1)."""
        with self._lock:
            if self.limit is None:
                return None
            requests, seconds = self.limit
            now = self._clock()
            sent = self._sent
            while sent and sent[0] <= now - seconds:
                sent.popleft()
            if len(sent) < requests:
                sent.append(now)
                return None
            return max(1, math.ceil(sent[0] + seconds - now))

    def as_json(self) -> dict[str, Any]:
        if self.limit is None:
            return {"requests": None, "seconds": None}
        return {"requests": self.limit[0], "seconds": self.limit[1]}

    def configure(self, body: Any) -> None:
        """Apply an admin body ``{"requests": N, "seconds": S}``; ValueError naming the problem, nothing changed."""
        if not isinstance(body, dict) or set(body) != {"requests", "seconds"}:
            raise ValueError('the body must be {"requests": N, "seconds": S}')
        self.set((body["requests"], body["seconds"]))
