"""What used to escape untyped, each over a real loopback socket or in a real subprocess: JSON nested too deep,
endpoints that send the key to the wrong place or cannot be encoded, a closed client, a 502 page through the
generated functions, the emulator without its extra, and imports that no dependency declares."""

from __future__ import annotations

import ast
import asyncio
import importlib.metadata
import os
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import httpx
import pytest
import speech_models as sm
from speech_models_client.api.models import models_list_custom_models
from speech_models_emulator.server import RunningEmulator

from tests.loopback import ScriptedServer, answer

ROOT = Path(__file__).resolve().parent.parent
KINDS = pytest.mark.parametrize("kind", ["sync", "async"])
DEEP = b'{"values": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
NO_RETRY = sm.RetryPolicy(max_retries=0)


def listing(kind: str, url: str, **kwargs: Any) -> list[Any]:
    if kind == "sync":
        with sm.SpeechToTextModels(url, "k", retry_policy=NO_RETRY, **kwargs) as api:
            return list(api.list_models())

    async def go() -> list[Any]:
        async with sm.AsyncSpeechToTextModels(url, "k", retry_policy=NO_RETRY, **kwargs) as api:
            return [m async for m in api.list_models()]

    return asyncio.run(go())


@KINDS
def test_a_page_nested_too_deep_is_an_invalid_response(kind: str) -> None:
    with (
        ScriptedServer([answer(200, DEEP, {"apim-request-id": "req-77"})]) as server,
        pytest.raises(sm.InvalidResponseError, match="nested too deep") as info,
    ):
        listing(kind, server.url)
    error = info.value
    assert error.request_id == "req-77"
    assert "its JSON is nested too deep to read (request id req-77)" in str(error)
    assert error.response is not None
    assert error.response.status_code == 200
    assert error.response.request.headers["Ocp-Apim-Subscription-Key"] == "[redacted]"


@KINDS
def test_an_error_body_nested_too_deep_keeps_its_status(kind: str) -> None:
    with ScriptedServer([answer(500, DEEP)]) as server, pytest.raises(sm.ServiceError) as info:
        listing(kind, server.url)
    assert info.value.error is None
    assert info.value.status_code == 500


def test_the_command_line_says_so_in_one_line() -> None:
    with ScriptedServer([answer(200, DEEP)]) as server:
        result = run_cli(["models", "list"], {"AZURE_SPEECH_ENDPOINT": server.url, "AZURE_SPEECH_KEY": "k"})
    assert result.returncode == 6
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert "nested too deep" in result.stderr


@pytest.mark.parametrize(
    ("endpoint", "message"),
    [
        ("https://res.cognitiveservices.azure.com/gw?", "must not carry a query"),
        ("https://res.cognitiveservices.azure.com?", "must not carry a query"),
        ("https://res.cognitiveservices.azure.com/#", "must not carry a query or a fragment"),
        ("https://res.cognitiveservices.azure.com/\udcff", "not valid text"),
        ("https://westus.api.cognitive.microsoft.com/speechtotext/v3.2/", "the endpoint is the resource's base URL"),
        ("https://westus.api.cognitive.microsoft.com/speechtotext/v3.1/models", "another API version"),
    ],
)
def test_endpoints_that_would_misroute_the_key_are_refused(endpoint: str, message: str) -> None:
    with pytest.raises(sm.ConfigurationError, match=message):
        sm.SpeechToTextModels(endpoint, "k")


@pytest.mark.parametrize(
    ("endpoint", "host"),
    [
        ("https://westus.api.cognitive.microsoft.com", "westus.api.cognitive.microsoft.com"),
        ("https://WestUS.example.com.", "westus.example.com."),  # a fully qualified name keeps its dot
        ("https://gw_internal.example.com:8443/speech", "gw_internal.example.com"),
        ("https://exämple.com", "exämple.com"),  # looked up as xn--exmple-cua.com
        ("https://10.1.2.3", "10.1.2.3"),
        ("http://[::1]:5000", "::1"),
        ("http://localhost:5000", "localhost"),
    ],
)
def test_an_endpoint_whose_host_can_be_looked_up_is_accepted(endpoint: str, host: str) -> None:
    with sm.SpeechToTextModels(endpoint, "k") as client:
        assert httpx.URL(client.endpoint).host == host


