"""OpenTelemetry traces and metrics, when the application uses OpenTelemetry; nothing at all when it does not. The SDK
only uses the global tracer, meter and propagator providers: the application configures OpenTelemetry, the library
never does.

"Uses" means the application has imported ``opentelemetry`` (no provider can be configured without importing it) or
names a provider in the environment (``OTEL_PYTHON_TRACER_PROVIDER``, ``OTEL_PYTHON_METER_PROVIDER``). Until then the
SDK does not import opentelemetry-api even when it is installed: a program that does not trace pays neither its
memory (about 1 MiB) nor a no-op span a page. It is checked on each page until it holds, so an application that
configures OpenTelemetry after making its client is traced from its next page.

- One CLIENT span for each HTTP try, named for its method, made where the tries are made (the retry transport),
  with the HTTP client semantic conventions' attributes, and a W3C ``traceparent`` of that span on the request.
  Other HTTP instrumentation (opentelemetry-instrumentation-httpx) is suppressed inside it, so a try is one span.
- One INTERNAL span for each page fetch, ``SpeechToTextModels.list_models``, parent of its tries, with azure-core's
  ``az.namespace``, ``az.client_request_id`` and ``az.service_request_id``. A listing is a lazy iterable that its
  caller may abandon anywhere, so a span for the whole listing would stay open across the caller's own code.
- The histogram ``http.client.request.duration`` (seconds), one point for each try.
"""

from __future__ import annotations

import os
import sys
import time
from types import SimpleNamespace
from typing import Any

import httpx

from ._version import __version__

__all__ = ["Operation", "Try", "in_use"]

_SCOPE = "speech_models"
_OPERATION = "SpeechToTextModels.list_models"
_NAMESPACE = "Microsoft.CognitiveServices"
_PROVIDER_VARIABLES = ("OTEL_PYTHON_TRACER_PROVIDER", "OTEL_PYTHON_METER_PROVIDER")
# The buckets the HTTP semantic conventions advise for http.client.request.duration.
_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0]
_otel: Any = None
"""The OpenTelemetry API and the SDK's tracer and histogram, once the application uses OpenTelemetry."""
_installed = True
"""False once importing opentelemetry-api failed: a failed import is not cached by Python, and retrying it on every
page would search ``sys.path`` each time."""


def _load() -> Any:
    """The API and instruments (made from the global providers: proxies that follow a provider configured later), or
    ``None`` while the application does not use OpenTelemetry or opentelemetry-api is not installed."""
    global _otel, _installed
    if _otel is not None or not _installed:
        return _otel
    if sys.modules.get("opentelemetry") is None and not any(os.environ.get(name) for name in _PROVIDER_VARIABLES):
        return None
    try:
        from opentelemetry import context, metrics, propagate, trace
    except ImportError:  # the [otel] extra is not installed
        _installed = False
        return None
    suppress_http = getattr(context, "_SUPPRESS_HTTP_INSTRUMENTATION_KEY", None)  # azure-core uses it too
    histogram = metrics.get_meter(_SCOPE, __version__).create_histogram(
        "http.client.request.duration",
        unit="s",
        description="Duration of HTTP client requests.",
        explicit_bucket_boundaries_advisory=_BUCKETS,
    )
    _otel = SimpleNamespace(
        context=context,
        propagate=propagate,
        trace=trace,
        suppress_http=suppress_http,
        tracer=trace.get_tracer(_SCOPE, __version__),
        histogram=histogram,
    )
    return _otel


def in_use() -> bool:
    """Whether spans and points are being made: the application uses OpenTelemetry and opentelemetry-api is
    installed."""
    return _load() is not None


def _server(url: httpx.URL) -> dict[str, Any]:
    port = url.port or (443 if url.scheme == "https" else 80)
    return {"server.address": url.host, "server.port": port}


class Try:
    """One HTTP try: its CLIENT span (current while the try runs) and its duration point. Inert when `enabled` is
    false or OpenTelemetry is absent."""

    __slots__ = ("_attributes", "_otel", "_span", "_started", "_token")

    def __init__(self, request: httpx.Request, resend_count: int, enabled: bool) -> None:
        self._span: Any = None
        otel = _load() if enabled else None
        if otel is None:
            return
        self._otel = otel
        self._attributes: dict[str, Any] = {"http.request.method": request.method, **_server(request.url)}
        attributes = {**self._attributes, "url.full": str(request.url)}  # no secret travels in this API's URLs
        if resend_count:
            attributes["http.request.resend_count"] = resend_count
        self._span = otel.tracer.start_span(request.method, kind=otel.trace.SpanKind.CLIENT, attributes=attributes)
        ctx = otel.trace.set_span_in_context(self._span)
        otel.propagate.inject(request.headers, context=ctx)
        if otel.suppress_http is not None:
            ctx = otel.context.set_value(otel.suppress_http, True, ctx)
        self._token = otel.context.attach(ctx)
        self._started = time.perf_counter()

    def end(self, response: httpx.Response | None = None, error: BaseException | None = None) -> None:
        """End the try with its response, or the exception that ended it (a cancellation is not an error)."""
        span = self._span
        if span is None:
            return
        self._span = None
        otel = self._otel
        otel.context.detach(self._token)
        attributes = self._attributes
        error_type = None
        if response is not None:
            attributes["http.response.status_code"] = response.status_code
            span.set_attribute("http.response.status_code", response.status_code)
            if response.status_code >= 400:
                error_type = str(response.status_code)
        elif error is not None and isinstance(error, Exception):
            error_type = type(error).__qualname__
        if error_type is not None:
            attributes["error.type"] = error_type
            span.set_attribute("error.type", error_type)
            span.set_status(otel.trace.StatusCode.ERROR)
        otel.histogram.record(time.perf_counter() - self._started, attributes)
        span.end()


class Operation:
    """One page fetch: the INTERNAL span that is the parent of its tries. Use as a context manager."""

    __slots__ = ("_otel", "_span", "_token")

    def __init__(self, request: httpx.Request, enabled: bool) -> None:
        self._span: Any = None
        otel = _load() if enabled else None
        if otel is None:
            return
        self._otel = otel
        attributes = {"az.namespace": _NAMESPACE, **_server(request.url)}
        client_request_id = request.headers.get("x-ms-client-request-id")
        if client_request_id:
            attributes["az.client_request_id"] = client_request_id
        self._span = otel.tracer.start_span(_OPERATION, kind=otel.trace.SpanKind.INTERNAL, attributes=attributes)
        self._token = otel.context.attach(otel.trace.set_span_in_context(self._span))

    def __enter__(self) -> Operation:
        return self

    def service_request_id(self, value: str | None) -> None:
        if self._span is not None and value:
            self._span.set_attribute("az.service_request_id", value)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        span = self._span
        if span is None:
            return
        self._span = None
        otel = self._otel
        otel.context.detach(self._token)
        if exc is not None and isinstance(exc, Exception):  # a cancellation (BaseException) is not an error
            span.set_attribute("error.type", type(exc).__qualname__)
            span.set_status(otel.trace.StatusCode.ERROR, str(exc)[:200])
        span.end()
