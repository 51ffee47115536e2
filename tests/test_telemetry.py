"""OpenTelemetry traces and metrics over loopback, read back from opentelemetry-sdk's in-memory exporter and metric
reader: a span per page and a CLIENT span per try with the HTTP semantic conventions' attributes, the W3C
traceparent the server received, one duration point per try, a cancelled listing that is no error, no secret in
any attribute, ``tracing=False``, one span per try beside opentelemetry-instrumentation-httpx, and an SDK that
works unchanged without opentelemetry-api."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from typing import Any

import httpx
import pytest
import speech_models as sm
from azure.core.credentials import AccessToken
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import Histogram, MeterProvider
from opentelemetry.sdk.metrics.export import AggregationTemporality, InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from tests.fakes import FakeClock
from tests.loopback import ScriptedServer, answer, page_body, stall

KINDS = pytest.mark.parametrize("kind", ["sync", "async"])
KEY = "telemetry-secret-key-0123456789"
_EXPORTER = InMemorySpanExporter()
_READER = InMemoryMetricReader(preferred_temporality={Histogram: AggregationTemporality.DELTA})  # per collection


@pytest.fixture(scope="module")
def otel() -> tuple[InMemorySpanExporter, InMemoryMetricReader]:
    """The application's configuration, as an application would make it: global providers, set once."""
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(_EXPORTER))
        trace.set_tracer_provider(provider)
        metrics.set_meter_provider(MeterProvider(metric_readers=[_READER]))
    return _EXPORTER, _READER


@pytest.fixture
def spans(otel: tuple[InMemorySpanExporter, InMemoryMetricReader]) -> InMemorySpanExporter:
    otel[0].clear()
    otel[1].get_metrics_data()  # drain the points of earlier tests
    return otel[0]


def listing(kind: str, url: str, **kwargs: Any) -> list[Any]:
    clock = FakeClock()
    if kind == "sync":
        with sm.SpeechToTextModels(url, KEY, sleep=clock.sleep, clock=clock, **kwargs) as api:
            return list(api.list_models())

    async def go() -> list[Any]:
        async with sm.AsyncSpeechToTextModels(url, KEY, sleep=clock.asleep, clock=clock, **kwargs) as api:
            return [m async for m in api.list_models()]

    return asyncio.run(go())


def finished(exporter: InMemorySpanExporter, kind: SpanKind) -> list[ReadableSpan]:
    return [s for s in exporter.get_finished_spans() if s.kind == kind]


def durations(reader: InMemoryMetricReader) -> list[Any]:
    data = reader.get_metrics_data()
    points: list[Any] = []
    for resource in data.resource_metrics if data else []:
        for scope in resource.scope_metrics:
            if scope.scope.name == "speech_models":
                for metric in scope.metrics:
                    if metric.name == "http.client.request.duration":
                        assert metric.unit == "s"
                        points.extend(metric.data.data_points)
    return points


def traceparent(head: str) -> str:
    return next(line.split(":", 1)[1].strip() for line in head.split("\r\n") if line.lower().startswith("traceparent:"))


@KINDS
def test_a_throttled_try_and_its_retry(kind: str, spans: InMemorySpanExporter) -> None:
    reader = _READER
    throttled = answer(429, b'{"code":"TooManyRequests","message":"slow down"}', {"Retry-After": "1"})
    with ScriptedServer([throttled, answer(headers={"apim-request-id": "svc-42"})]) as server:
        assert len(listing(kind, server.url)) == 2
        heads = list(server.requests)
    tries = sorted(finished(spans, SpanKind.CLIENT), key=lambda s: s.start_time or 0)
    (operation,) = [s for s in spans.get_finished_spans() if s.name == "SpeechToTextModels.list_models"]
    assert [t.name for t in tries] == ["GET", "GET"]
    first, second = (dict(t.attributes or {}) for t in tries)
    port = int(server.url.rsplit(":", 1)[1])
    assert first == {
        "http.request.method": "GET",
        "server.address": "127.0.0.1",
        "server.port": port,
        "url.full": f"{server.url}/speechtotext/models?api-version=2025-10-15",
        "http.response.status_code": 429,
        "error.type": "429",
    }
    assert tries[0].status.status_code is StatusCode.ERROR
    assert second["http.request.resend_count"] == 1
    assert second["http.response.status_code"] == 200
    assert "error.type" not in second
    assert tries[1].status.status_code is StatusCode.UNSET
    assert all(t.parent is not None and t.parent.span_id == operation.context.span_id for t in tries)
    assert operation.kind is SpanKind.INTERNAL
    attributes = dict(operation.attributes or {})
    assert attributes["az.namespace"] == "Microsoft.CognitiveServices"
    assert attributes["az.service_request_id"] == "svc-42"
    sent_ids = {h.split("x-ms-client-request-id: ", 1)[1].split("\r\n")[0] for h in heads}
    assert {attributes["az.client_request_id"]} == sent_ids
    for head, span in zip(heads, tries, strict=True):  # each try carried its own span's traceparent
        context = span.context
        version, trace_id, span_id, _flags = traceparent(head).split("-")
        assert (version, trace_id, span_id) == ("00", f"{context.trace_id:032x}", f"{context.span_id:016x}")
    points = durations(reader)
    assert sum(p.count for p in points) == 2
    statuses = sorted(int(dict(p.attributes)["http.response.status_code"]) for p in points)
    assert statuses == [200, 429]


