"""OpenTelemetry traces and metrics, when ``opentelemetry-api`` is installed (the ``[otel]`` extra); nothing at all
when it is not. The SDK only uses the global tracer, meter and propagator providers: the application configures
OpenTelemetry, the library never does.

- One CLIENT span for each HTTP try, named for its method, made where the tries are made (the retry transport),
  with the HTTP client semantic conventions' attributes, and a W3C ``traceparent`` of that span on the request.
  Other HTTP instrumentation (opentelemetry-instrumentation-httpx) is suppressed inside it, so a try is one span.
- One INTERNAL span for each page fetch, ``SpeechToTextModels.list_models``, parent of its tries, with azure-core's
  ``az.namespace``, ``az.client_request_id`` and ``az.service_request_id``. A listing is a lazy iterable that its
  caller may abandon anywhere, so a span for the whole listing would stay open across the caller's own code.
- The histogram ``http.client.request.duration`` (seconds), one point for each try.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from ._version import __version__

try:
    from opentelemetry import context as otel_context
    from opentelemetry import metrics as otel_metrics
    from opentelemetry import propagate as otel_propagate
    from opentelemetry import trace as otel_trace
    from opentelemetry.trace import SpanKind, StatusCode
except ImportError:  # the [otel] extra is not installed: every helper below is a no-op
    otel_trace = None  # type: ignore[assignment]

try:
    from opentelemetry.context import _SUPPRESS_HTTP_INSTRUMENTATION_KEY as SUPPRESS_HTTP  # azure-core uses it too
except ImportError:
    SUPPRESS_HTTP = None  # type: ignore[assignment]

__all__ = ["AVAILABLE", "Operation", "Try"]

AVAILABLE = otel_trace is not None
_SCOPE = "speech_models"
_OPERATION = "SpeechToTextModels.list_models"
_NAMESPACE = "Microsoft.CognitiveServices"
# The buckets the HTTP semantic conventions advise for http.client.request.duration.
_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0]
_instruments: tuple[Any, Any] | None = None


def _tracer_and_histogram() -> tuple[Any, Any]:
    """Made at first use from the global providers (proxies that follow a provider configured later)."""
    global _instruments
    if _instruments is None:
        tracer = otel_trace.get_tracer(_SCOPE, __version__)
        meter = otel_metrics.get_meter(_SCOPE, __version__)
        histogram = meter.create_histogram(
            "http.client.request.duration",
            unit="s",
            description="Duration of HTTP client requests.",
            explicit_bucket_boundaries_advisory=_BUCKETS,
        )
        _instruments = (tracer, histogram)
    return _instruments


def _server(url: httpx.URL) -> dict[str, Any]:
    port = url.port or (443 if url.scheme == "https" else 80)
    return {"server.address": url.host, "server.port": port}


class Try:
    """One HTTP try: its CLIENT span (current while the try runs) and its duration point. Inert when `enabled` is
    false or OpenTelemetry is absent."""

    __slots__ = ("_attributes", "_histogram", "_span", "_started", "_token")

    def __init__(self, request: httpx.Request, resend_count: int, enabled: bool) -> None:
        self._span: Any = None
        if not (enabled and AVAILABLE):
            return
        tracer, self._histogram = _tracer_and_histogram()
        self._attributes: dict[str, Any] = {"http.request.method": request.method, **_server(request.url)}
        attributes = {**self._attributes, "url.full": str(request.url)}  # no secret travels in this API's URLs
        if resend_count:
            attributes["http.request.resend_count"] = resend_count
        self._span = tracer.start_span(request.method, kind=SpanKind.CLIENT, attributes=attributes)
        ctx = otel_trace.set_span_in_context(self._span)
        otel_propagate.inject(request.headers, context=ctx)
        if SUPPRESS_HTTP is not None:
            ctx = otel_context.set_value(SUPPRESS_HTTP, True, ctx)
        self._token = otel_context.attach(ctx)
        self._started = time.perf_counter()

    def end(self, response: httpx.Response | None = None, error: BaseException | None = None) -> None:
        """End the try with its response, or the exception that ended it (a cancellation is not an error)."""
        span = self._span
        if span is None:
            return
        self._span = None
        otel_context.detach(self._token)
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
            span.set_status(StatusCode.ERROR)
        self._histogram.record(time.perf_counter() - self._started, attributes)
        span.end()


class Operation:
    """One page fetch: the INTERNAL span that is the parent of its tries. Use as a context manager."""

    __slots__ = ("_span", "_token")

    def __init__(self, request: httpx.Request, enabled: bool) -> None:
        self._span: Any = None
        if not (enabled and AVAILABLE):
            return
        tracer, _ = _tracer_and_histogram()
        attributes = {"az.namespace": _NAMESPACE, **_server(request.url)}
        client_request_id = request.headers.get("x-ms-client-request-id")
        if client_request_id:
            attributes["az.client_request_id"] = client_request_id
        self._span = tracer.start_span(_OPERATION, kind=SpanKind.INTERNAL, attributes=attributes)
        self._token = otel_context.attach(otel_trace.set_span_in_context(self._span))

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
        otel_context.detach(self._token)
        if exc is not None and isinstance(exc, Exception):  # a cancellation (BaseException) is not an error
            span.set_attribute("error.type", type(exc).__qualname__)
            span.set_status(StatusCode.ERROR, str(exc)[:200])
        span.end()