@pytest.mark.parametrize(
    ("endpoint", "message"),
    [
        (
            "https://user:pw@example.com/gw",
            "the endpoint 'https://example.com/gw' must not carry credentials (user:password@): pass the key as "
            "key=...",
        ),
        (
            "https://user:pw@example.com/a://b",
            "the endpoint 'https://example.com/a://b' must not carry credentials (user:password@): pass the key as "
            "key=...",
        ),
        ("user:pw@example.com", "the endpoint '[a URL]' must be an absolute http(s) URL with a host"),
        ("example.com", "the endpoint 'example.com' must be an absolute http(s) URL with a host"),
        (
            "https://user:pw@example.com/x@y?q",
            "the endpoint 'https://example.com/x@y?q' must not carry a query or a fragment",
        ),
        ("https://user:pw@[::1", "the endpoint 'https://[::1' is not a valid URL"),
        (
            "https://exa mple.com",
            "the endpoint 'https://exa mple.com' has no valid host name: a host is letters, digits, '-', '.' and "
            "'_', or an IP address",
        ),
        (
            "https://res<1>.example.com/gw",
            "the endpoint 'https://res<1>.example.com/gw' has no valid host name: a host is letters, digits, '-', "
            "'.' and '_', or an IP address",
        ),
        (
            "https://res..example.com",
            "the endpoint 'https://res..example.com' has no valid host name: a host is letters, digits, '-', '.' "
            "and '_', or an IP address",
        ),
        (
            "https://user:pw@res/\udcff",
            "the endpoint 'https://res/\\\\udcff' is not valid text (undecodable bytes, from the environment?)",
        ),
        (
            "https://res/" + "\udcff" * 30,  # shown as its first 100 characters, escaped
            "the endpoint '" + ("https://res/" + "\\udcff" * 30)[:100].replace("\\", "\\\\") + "' is not valid "
            "text (undecodable bytes, from the environment?)",
        ),
        (
            42,
            "no endpoint: pass endpoint=... or set AZURE_SPEECH_ENDPOINT (for example "
            "https://westus.api.cognitive.microsoft.com)",
        ),
        (
            "https://user:pw@westus.api.cognitive.microsoft.com/speechtotext/v3.1/models",
            "the endpoint 'https://westus.api.cognitive.microsoft.com/speechtotext/v3.1/models' must not carry "
            "credentials (user:password@): pass the key as key=...",
        ),
        (
            "https://westus.api.cognitive.microsoft.com/speechtotext/v3.1/models",
            "the endpoint 'https://westus.api.cognitive.microsoft.com/speechtotext/v3.1/models' carries the path of "
            "another API version ('/speechtotext/v3.1'): the endpoint is the resource's base URL, such as "
            "https://westus.api.cognitive.microsoft.com; the version is the client's api_version",
        ),
    ],
)
def test_an_endpoint_is_refused_in_words_that_never_echo_its_credentials(endpoint: Any, message: str) -> None:
    with pytest.raises(sm.ConfigurationError) as info:
        sm.SpeechToTextModels(endpoint, "k")
    assert str(info.value) == message
    assert "pw" not in str(info.value)


def test_an_undecodable_endpoint_in_the_environment_is_one_line_exit_2() -> None:
    result = run_cli(["models", "list"], {"AZURE_SPEECH_ENDPOINT": "https://\udcff", "AZURE_SPEECH_KEY": "k"})
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert "not valid text" in result.stderr


@KINDS
def test_listing_on_a_closed_client_says_it_was_closed(kind: str, speech_emulator: RunningEmulator) -> None:
    if kind == "sync":
        with sm.SpeechToTextModels(speech_emulator.url, speech_emulator.key) as api:
            pager = api.list_models()
        with pytest.raises(sm.ClientClosedError, match="client is closed"):
            list(pager)
        return

    async def go() -> None:
        async with sm.AsyncSpeechToTextModels(speech_emulator.url, speech_emulator.key) as api:
            pager = api.list_models()
        with pytest.raises(sm.ClientClosedError, match="client is closed"):
            [m async for m in pager]

    asyncio.run(go())


