"""The endpoint: read from an argument or the environment, validated once, and the judge of which links the key
may follow."""

from __future__ import annotations

import functools
import ipaddress
import os
import re

import httpx

from ._config import ENDPOINT_ENV, LIST_PATH
from ._errors import ConfigurationError, NextLinkError

__all__ = ["Endpoint"]

_DEFAULT_PORTS = {"http": 80, "https": 443}
# Paths of the API itself that users paste into the endpoint; they are dropped rather than doubled.
_API_SUFFIXES = ("/speechtotext/models", "/speechtotext")
# The versioned paths of older releases of the API (/speechtotext/v3.2, /speechtotext/v3.1/models, ...).
_VERSIONED_PATH = re.compile(r"/speechtotext/v[0-9][^/]*", re.IGNORECASE)
_HOST_NAME = re.compile(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.?")


def _ip_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _is_loopback(host: str) -> bool:
    address = _ip_address(host)
    return host == "localhost" or (address is not None and address.is_loopback)


def _is_host_name(host: str) -> bool:
    """Whether `host` (httpx's, with a non-ASCII name already in its ``xn--`` form) can be looked up: an IP address,
    or a name of letters, digits, ``-``, ``.`` and ``_``. httpx percent-encodes anything else into the host (a typed
    space becomes ``exa%20mple.com``), which would only fail later as a connection error."""
    return _ip_address(host) is not None or _HOST_NAME.fullmatch(host) is not None


def _without_userinfo(value: str) -> str:
    """`value` with any ``user:password@`` removed, for messages about a URL that must not echo a secret."""
    scheme, sep, rest = value.partition("://")
    if not sep:
        return "[a URL]" if "@" in value else value
    authority, slash, tail = rest.partition("/")
    return f"{scheme}://{authority.rpartition('@')[2]}{slash}{tail}"


class Endpoint:
    """The service's base URL: https, or plain http on a loopback host only (for the emulator).

    A path is kept as a prefix (an API gateway that mounts the service under one), except the API's own
    ``/speechtotext`` or ``/speechtotext/models``, which are dropped so the list path is never doubled.
    """

    def __init__(self, raw: str | None = None) -> None:
        value = raw if raw is not None else os.environ.get(ENDPOINT_ENV)
        if value is None or not isinstance(value, str) or not value.strip():
            raise ConfigurationError(
                f"no endpoint: pass endpoint=... or set {ENDPOINT_ENV} "
                "(for example https://westus.api.cognitive.microsoft.com)"
            )
        value = value.strip()
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # undecodable bytes in the environment arrive as lone surrogates
            printable = _without_userinfo(value.encode("utf-8", "backslashreplace").decode("ascii", "replace"))
            raise ConfigurationError(
                f"the endpoint {printable[:100]!r} is not valid text (undecodable bytes, from the environment?)"
            ) from None
        shown = _without_userinfo(value)
        if "?" in value or "#" in value:  # even an empty one ("https://host/gw?"), which httpx drops
            raise ConfigurationError(f"the endpoint {shown!r} must not carry a query or a fragment")
        try:
            url = httpx.URL(value)
        except httpx.InvalidURL:
            raise ConfigurationError(f"the endpoint {shown!r} is not a valid URL") from None
        if url.userinfo:
            raise ConfigurationError(
                f"the endpoint {shown!r} must not carry credentials (user:password@): pass the key as key=..."
            )
        if url.scheme not in _DEFAULT_PORTS or not url.host:
            raise ConfigurationError(f"the endpoint {shown!r} must be an absolute http(s) URL with a host")
        if not _is_host_name(url.raw_host.decode("ascii", "replace")):
            raise ConfigurationError(
                f"the endpoint {shown!r} has no valid host name: a host is letters, digits, '-', '.' and '_', "
                "or an IP address"
            )
        if url.scheme == "http" and not _is_loopback(url.host):
            raise ConfigurationError(
                f"the endpoint {shown!r} uses plain http: use https (plain http is allowed only for loopback hosts)"
            )
        path = url.path.rstrip("/")
        versioned = _VERSIONED_PATH.search(path)
        if versioned:
            raise ConfigurationError(
                f"the endpoint {shown!r} carries the path of another API version ({versioned.group(0)!r}): the "
                "endpoint is the resource's base URL, such as https://westus.api.cognitive.microsoft.com; the "
                "version is the client's api_version"
            )
        for suffix in _API_SUFFIXES:
            if path.endswith(suffix):
                path = path[: -len(suffix)]
                break
        self.url = url.copy_with(path=path or "/")
        self.list_path = path + LIST_PATH
        """The path every page of the list must be fetched from."""
        self._base = str(self.url)

    def __str__(self) -> str:
        return str(self.url).rstrip("/")

    def __repr__(self) -> str:
        return f"Endpoint({str(self)!r})"

    def resolve_link(self, link: str, api_version: str) -> httpx.URL:
        """The absolute URL to fetch for an ``@nextLink`` (or continuation token), with our ``api-version``.

        A relative link resolves against the endpoint. A link to another scheme, host or port, or to another path
        than the list's, raises ``NextLinkError`` before anything is sent: the key goes only to the list operation.
        A page's link is checked before the page is handed back and resolved again to fetch the next page, so the
        answers are remembered (the parse is a measurable cost per page).
        """
        return _resolve(self._base, self.list_path, link, api_version)


def _origin(url: httpx.URL) -> tuple[str, str, int]:
    return url.scheme, url.host, url.port or _DEFAULT_PORTS.get(url.scheme, 0)


@functools.lru_cache(maxsize=256)
def _resolve(base: str, list_path: str, link: str, api_version: str) -> httpx.URL:
    """``Endpoint.resolve_link`` for the endpoint `base` (a refused link raises each time: errors are not cached)."""
    endpoint = httpx.URL(base)
    try:
        url = httpx.URL(link)
        if url.is_relative_url:
            url = endpoint.join(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise NextLinkError(f"the @nextLink {link!r} is not a valid URL: {exc}", link=link) from exc
    if _origin(url) != _origin(endpoint) or url.userinfo:
        raise NextLinkError(
            f"refusing to follow an @nextLink to {url.scheme}://{url.host}:{url.port or ''}: "
            f"it is not the configured endpoint {base.rstrip('/')}, and the key must not go elsewhere",
            link=link,
        )
    if url.path != list_path:
        raise NextLinkError(
            f"refusing to follow an @nextLink to the path {url.path!r}: it is not the list operation's "
            f"{list_path!r}, and the key must not reach another operation",
            link=link,
        )
    versions = url.params.get_list("api-version")  # the query parsed once (a measurable cost per page)
    if versions == [api_version]:
        return url  # already right: skip re-encoding the URL (a measurable cost per page)
    return url.copy_set_param("api-version", api_version)
