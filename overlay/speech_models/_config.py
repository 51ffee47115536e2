"""Endpoint and key: read from arguments or the environment, validated once, and kept out of every repr and log."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Generator

import httpx

from ._errors import KEY_HEADER, ConfigurationError, NextLinkError

__all__ = ["ENDPOINT_ENV", "KEY_ENV", "Endpoint", "SubscriptionKeyAuth"]

ENDPOINT_ENV = "AZURE_SPEECH_ENDPOINT"
KEY_ENV = "AZURE_SPEECH_KEY"
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Endpoint:
    """The service's base URL: https, or plain http on a loopback host only (for the emulator)."""

    def __init__(self, raw: str | None = None) -> None:
        value = raw if raw is not None else os.environ.get(ENDPOINT_ENV)
        if value is None or not value.strip():
            raise ConfigurationError(
                f"no endpoint: pass endpoint=... or set {ENDPOINT_ENV} "
                "(for example https://westus.api.cognitive.microsoft.com)"
            )
        try:
            url = httpx.URL(value.strip())
        except httpx.InvalidURL as exc:
            raise ConfigurationError(f"the endpoint {value!r} is not a valid URL: {exc}") from exc
        if url.scheme not in _DEFAULT_PORTS or not url.host:
            raise ConfigurationError(f"the endpoint {value!r} must be an absolute http(s) URL with a host")
        if url.scheme == "http" and not _is_loopback(url.host):
            raise ConfigurationError(
                f"the endpoint {value!r} uses plain http: use https (plain http is allowed only for loopback hosts)"
            )
        if url.userinfo or url.query or url.fragment:
            raise ConfigurationError(f"the endpoint {value!r} must not carry credentials, a query or a fragment")
        self.url = url.copy_with(path=url.path.rstrip("/") or "/")

    def __str__(self) -> str:
        return str(self.url).rstrip("/")

    def __repr__(self) -> str:
        return f"Endpoint({str(self)!r})"

    def _origin(self, url: httpx.URL) -> tuple[str, str, int]:
        return url.scheme, url.host, url.port or _DEFAULT_PORTS.get(url.scheme, 0)

    def resolve_link(self, link: str, api_version: str) -> httpx.URL:
        """The absolute URL to fetch for an ``@nextLink`` (or continuation token), with our ``api-version``.

        A relative link resolves against the endpoint. A link to another scheme, host or port raises
        ``NextLinkError`` before anything is sent: the subscription key goes only to the configured endpoint.
        """
        try:
            url = httpx.URL(link)
            if url.is_relative_url:
                url = self.url.join(url)
        except (httpx.InvalidURL, TypeError) as exc:
            raise NextLinkError(f"the @nextLink {link!r} is not a valid URL: {exc}", link=link) from exc
        if self._origin(url) != self._origin(self.url):
            raise NextLinkError(
                f"refusing to follow an @nextLink to {url.scheme}://{url.netloc.decode('ascii', 'replace')}: "
                f"it is not the configured endpoint {self}, and the subscription key must not go elsewhere",
                link=link,
            )
        if url.params.get("api-version") == api_version and len(url.params.get_list("api-version")) == 1:
            return url  # already right: skip re-encoding the URL (a measurable cost per page)
        return url.copy_set_param("api-version", api_version)


class SubscriptionKeyAuth(httpx.Auth):
    """Sends the ``Ocp-Apim-Subscription-Key`` header; its repr never shows the key."""

    def __init__(self, key: str | None = None) -> None:
        value = key if key is not None else os.environ.get(KEY_ENV)
        if value is None or not value.strip():
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
