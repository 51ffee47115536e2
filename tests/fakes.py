"""Fakes shared by the tests: time that passes only when the code under test reads or sleeps."""

from __future__ import annotations


class FakeClock:
    """A monotonic clock that moves `step` seconds each time it is read, and by every sleep."""

    def __init__(self, step: float = 0.0) -> None:
        self.now = 1000.0
        self.step = step
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        self.now += self.step
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)