@KINDS
def test_a_connection_failure(kind: str, spans: InMemorySpanExporter) -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{closed.getsockname()[1]}"
    closed.close()
    with pytest.raises(sm.APIConnectionError):
        listing(kind, url, retry_policy=sm.RetryPolicy(max_retries=0))
    (attempt,) = finished(spans, SpanKind.CLIENT)
    assert attempt.status.status_code is StatusCode.ERROR
    assert (attempt.attributes or {})["error.type"] == "ConnectError"
    assert "http.response.status_code" not in (attempt.attributes or {})
    (operation,) = finished(spans, SpanKind.INTERNAL)
    assert (operation.attributes or {})["error.type"] == "APIConnectionError"
    assert operation.status.status_code is StatusCode.ERROR


@KINDS
def test_a_try_that_fails_with_an_error_of_the_callers_own_records_it(kind: str, spans: InMemorySpanExporter) -> None:
    """The caller's httpcore ``trace`` hook raises while the request goes out: the try's span says so."""

    def fail(event: str) -> None:
        if event == "http11.send_request_headers.started":
            raise ValueError("the caller's trace hook failed")

    async def atrace(event: str, info: dict[str, Any]) -> None:
        fail(event)

    with ScriptedServer([answer(body=page_body(1))]) as server:
        url = f"{server.url}/speechtotext/models"
        if kind == "sync":
            with (
                httpx.Client(transport=sm.RetryTransport()) as raw,
                pytest.raises(ValueError, match="trace hook failed"),
            ):
                raw.get(url, extensions={"trace": lambda event, info: fail(event)})
        else:

            async def main() -> None:
                async with httpx.AsyncClient(transport=sm.AsyncRetryTransport()) as raw:
                    with pytest.raises(ValueError, match="trace hook failed"):
                        await raw.get(url, extensions={"trace": atrace})

            asyncio.run(main())
    (attempt,) = finished(spans, SpanKind.CLIENT)
    assert attempt.status.status_code is StatusCode.ERROR
    assert (attempt.attributes or {})["error.type"] == "ValueError"


def test_a_cancelled_listing_ends_its_spans_without_error(spans: InMemorySpanExporter) -> None:
    with ScriptedServer([answer(body=page_body(2, "/speechtotext/models?page=2")), stall(30)]) as server:

        async def go() -> None:
            async with sm.AsyncSpeechToTextModels(server.url, KEY) as api:
                task = asyncio.create_task(consume(api))
                while len(server.requests) < 2:  # noqa: ASYNC110 - the server counts on its own thread
                    await asyncio.sleep(0.01)
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
                for _ in range(50):  # the abandoned try ends through its scope, within half a second
                    if len(finished(spans, SpanKind.CLIENT)) == 2:
                        break
                    await asyncio.sleep(0.01)
                assert len(finished(spans, SpanKind.CLIENT)) == 2  # here, not when asyncio.run cancels what is left

        async def consume(api: sm.AsyncSpeechToTextModels) -> None:
            async for _model in api.list_models():
                pass

        asyncio.run(go())
    tries = finished(spans, SpanKind.CLIENT)
    operations = finished(spans, SpanKind.INTERNAL)
    assert len(tries) == 2
    assert len(operations) == 2
    assert all(s.status.status_code is StatusCode.UNSET for s in tries + operations)
    assert all("error.type" not in (s.attributes or {}) for s in tries + operations)


