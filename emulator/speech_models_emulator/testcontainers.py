"""The emulator's image as a testcontainers-python container (the ``[testcontainers]`` extra), for test suites that
start their dependencies as containers::

    from speech_models_emulator.testcontainers import SpeechModelsEmulatorContainer

    with SpeechModelsEmulatorContainer(count=500) as emulator:
        client = SpeechToTextModels(emulator.endpoint, emulator.key)

The container is started from ``speech-models-emulator:VERSION`` (``make image``), waited for until
``/_emulator/health`` answers, and reached through a host port chosen before it starts, so that its ``@nextLink``
and ``self`` links (``--advertise``) carry the address the test uses.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from typing import Any, Self, cast

try:
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.wait_strategies import HttpWaitStrategy
except ImportError as missing:
    raise ImportError(
        "speech_models_emulator.testcontainers needs the [testcontainers] extra: "
        "pip install 'speech-models[testcontainers]'"
    ) from missing

from .app import DEFAULT_KEY

__all__ = ["DEFAULT_IMAGE", "IMAGE_PORT", "SpeechModelsEmulatorContainer", "emulator_arguments"]

IMAGE_PORT = 8765  # where the image's emulator listens


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("speech-models")
    except PackageNotFoundError:  # pragma: no cover - a source tree without metadata
        return "latest"


DEFAULT_IMAGE = f"speech-models-emulator:{_version()}"
_LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def emulator_arguments(
    *,
    key: str = DEFAULT_KEY,
    count: int | None = None,
    quota: tuple[int, float] | None = None,
    latency: float | None = None,
    arguments: Sequence[str] = (),
) -> list[str]:
    """The image's arguments (the emulator's options) for these settings."""
    if not key:
        raise ValueError("key must be a non-empty string: the container's emulator asks for it")
    options = ["--key", key]
    if count is not None:
        options += ["--count", str(count)]
    if quota is not None:
        options += ["--quota", f"{quota[0]}/{quota[1]:g}"]
    if latency is not None:
        options += ["--latency", f"{latency:g}"]
    return [*options, *arguments]


class SpeechModelsEmulatorContainer(DockerContainer):
    """The emulator in a container: its `endpoint` and `key` are what an SDK client needs.

    Args:
        image: the image (default ``speech-models-emulator:VERSION``, as ``make image`` tags it).
        key: the subscription key the emulator accepts.
        count: the size of its built-in data set (the emulator's default, 250, when None).
        quota: ``(requests, seconds)``, the service's quota to emulate, such as ``(100, 10.0)``.
        latency: seconds added before every models answer.
        arguments: further options of ``python -m speech_models_emulator`` (``["--chaos", "0.2", "--seed", "7"]``).
        host_port: the host port to publish it on (default: a free one, picked before the container starts). On a
            local engine it is published on 127.0.0.1 only.
        **kwargs: passed to testcontainers' ``DockerContainer``.

    The engine's address is testcontainers' ``DockerClient.host()`` (``localhost`` for a local socket;
    ``TESTCONTAINERS_HOST_OVERRIDE`` changes it). For podman, point ``DOCKER_HOST`` at ``podman system service``'s
    socket.
    """

    def __init__(
        self,
        image: str = DEFAULT_IMAGE,
        *,
        key: str = DEFAULT_KEY,
        count: int | None = None,
        quota: tuple[int, float] | None = None,
        latency: float | None = None,
        arguments: Sequence[str] = (),
        host_port: int | None = None,
        **kwargs: Any,
    ) -> None:
        self.options = emulator_arguments(key=key, count=count, quota=quota, latency=latency, arguments=arguments)
        """The emulator's options in the container (``--advertise`` is added at start)."""
        super().__init__(image, **kwargs)
        self.key = key
        self.host_port = host_port or _free_port()
        self.waiting_for(HttpWaitStrategy(IMAGE_PORT, "/_emulator/health").for_status_code(200))

    @property
    def engine_host(self) -> str:
        """The host name or address the engine publishes ports on."""
        return str(self.get_docker_client().host())

    @property
    def endpoint(self) -> str:
        """The emulator's URL from the test's side (the endpoint for ``SpeechToTextModels``)."""
        host = self.engine_host
        return f"http://{f'[{host}]' if ':' in host else host}:{self.host_port}"

    def start(self) -> Self:
        """Start the container and return when its emulator answers ``/_emulator/health``."""
        published: Any = ("127.0.0.1", self.host_port) if self.engine_host in _LOOPBACK_NAMES else self.host_port
        cast(dict[str, Any], self.ports)[f"{IMAGE_PORT}/tcp"] = published
        self.with_command([*self.options, "--advertise", self.endpoint])
        super().start()
        return self
