"""Fault injection outside the contract: throttling, latency and malformed bodies, for tests and demos.

Set by configuration (``create_app(faults=Faults(...))``) or at run time through the admin route
``POST /_emulator/faults`` with the same fields as JSON; ``DELETE /_emulator/faults`` clears them.
"""

from __future__ import annotations

import email.utils
import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from .chaos import KINDS

__all__ = ["MAX_LATENCY", "MAX_RETRY_AFTER", "Fault", "Faults", "retry_after_headers"]

MAX_LATENCY = 30.0
MAX_RETRY_AFTER = 86_400.0  # a day: any wait a test or demo asks for, and every format can write it


@dataclass(frozen=True)
class Fault:
    """What the next request to the models list gets instead of (or before) its answer."""

    status: int | None = None  # answer with this status (429, 503, ...) and an Error body
    retry_after: float | None = None  # ... with this Retry-After
    retry_after_format: str = "seconds"  # "seconds", "http-date" or "ms" (sent as retry-after-ms)
    malformed: bool = False  # answer 200 with a body that is not JSON
    kind: str | None = None  # a chaos kind (reset, midbody, stall, drip, throttle, unavailable), fixed parameters


@dataclass
class Faults:
    """A thread-safe queue of one-shot faults, plus a latency added to every models request."""

    latency: float = 0.0
    queue: list[Fault] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, fault: Fault, count: int = 1) -> None:
        with self._lock:
            self.queue.extend([fault] * count)

    def next(self) -> Fault | None:
        with self._lock:
            return self.queue.pop(0) if self.queue else None

    def clear(self) -> None:
        with self._lock:
            self.queue.clear()
            self.latency = 0.0

    def configure(self, body: Any) -> None:
        """Apply an admin request body: {"count", "status", "retry_after", "retry_after_format", "malformed",
        "latency", "revoke_tokens" (applied by the app: every bearer token issued so far stops working)}.
        Every field is checked first; a bad one raises ValueError naming it and changes nothing."""
        if not isinstance(body, dict):
            raise ValueError("the body must be a JSON object")
        known = {
            "count",
            "status",
            "retry_after",
            "retry_after_format",
            "malformed",
            "latency",
            "revoke_tokens",
            "kind",
        }
        unknown = set(body) - known
        if unknown:
            raise ValueError(f"unknown fields: {', '.join(sorted(unknown))}")
        latency = body.get("latency")
        if latency is not None and not _number_within(latency, 0, MAX_LATENCY):
            raise ValueError(f"latency must be a number of seconds from 0 to {MAX_LATENCY:g}")
        count = body.get("count", 1)
        if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= 1000:
            raise ValueError("count must be an integer from 0 to 1000")
        status = body.get("status")
        if status is not None and (isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599):
            raise ValueError("status must be an error status from 400 to 599")
        retry_after = body.get("retry_after")
        if retry_after is not None and not _number_within(retry_after, 0, MAX_RETRY_AFTER):
            raise ValueError(f"retry_after must be a finite number of seconds from 0 to {MAX_RETRY_AFTER:g}")
        fmt = body.get("retry_after_format", "seconds")
        if fmt not in ("seconds", "http-date", "ms"):
            raise ValueError("retry_after_format must be 'seconds', 'http-date' or 'ms'")
        malformed = body.get("malformed", False)
        if not isinstance(malformed, bool):
            raise ValueError("malformed must be true or false")
        if not isinstance(body.get("revoke_tokens", False), bool):
            raise ValueError("revoke_tokens must be true or false")
        kind = body.get("kind")
        if kind is not None and (kind not in KINDS or status is not None or malformed):
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, without status or malformed")
        if latency is not None:
            self.latency = float(latency)
        if status is not None or malformed or kind is not None:
            self.add(Fault(status, retry_after, fmt, malformed, kind), count)


def _number_within(value: Any, low: float, high: float) -> bool:
    """A JSON number (not a boolean, NaN or infinity) from `low` to `high`."""
    return (
        not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value) and low <= value <= high
    )


def retry_after_headers(fault: Fault) -> dict[str, str]:
    """The headers that carry a fault's Retry-After in its format."""
    if fault.retry_after is None:
        return {}
    if fault.retry_after_format == "ms":
        return {"retry-after-ms": str(round(fault.retry_after * 1000))}
    if fault.retry_after_format == "http-date":
        # HTTP-dates have whole seconds: round up so the wait is never shorter than asked.
        return {"Retry-After": email.utils.formatdate(math.ceil(time.time() + fault.retry_after), usegmt=True)}
    return {"Retry-After": str(round(fault.retry_after))}
