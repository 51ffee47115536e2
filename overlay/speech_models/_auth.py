"""How requests are authenticated: the subscription key header, kept out of every repr and log."""

from __future__ import annotations

import os
from collections.abc import Generator

import httpx

from ._config import KEY_ENV, KEY_HEADER
from ._errors import ConfigurationError

__all__ = ["SubscriptionKeyAuth"]


class SubscriptionKeyAuth(httpx.Auth):
    """Sends the ``Ocp-Apim-Subscription-Key`` header; its repr never shows the key."""

    def __init__(self, key: str | None = None) -> None:
        value = key if key is not None else os.environ.get(KEY_ENV)
        if value is None or not isinstance(value, str) or not value.strip():
            raise ConfigurationError(f"no subscription key: pass key=... or set {KEY_ENV}")
        value = value.strip()
        if not value.isprintable() or any(ch.isspace() for ch in value) or not value.isascii():
            raise ConfigurationError("the subscription key contains whitespace, control or non-ASCII characters")
        self._key = value

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers[KEY_HEADER] = self._key
        yield request

    def __repr__(self) -> str:
        return "SubscriptionKeyAuth(key=[redacted])"
