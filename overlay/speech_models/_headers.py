"""Reading response headers: the wait a response asks for (``Retry-After`` and its millisecond cousins) and the
request id. Pure functions over any mapping of header names, whatever their case."""

from __future__ import annotations

import datetime
import math
import re
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime

from ._config import REQUEST_ID_HEADERS

__all__ = ["parse_retry_after", "request_id", "retry_after_hint"]

# The millisecond headers are more precise than Retry-After, so they win when present and valid (azure-core's
# order). An invalid value in one header falls through to the next.
_MS_HEADERS = ("retry-after-ms", "x-ms-retry-after-ms")
# ASCII only: str.isdigit() and float() also accept other scripts' digits ("²", "٣"), which HTTP does not.
_DELTA_SECONDS = re.compile(r"[0-9]+")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def _lowered(headers: Mapping[str, str]) -> Mapping[str, str]:
    """`headers` with lower-case names; an ``httpx.Headers`` already matches names case-insensitively."""
    if hasattr(headers, "get_list"):  # httpx.Headers
        return headers
    return {str(name).lower(): value for name, value in headers.items()}


def _number(raw: str) -> float | None:
    """A finite, non-negative ASCII decimal, or ``None``."""
    if not _DECIMAL.fullmatch(raw):
        return None
    value = float(raw)
    return value if math.isfinite(value) and value >= 0 else None


def retry_after_hint(headers: Mapping[str, str], now: float | None = None) -> tuple[float, str] | None:
    """The wait the server asks for, in seconds, with the header it came from; ``None`` when none is valid."""
    headers = _lowered(headers)
    for name in _MS_HEADERS:
        raw = headers.get(name)
        if isinstance(raw, str):
            millis = _number(raw.strip())
            if millis is not None:
                return millis / 1000.0, name
    raw = headers.get("retry-after")
    if not isinstance(raw, str):
        return None
    raw = raw.strip()
    if _DELTA_SECONDS.fullmatch(raw):  # delta-seconds (RFC 9110 section 10.2.3): 1*DIGIT
        return float(raw), "retry-after"
    if _DECIMAL.fullmatch(raw):  # not RFC 9110, but seen in the wild ("1.5"); a negative one is garbage
        seconds = _number(raw)
        return None if seconds is None else (seconds, "retry-after")
    if not raw.isascii():
        return None
    try:
        when = parsedate_to_datetime(raw)  # IMF-fixdate, RFC 850 and asctime forms
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # asctime carries no zone; HTTP dates are always GMT
        when = when.replace(tzinfo=datetime.UTC)
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current), "retry-after"


def parse_retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Return the wait a response asks for, in seconds, or ``None`` when it asks for none (or only garbage).

    Reads ``retry-after-ms``, then ``x-ms-retry-after-ms`` (milliseconds), then ``Retry-After`` as delta-seconds or
    an HTTP-date (RFC 9110; a date in the past gives ``0.0``). Negative, non-ASCII and unparsable values are ignored.

    Args:
        headers: the response headers: ``httpx.Headers``, or any mapping (a plain ``dict`` in any case works).
        now: the current wall-clock time as a POSIX timestamp, for HTTP-dates; defaults to ``time.time()``.
    """
    hint = retry_after_hint(headers, now)
    return None if hint is None else hint[0]


def request_id(headers: Mapping[str, str]) -> str | None:
    """The first of the request id headers the service sent, if any."""
    headers = _lowered(headers)
    return next((headers[name] for name in REQUEST_ID_HEADERS if name in headers), None)