@KINDS
@pytest.mark.parametrize(
    ("status", "body"),
    [(502, b"<html><body>Bad Gateway</body></html>"), (200, b"not json"), (500, b"[1, 2]"), (200, DEEP)],
)
def test_the_generated_functions_give_a_response_for_every_status(kind: str, status: int, body: bytes) -> None:
    with ScriptedServer([answer(status, body, {"Content-Type": "text/html"})]) as server:
        if kind == "sync":
            with sm.SpeechToTextModels(server.url, "k", retry_policy=NO_RETRY) as api:
                response = models_list_custom_models.sync_detailed(client=api.generated_client)
        else:

            async def go() -> Any:
                async with sm.AsyncSpeechToTextModels(server.url, "k", retry_policy=NO_RETRY) as api:
                    return await models_list_custom_models.asyncio_detailed(client=api.generated_client)

            response = asyncio.run(go())
    assert response.status_code == status
    assert response.content == body
    assert response.parsed is None


def test_the_emulator_without_its_extra_names_the_extra() -> None:
    code = "import sys; sys.modules['yaml'] = None; import speech_models_emulator"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last == (
        "ImportError: speech_models_emulator needs the [emulator] extra (missing: yaml): "
        "pip install 'speech-models[emulator]'"
    )


def _guarded(tree: ast.AST) -> set[int]:
    """Ids of the import nodes inside a ``try`` that handles ImportError: optional, from an extra."""
    guarded: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(
            isinstance(handler.type, ast.Name) and handler.type.id in ("ImportError", "ModuleNotFoundError")
            for handler in node.handlers
        ):
            guarded.update(id(inner) for statement in node.body for inner in ast.walk(statement))
    return guarded


def third_party_imports(package: Path) -> dict[str, bool]:
    """Each third-party module imported by `package`, and whether every import of it is optional (guarded)."""
    found: dict[str, bool] = {}
    for path in package.rglob("*.py"):
        if path.name == "pytest_plugin.py":  # loaded by pytest only, which is then there
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        guarded = _guarded(tree)
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name.split(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module.split(".")[0]]
            for name in names:
                found[name] = found.get(name, True) and id(node) in guarded
    return {name: optional for name, optional in found.items() if name not in sys.stdlib_module_names}


def declared(requirements: list[str]) -> set[str]:
    names = set()
    for requirement in requirements:
        name = requirement.split(";")[0]
        for stop in "<>=!~[ ":
            name = name.split(stop)[0]
        names.add(name.strip().lower().replace("_", "-"))
    return names


@pytest.mark.parametrize(
    ("package", "extras"),
    [
        ("overlay/speech_models", ()),
        ("generated/speech_models_client", ()),
        ("emulator/speech_models_emulator", ("emulator",)),
    ],
)
def test_every_import_is_declared(package: str, extras: tuple[str, ...]) -> None:
    """An import is declared by the base dependencies (or the package's own extra); one guarded by
    ``except ImportError`` may come from any extra instead."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    required = declared(project["dependencies"])
    for extra in extras:
        required |= declared(project["optional-dependencies"][extra])
    optional = set().union(*(declared(values) for values in project["optional-dependencies"].values()))
    ours = {"speech_models", "speech_models_client", "speech_models_emulator"}
    distributions = importlib.metadata.packages_distributions()
    missing = {}
    for module, guarded in third_party_imports(ROOT / package).items():
        if module in ours:
            continue
        names = {name.lower().replace("_", "-") for name in distributions.get(module, [module])}
        if not names & (required | optional if guarded else required):
            missing[module] = sorted(names)
    assert missing == {}, f"imported by {package} but not declared in pyproject.toml: {missing}"


def run_cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AZURE_SPEECH_")}
    environment.update(env)
    command = [sys.executable, "-m", "speech_models", *args]
    return subprocess.run(command, capture_output=True, text=True, env=environment, timeout=60, check=False)


def test_the_overlay_calls_nothing_private_of_the_generated_package() -> None:
    """The overlay depends on the generated package's public names only (its request builder is
    ``request_kwargs``, emitted by templates/endpoint_module.py.jinja)."""
    private = []
    for path in (ROOT / "overlay" / "speech_models").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        generated = {
            alias.asname or alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("speech_models_client")
            for alias in node.names
        }
        private += [
            f"{path.name}:{node.lineno} {node.value.id}.{node.attr}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in generated
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
        ]
    assert private == []


def test_a_credential_of_no_known_kind_is_named_by_its_type() -> None:
    with pytest.raises(sm.ConfigurationError) as info:
        sm.SpeechToTextModels("https://westus.api.cognitive.microsoft.com", credential=42)  # type: ignore[arg-type]
    assert str(info.value) == (
        "credential must be a key string, a key credential (with .key) or a token credential (with .get_token), not int"
    )
