"""Spans of the SDK printed to the console: the application configures OpenTelemetry (here opentelemetry-sdk's
console exporter); the SDK only uses the global providers. Runs against the embedded emulator with one throttled
try, so the page's span holds two CLIENT spans: the 429 and its retry. Needs the [otel] and [emulator] extras and
opentelemetry-sdk."""

from __future__ import annotations

import speech_models as sm
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor
from speech_models_emulator import Fault, run_emulator

provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
trace.set_tracer_provider(provider)

with run_emulator(count=3) as emulator, sm.SpeechToTextModels(emulator.url, emulator.key) as client:
    emulator.state.faults.add(Fault(status=429, retry_after=1))
    print([model.display_name for model in client.list_models()])
