"""One exception tree for every failure of a call, and of reading what it returned, so one
``except SpeechModelsError`` catches them all.

    SpeechModelsError
    ├── APIConnectionError             the service could not be reached (after retries)
    │   └── APITimeoutError            ... because a timeout expired
    ├── InvalidResponseError           a 2xx response whose body is not a valid page
    │   └── FieldValueError            a model's field holds a value of the wrong type (raised when it is read)
    ├── NextLinkError                  an ``@nextLink`` (or continuation token) that must not be followed
    ├── CredentialError                the token credential failed to give a token (its error is ``__cause__``)
    └── APIStatusError                 any non-2xx response; the parsed ``Error`` when the body is one
        ├── BadRequestError            400
        ├── AuthenticationError        401: missing or wrong subscription key
        ├── PermissionDeniedError      403
        ├── NotFoundError              404
        ├── RateLimitError             429
        └── ServiceError               5xx

Misuse of the SDK itself (a missing endpoint, a malformed key, a bad argument, a closed client) raises
``ConfigurationError``, a ``ValueError`` outside the tree, because it is a bug to fix rather than a failure to
handle.

The root, ``InvalidResponseError`` and ``FieldValueError`` are defined by the generated package (its
``errors`` module, from templates/errors.py.jinja), because the generated models raise ``FieldValueError``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx
from speech_models_client.errors import FieldValueError, InvalidResponseError, SpeechModelsError
from speech_models_client.models import Error, InnerError

from ._config import CLIENT_REQUEST_ID_HEADER, KEY_HEADER
from ._headers import parse_retry_after, request_id

if TYPE_CHECKING:
    from speech_models_client.models import DetailedErrorCode, ErrorCode

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ClientClosedError",
    "ConfigurationError",
    "CredentialError",
    "FieldValueError",
    "InvalidResponseError",
    "NextLinkError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ServiceError",
    "SpeechModelsError",
]

ATTEMPTS_EXTENSION = "speech_models.attempts"
_MAX_TEXT_IN_MESSAGE = 200
_SECRET_HEADERS = (KEY_HEADER, "Authorization")


@dataclass(frozen=True)
class Attempts:
    """How a call went in the retry transport: attempts made, seconds from the first to the end, and why it
    stopped retrying (``None`` when the last attempt was not a failure worth retrying)."""

    count: int
    seconds: float
    gave_up: str | None = None

    def describe(self) -> str:
        plural = "s" if self.count != 1 else ""
        return f"{self.count} attempt{plural} over {self.seconds:.1f}s, {self.gave_up}"


def attempts_of(message: httpx.Request | httpx.Response) -> Attempts | None:
    """What the retry transport recorded on the response it returned (or the request of the attempt whose error it
    raised), if it gave up on a retryable failure."""
    record = message.extensions.get(ATTEMPTS_EXTENSION)
    return record if isinstance(record, Attempts) and record.gave_up else None


class ConfigurationError(ValueError):
    """The SDK was configured wrongly: a missing or malformed endpoint or key, or a bad argument."""


class ClientClosedError(ConfigurationError, RuntimeError):
    """A listing was iterated after its client was closed (its ``with`` block ended, or ``close()`` was called);
    a ``RuntimeError`` too, as httpx's own error for it is."""


class APIConnectionError(SpeechModelsError):
    """The request did not get a whole response (refused, reset, closed mid-body, DNS), after the configured
    retries; ``attempts`` says how many were made over how many seconds."""

    attempts: Attempts | None = None


class APITimeoutError(APIConnectionError):
    """The request timed out, after the configured retries."""


class CredentialError(SpeechModelsError):
    """The token credential could not provide a token (azure-identity's ``ClientAuthenticationError`` or
    ``CredentialUnavailableError``, a malformed token, anything it raised); the original is ``__cause__``."""


class NextLinkError(SpeechModelsError):
    """An ``@nextLink`` or continuation token that is not followed: another origin, or a link seen before."""

    def __init__(self, message: str, *, link: str) -> None:
        super().__init__(message)
        self.link = link


