"""One client's view of the service's quota, shared by every listing, thread and task of the client.

The service allows a resource 100 model-customization requests in 10 seconds, for all its clients together, and
answers past that with 429 and ``Retry-After``. What keeps a client from retrying into that wall one request at a
time:

- **the pause**: after a 429 with a wait, no request of the client is sent until the wait has passed;
- **the window** (additive increase, multiplicative decrease, as TCP's and botocore's adaptive mode): how many pages
  a listing fetches at once; halved by a 429, grown by one for every window's worth of pages that succeed;
- **the share**: a 429 with a wait also measures what this client got of the quota: the requests that succeeded
  since it started (or last resumed), in the time until the service said it may resume. Once the client has sent
  that many within that time again, its listings fetch one page at a time, so that when the wall comes (the other
  clients of the resource spend the same budget) one request meets it, not a wave. The share never holds a request
  back, so a client whose neighbours have gone runs on; the next 429 measures it anew, and six of its windows
  without one forget it;
- **the rate** (``rate_limit=(100, 10.0)``): when the quota is known, requests are spaced so that no window of that
  many seconds (and a tenth: the service counts arrivals, and the network's delay varies) holds more than that many
  of this client's requests; one the service refused anyway no longer counts.

``Throttle`` holds them, thread-safe and without I/O: the retry transports ask it before each attempt and tell it
how each ended; the read-ahead asks it how wide a wave may be.
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections import deque
from collections.abc import Callable

__all__ = ["MAX_WINDOW", "Throttle", "rate_limit_of"]

MAX_WINDOW = 64  # as list_models' largest concurrency
MAX_SHARE_SECONDS = 120.0  # a quota's window is seconds or a minute: a longer measure is of no window
FORGET_AFTER = 6  # a share is forgotten after this many of its windows without a 429
RATE_MARGIN = 0.1  # seconds added to a rate_limit's window: the service counts arrivals, and the network jitters


def rate_limit_of(value: object) -> tuple[int, float] | None:
    """A checked ``rate_limit``: ``None``, or (requests, seconds) with at least one request in a positive time."""
    if value is None:
        return None
    if isinstance(value, tuple) and len(value) == 2:
        requests, seconds = value
        if (
            isinstance(requests, int)
            and not isinstance(requests, bool)
            and requests >= 1
            and isinstance(seconds, int | float)
            and not isinstance(seconds, bool)
            and math.isfinite(seconds)
            and seconds > 0
        ):
            return requests, float(seconds)
    raise ValueError(f"rate_limit must be (requests, seconds), such as (100, 10.0), not {value!r}")


class Throttle:
    """The pause, the window, the share and the rate of one client; `clock` is monotonic (tests pass a fake)."""

    def __init__(self, clock: Callable[[], float], rate_limit: tuple[int, float] | None = None) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._paused_until = -math.inf
        self.rate_limit = rate_limit_of(rate_limit)
        self.share: tuple[int, float] | None = None  # (requests, seconds) the last 429 measured
        self._share_at = -math.inf  # when it was measured
        self._since: float | None = None  # the first send, or the end of the last pause
        self._succeeded = 0  # requests sent since then that succeeded
        self._sent: deque[float] = deque()  # this client's sends within the longest window kept
        self.window: float | None = None  # pages at once; None until the first 429
        self._widest = 1  # the widest wave asked for, which the first 429 halves
        self.epoch = 0  # moves on at every 429 that halves the window: requests in flight with it do not again

    def admit(self, pause: bool = True) -> tuple[float, str, float | None]:
        """Whether a request may be sent now: ``(0, "", at)``, and it is counted as sent at `at`; or the seconds to
        wait first and why (``"pause"`` or ``"rate"``). `pause` ``False`` sends through a pause (the caller's
        deadline would not outlast it: the service answers for itself)."""
        with self._lock:
            now = self._clock()
            if pause and self._paused_until > now:
                return self._paused_until - now, "pause", None
            if self._since is None:
                self._since = now
            if self.share is not None and now - self._share_at >= FORGET_AFTER * self.share[1]:
                self.share = None  # the neighbours may have gone: the next 429 measures anew
                self._since, self._succeeded = now, 0
            sent = self._sent
            rate = None if self.rate_limit is None else (self.rate_limit[0], self.rate_limit[1] + RATE_MARGIN)
            kept = max(rate[1] if rate else 0.0, self.share[1] if self.share else 0.0)
            while sent and sent[0] <= now - kept:
                sent.popleft()
            if rate is not None:
                requests, seconds = rate
                start = now - seconds  # one subtraction for both: at a float boundary the wait stays positive
                if len(sent) - _first_within(sent, start) >= requests:
                    return sent[len(sent) - requests] - start, "rate", None
            if not kept:
                return 0.0, "", None
            sent.append(now)
            return 0.0, "", now

    def throttled(self, wait: float | None, epoch: int, sent_at: float | None = None) -> None:
        """A 429 to a request sent in `epoch` (at `sent_at`, as ``admit`` counted it): every request waits `wait`
        seconds (when the service gave one); the first such 429 of the requests in flight together halves the
        window and measures the share. The refused request no longer counts against the rate (the service did
        not count it either)."""
        with self._lock:
            if sent_at is not None:
                with contextlib.suppress(ValueError):
                    self._sent.remove(sent_at)
            if epoch != self.epoch:
                if wait is not None:
                    self._paused_until = max(self._paused_until, self._clock() + wait)
                return
            self.epoch += 1
            self.window = max(1.0, (self._widest if self.window is None else self.window) / 2)
            if wait is None:
                return
            now = self._clock()
            self._paused_until = max(self._paused_until, now + wait)
            if self.rate_limit is None and self._since is not None and now + wait - self._since <= MAX_SHARE_SECONDS:
                self.share = (max(1, self._succeeded), now + wait - self._since)
                self._share_at = now
            self._since, self._succeeded = now + wait, 0

    def succeeded(self, epoch: int) -> None:
        """A request sent in `epoch` that succeeded: the window grows by one for every window's worth of them. One
        sent before the last 429 that measured the share belongs to that share."""
        with self._lock:
            if epoch == self.epoch:
                self._succeeded += 1
            elif epoch == self.epoch - 1 and self.share is not None:
                self.share = (self.share[0] + 1, self.share[1])
            if self.window is not None:
                self.window = min(float(MAX_WINDOW), self.window + 1 / self.window)

    def width(self, concurrency: int) -> int:
        """How many pages a listing asking for `concurrency` at once may fetch in its next wave: the window's
        worth, and one once the share of the current window is spent."""
        with self._lock:
            if self.window is None:
                self._widest = max(self._widest, concurrency)
                return concurrency
            width = min(concurrency, math.floor(self.window))
            if self.share is not None:
                requests, seconds = self.share
                sent = self._sent
                left = requests - (len(sent) - _first_within(sent, self._clock() - seconds))
                width = min(width, left)
            return max(1, width)


def _first_within(sent: deque[float], start: float) -> int:
    """The index of the first send after `start` (sends are in time order)."""
    for index, at in enumerate(sent):
        if at > start:
            return index
    return len(sent)
