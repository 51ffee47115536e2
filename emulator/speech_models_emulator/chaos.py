"""Chaos: faults drawn at random, reproducibly, for each models request, as LocalStack's chaos API and WireMock's
fault kinds do. A seeded generator draws whether a request meets a fault, which kind and its parameters, in the
order requests arrive, so the same seed and the same sequence of requests give the same faults.

Kinds: ``reset`` (the connection closes before the response head), ``midbody`` (the head and part of the body,
then the connection closes), ``stall`` (1-3 s before the head), ``drip`` (the body in small pieces over 1-3 s),
``throttle`` (429 with a wait of 0-1 s in one of the three header forms the SDK reads) and ``unavailable`` (503
with ``Retry-After``). ``reset`` and ``midbody`` need a socket (``run_emulator``); in-process they are not drawn.
"""

from __future__ import annotations

import math
import random
import threading
from dataclasses import dataclass, field
from typing import Any

__all__ = ["KINDS", "SOCKET_KINDS", "Chaos", "ChaosFault"]

KINDS = ("reset", "midbody", "stall", "drip", "throttle", "unavailable")
SOCKET_KINDS = frozenset({"reset", "midbody"})
_FORMS = ("seconds", "http-date", "ms")


@dataclass(frozen=True)
class ChaosFault:
    """One fault to apply to one request: its kind and the parameters drawn for it."""

    kind: str
    seconds: float = 0.0  # stall, drip: how long; throttle, unavailable: the wait asked for
    fraction: float = 0.5  # midbody: how much of the body is sent before the connection closes
    form: str = "seconds"  # throttle: which header carries the wait

    @classmethod
    def fixed(cls, kind: str) -> ChaosFault:
        """The one-shot fault of `kind` (``POST /_emulator/faults`` with ``{"kind": ...}``): fixed parameters."""
        seconds = {"stall": 1.0, "drip": 1.0, "throttle": 0.0, "unavailable": 1.0}.get(kind, 0.0)
        return cls(kind, seconds=seconds)


@dataclass
class Chaos:
    """The chaos settings (rate, seed, weight of each kind) and the generator that draws from them."""

    rate: float = 0.0
    seed: int | None = None
    weights: dict[str, float] = field(default_factory=lambda: dict.fromkeys(KINDS, 1.0))
    _rng: random.Random = field(default_factory=random.Random, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self._check(self.rate, self.seed, self.weights)
        self._rng = random.Random(self.seed)  # noqa: S311 - reproducible faults, not cryptography

    @staticmethod
    def _check(rate: Any, seed: Any, weights: Any) -> None:
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not (math.isfinite(rate) and 0 <= rate <= 1):
            raise ValueError("rate must be a number from 0 to 1")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or abs(seed) > 2**63):
            raise ValueError("seed must be an integer")
        if not isinstance(weights, dict) or set(weights) - set(KINDS):
            raise ValueError(f"kinds must map kinds ({', '.join(KINDS)}) to weights")
        for kind, weight in weights.items():
            if isinstance(weight, bool) or not isinstance(weight, int | float) or not (0 <= weight <= 1_000_000):
                raise ValueError(f"the weight of {kind} must be a number from 0 to 1000000")

    def configure(self, body: Any) -> None:
        """Apply ``POST /_emulator/chaos``: ``{"rate": 0.3, "seed": 7, "kinds": {"reset": 2, "stall": 0}}`` (kinds
        left out keep weight 1; ``"kinds": ["reset", "throttle"]`` gives those weight 1 and the others 0). Every
        field is checked before any is applied; the generator restarts from the seed."""
        if not isinstance(body, dict) or set(body) - {"rate", "seed", "kinds"}:
            raise ValueError('the body must be {"rate": 0..1, "seed": integer, "kinds": {kind: weight}}')
        kinds = body.get("kinds", {})
        if isinstance(kinds, list):
            if not all(isinstance(kind, str) for kind in kinds):
                raise ValueError("kinds must be kind names")
            kinds = {kind: (1.0 if kind in kinds else 0.0) for kind in set(KINDS) | set(kinds)}
        weights = {**dict.fromkeys(KINDS, 1.0), **kinds} if isinstance(kinds, dict) else kinds
        rate, seed = body.get("rate", self.rate), body.get("seed")
        self._check(rate, seed, weights)
        with self._lock:
            self.rate, self.seed, self.weights = float(rate), seed, weights
            self._rng = random.Random(seed)  # noqa: S311

    def draw(self, with_socket: bool) -> ChaosFault | None:
        """The fault for the next request, or None. Every draw takes the same numbers from the generator whatever
        its outcome, so a replay with the same seed meets the same faults."""
        with self._lock:
            rng = self._rng
            hit, pick, seconds, fraction, form = rng.random(), rng.random(), rng.random(), rng.random(), rng.random()
            if not hit < self.rate:
                return None
            kinds = [k for k in KINDS if self.weights.get(k, 0) > 0 and (with_socket or k not in SOCKET_KINDS)]
            if not kinds:
                return None
            total = sum(self.weights[k] for k in kinds)
            point, kind = pick * total, kinds[-1]
            for candidate in kinds:
                point -= self.weights[candidate]
                if point < 0:
                    kind = candidate
                    break
        if kind in ("stall", "drip"):
            return ChaosFault(kind, seconds=1.0 + 2.0 * seconds)
        if kind == "throttle":
            return ChaosFault(kind, seconds=seconds, form=_FORMS[min(int(form * 3), 2)])
        if kind == "unavailable":
            return ChaosFault(kind, seconds=1.0)
        return ChaosFault(kind, fraction=0.1 + 0.8 * fraction)

    def as_json(self) -> dict[str, Any]:
        return {"rate": self.rate, "seed": self.seed, "kinds": dict(self.weights)}
