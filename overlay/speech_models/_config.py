"""Constants shared by the SDK's modules (names, paths, defaults); this module imports nothing of the SDK's but
its version."""

from __future__ import annotations

import platform

import httpx

from ._version import __version__

__all__ = [
    "CLIENT_REQUEST_ID_HEADER",
    "DEFAULT_API_VERSION",
    "ENDPOINT_ENV",
    "KEY_ENV",
    "KEY_HEADER",
    "LIST_PATH",
    "REQUEST_ID_HEADERS",
    "USER_AGENT",
]

DEFAULT_API_VERSION = "2025-10-15"
ENDPOINT_ENV = "AZURE_SPEECH_ENDPOINT"
KEY_ENV = "AZURE_SPEECH_KEY"
KEY_HEADER = "Ocp-Apim-Subscription-Key"
CLIENT_REQUEST_ID_HEADER = "x-ms-client-request-id"  # one per call, the same on every retry of it
LIST_PATH = "/speechtotext/models"
REQUEST_ID_HEADERS = ("apim-request-id", "x-ms-request-id", "x-request-id", "request-id")
USER_AGENT = f"speech-models/{__version__} python/{platform.python_version()} httpx/{httpx.__version__}"