class APIStatusError(SpeechModelsError):
    """The service answered with a non-2xx status.

    Attributes:
        status_code: the HTTP status.
        error: the body parsed as the generated ``Error`` model, or ``None`` when the body is not one.
        text: the body as text (kept when it is not an ``Error``: an HTML page from a proxy, a truncated body).
        request_id: the first of the request id headers the service sent, if any.
        client_request_id: the ``x-ms-client-request-id`` the SDK sent (the same on every retry of the call).
        retry_after: the wait the service asked for, in seconds, if it sent one.
        attempts: how many attempts were made over how many seconds, when retries gave up (else ``None``).
        response: the raw ``httpx.Response`` (its request's key header is redacted).
    """

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.status_code = response.status_code
        self.text = response.text
        self.error = _parse_error(self.text)
        self.request_id = request_id(response.headers)
        self.client_request_id = response.request.headers.get(CLIENT_REQUEST_ID_HEADER)
        self.retry_after = parse_retry_after(response.headers)
        self.attempts = attempts_of(response)
        super().__init__(self._describe())

    @property
    def code(self) -> ErrorCode | None:
        """The top-level error code (an ``ErrorCode``; a code newer than this SDK is kept as a string member);
        ``None`` when absent or not a string."""
        try:
            return None if self.error is None else self.error.code
        except FieldValueError:
            return None

    @property
    def message(self) -> str | None:
        """The service's high-level error message; ``None`` when absent or not a string."""
        try:
            return None if self.error is None else self.error.message
        except FieldValueError:
            return None

    @property
    def inner_errors(self) -> list[InnerError]:
        """The ``innerError`` chain, outermost first."""
        chain: list[InnerError] = []
        try:
            node = None if self.error is None else self.error.inner_error
            while node is not None:
                chain.append(node)
                node = node.inner_error
        except FieldValueError:  # a link of the chain is not an object: the chain ends before it
            pass
        return chain

    @property
    def detailed_codes(self) -> list[DetailedErrorCode]:
        """Every detailed code of the ``innerError`` chain, outermost first."""
        codes: list[DetailedErrorCode] = []
        for inner in self.inner_errors:
            try:
                code = inner.code
            except FieldValueError:
                continue
            if code is not None:
                codes.append(code)
        return codes

    def _describe(self) -> str:
        reason = self.response.reason_phrase or httpx.codes.get_reason_phrase(self.status_code)
        parts: list[str] = []
        if self.error is not None:
            if self.code is not None:
                parts.append(str(self.code))
            if self.message:
                parts.append(self.message)
            if self.detailed_codes:
                parts.append("detailed codes: " + " > ".join(map(str, self.detailed_codes)))
        elif self.text.strip():
            snippet = " ".join(self.text.split())
            if len(snippet) > _MAX_TEXT_IN_MESSAGE:
                snippet = snippet[:_MAX_TEXT_IN_MESSAGE] + "..."
            parts.append(f"body is not an Error: {snippet!r}")
        else:
            parts.append("empty body")
        if self.retry_after is not None:
            parts.append(f"retry after {self.retry_after:g}s")
        if self.request_id:
            parts.append(f"request id {self.request_id}")
        if self.attempts is not None:
            parts.append(self.attempts.describe())
        head = f"{self.status_code} {reason}".strip()
        return f"{head}: {'; '.join(parts)}" if parts else head


class BadRequestError(APIStatusError):
    """400: the request was rejected, for example an unsupported ``filter`` or an out-of-range ``top``."""


class AuthenticationError(APIStatusError):
    """401: the subscription key is missing or wrong."""


class PermissionDeniedError(APIStatusError):
    """403: the key is valid but may not do this."""


class NotFoundError(APIStatusError):
    """404: the resource (or the endpoint's path) does not exist."""


class RateLimitError(APIStatusError):
    """429: too many requests; ``retry_after`` says how long the service asked to wait."""


class ServiceError(APIStatusError):
    """5xx: the service failed."""


_STATUS_ERRORS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    429: RateLimitError,
}


def redact(request: httpx.Request) -> None:
    """Blank the secret headers of a request that is done, before an error that keeps it reaches the caller."""
    for name in _SECRET_HEADERS:
        if name in request.headers:
            request.headers[name] = "[redacted]"


def connection_error(exc: httpx.TransportError) -> APIConnectionError:
    """The SDK's error for a transport failure that retries did not overcome, its request redacted."""
    try:
        request = exc.request
    except RuntimeError:  # raised by httpx when the error carries no request
        where, attempts = "", None
    else:
        redact(request)  # the httpx error stays reachable as __cause__
        where, attempts = f" to {request.url}", attempts_of(request)
    cls = APITimeoutError if isinstance(exc, httpx.TimeoutException) else APIConnectionError
    tail = f" ({attempts.describe()})" if attempts is not None else ""
    error = cls(f"the request{where} failed: {type(exc).__name__}: {exc}{tail}")
    error.attempts = attempts
    return error


def status_error(response: httpx.Response) -> APIStatusError:
    """The typed error for a non-2xx `response` (whose body must have been read), with the key redacted."""
    redact(response.request)
    cls = _STATUS_ERRORS.get(response.status_code)
    if cls is None:
        cls = ServiceError if response.status_code >= 500 else APIStatusError
    return cls(response)


def _parse_error(text: str) -> Error | None:
    """The body as the generated ``Error`` model, or ``None`` when it is not a JSON object (its fields are checked
    when read)."""
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError):  # not JSON, or nested too deep to read: the text is kept
        return None
    return Error.from_dict(data) if isinstance(data, dict) else None
