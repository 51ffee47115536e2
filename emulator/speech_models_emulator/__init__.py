"""An emulator of the Speech to text custom-models API, for local runs, demos and contract tests.

It depends on neither the generated client nor the SDK: it is checked against the OpenAPI document.
``create_app()`` builds the ASGI app (mount it in-process with ``httpx.ASGITransport``); ``run_emulator()``
serves it on a free loopback port; ``speech_models_emulator.pytest_plugin`` offers both as pytest fixtures.
"""

try:
    import openapi_schema_validator  # noqa: F401
    import starlette  # noqa: F401
    import uvicorn  # noqa: F401
    import yaml  # noqa: F401
except ImportError as _missing:
    raise ImportError(
        f"speech_models_emulator needs the [emulator] extra (missing: {_missing.name}): "
        "pip install 'speech-models[emulator]'"
    ) from None

from .app import DEFAULT_KEY, create_app, load_spec
from .data import build_models
from .faults import Fault, Faults
from .server import RunningEmulator, run_emulator

__all__ = [
    "DEFAULT_KEY",
    "Fault",
    "Faults",
    "RunningEmulator",
    "build_models",
    "create_app",
    "load_spec",
    "run_emulator",
]