@KINDS
def test_no_secret_in_any_attribute(kind: str, spans: InMemorySpanExporter) -> None:
    with ScriptedServer([answer(401, b'{"code":"Unauthorized","message":"no"}')]) as server:
        with pytest.raises(sm.AuthenticationError):
            listing(kind, server.url)
        assert KEY in server.requests[0]  # it was sent, in its header
    recorded = spans.get_finished_spans()
    assert recorded
    for span in recorded:
        for value in (span.attributes or {}).values():
            assert KEY not in str(value)
        assert KEY not in span.name


@KINDS
def test_tracing_false_makes_no_span(kind: str, spans: InMemorySpanExporter) -> None:
    with ScriptedServer([answer()]) as server:
        assert len(listing(kind, server.url, tracing=False)) == 2
        assert "traceparent" not in server.requests[0].lower()
    assert spans.get_finished_spans() == ()


@KINDS
def test_one_client_span_per_try_beside_the_httpx_instrumentation(kind: str, spans: InMemorySpanExporter) -> None:
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    instrumentor = HTTPXClientInstrumentor()
    instrumentor.instrument()
    try:
        with ScriptedServer([answer(503, b"{}", {"Retry-After": "1"}), answer()]) as server:
            assert len(listing(kind, server.url)) == 2
    finally:
        instrumentor.uninstrument()
    tries = finished(spans, SpanKind.CLIENT)
    assert len(tries) == 2
    assert {s.instrumentation_scope.name for s in tries if s.instrumentation_scope} == {"speech_models"}


def test_the_sdk_works_without_opentelemetry() -> None:
    with ScriptedServer([answer()]) as server:
        code = (
            "import sys; sys.modules['opentelemetry'] = None\n"
            "import speech_models as sm\n"
            "from speech_models import _telemetry\n"
            f"with sm.SpeechToTextModels({server.url!r}, 'k') as api:\n"
            "    print(len(list(api.list_models())), _telemetry.in_use())\n"
        )
        env = {**os.environ, "OTEL_PYTHON_TRACER_PROVIDER": "sdk_tracer_provider"}  # asks for it: still no error
        result = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False, env=env
        )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["2", "False"]


UNTIL_CONFIGURED = """
import sys
import speech_models as sm
from speech_models import _telemetry

with sm.SpeechToTextModels(sys.argv[1], "k") as api:
    list(api.list_models())
    print(_telemetry.in_use(), "opentelemetry" in sys.modules)
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    list(api.list_models())  # the same client, configured after it was made
    print(_telemetry.in_use(), sorted(span.name for span in exporter.get_finished_spans()))
"""


def test_opentelemetry_is_not_loaded_until_the_application_uses_it() -> None:
    with ScriptedServer([answer(), answer()]) as server:
        result = subprocess.run(
            [sys.executable, "-c", UNTIL_CONFIGURED, server.url],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env={key: value for key, value in os.environ.items() if not key.startswith("OTEL_")},
        )
    assert result.returncode == 0, result.stderr
    before, after = result.stdout.splitlines()
    assert before == "False False"  # installed, but not imported: the application does not trace
    assert after == "True ['GET', 'SpeechToTextModels.list_models']"


def test_a_provider_named_in_the_environment_loads_opentelemetry() -> None:
    with ScriptedServer([answer()]) as server:
        code = (
            "import sys, speech_models as sm\n"
            "from speech_models import _telemetry\n"
            f"with sm.SpeechToTextModels({server.url!r}, 'k') as api:\n"
            "    list(api.list_models())\n"
            "print('opentelemetry' in sys.modules, _telemetry.in_use())\n"
        )
        env = {**os.environ, "OTEL_PYTHON_TRACER_PROVIDER": "sdk_tracer_provider"}
        result = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False, env=env
        )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True"]


def test_no_token_in_any_attribute(spans: InMemorySpanExporter) -> None:
    token = "telemetry-secret-token-0123456789"

    class Credential:
        def get_token(self, *scopes: str, **kwargs: Any) -> Any:
            return AccessToken(token, int(time.time()) + 3600)

    with ScriptedServer([answer(401, b'{"code":"Unauthorized","message":"no"}')]) as server:
        with pytest.raises(sm.AuthenticationError), sm.SpeechToTextModels(server.url, credential=Credential()) as api:
            list(api.list_models())
        assert token in server.requests[0]
    recorded = spans.get_finished_spans()
    assert len(recorded) == 3  # the page, its try and the try after fetching a new token
    assert all(token not in str(value) for span in recorded for value in (span.attributes or {}).values())
