"""``speech-models emulator verify``: against the emulator itself over a loopback socket (no differences, exit 0),
and against loopback servers made to differ from it (exit 1, each difference named)."""

from __future__ import annotations

import http.server
import io
import json
import sys
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from speech_models._cli import main
from speech_models._verify import shape, shape_differences
from speech_models_emulator import DEFAULT_KEY, create_app, run_emulator
from speech_models_emulator.inprocess import SyncASGITransport

# A drift gets the request's path and query and the emulator's answer, and returns the answer to send instead.
Answer = tuple[int, dict[str, str], bytes]
Drift = Callable[[str, Answer], Answer]


def _drifted_server(drift: Drift, **create_args: Any) -> http.server.ThreadingHTTPServer:
    """A stdlib server on loopback that asks an in-process emulator (advertising the server's address) and changes
    its answers with `drift`."""
    upstream: list[httpx.Client] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # the name http.server calls
            headers = {name: value for name, value in self.headers.items() if name.lower() != "host"}
            response = upstream[0].get(self.path, headers=headers)
            passed = {name: value for name, value in response.headers.items() if name.lower() != "content-length"}
            status, sent_headers, body = drift(self.path, (response.status_code, passed, response.content))
            self.send_response(status)
            for name, value in sent_headers.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    app = create_app(advertise=f"http://127.0.0.1:{server.server_address[1]}", **create_args)
    upstream.append(httpx.Client(transport=SyncASGITransport(app), base_url="http://127.0.0.1"))
    server.upstream = upstream[0]  # type: ignore[attr-defined]
    return server


@pytest.fixture
def drifted() -> Iterator[Callable[..., str]]:
    """Start drifted servers (each stopped at the test's end) and hand back their endpoints."""
    started: list[tuple[http.server.ThreadingHTTPServer, threading.Thread]] = []

    def start(drift: Drift, **create_args: Any) -> str:
        server = _drifted_server(drift, **create_args)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        started.append((server, thread))
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server, thread in started:
        server.shutdown()
        server.server_close()
        server.upstream.close()  # type: ignore[attr-defined]
        thread.join()


def _verify(endpoint: str, key: str = DEFAULT_KEY) -> tuple[int, list[str]]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["emulator", "verify", "--endpoint", endpoint, "--key", key], out=out, err=err)
    assert err.getvalue() == ""
    return code, out.getvalue().splitlines()


def _differences(lines: list[str]) -> list[str]:
    return [line.removeprefix("difference: ") for line in lines if line.startswith("difference: ")]


def _json_body(change: Callable[[dict[str, Any]], None]) -> Callable[[Answer], Answer]:
    def rewrite(answer: Answer) -> Answer:
        status, headers, body = answer
        document = json.loads(body)
        change(document)
        return status, headers, json.dumps(document).encode()

    return rewrite


def _query(path: str) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(path).query))


def test_the_emulator_against_itself_has_no_differences() -> None:
    with run_emulator(count=40) as emulator:
        code, lines = _verify(emulator.url, emulator.key)
    assert code == 0
    assert _differences(lines) == []
    assert lines[-1].endswith(": no differences")
    assert emulator.url in lines[-1]
    assert not any(line.startswith("not compared: paging") for line in lines)


def test_an_unchanged_answer_through_a_server_has_no_differences(drifted: Callable[..., str]) -> None:
    """The drift servers' own plumbing changes nothing: every difference below is the drift's."""
    code, lines = _verify(drifted(lambda path, answer: answer))
    assert (code, _differences(lines)) == (0, [])


def test_an_api_management_401_is_named(drifted: Callable[..., str]) -> None:
    def drift(path: str, answer: Answer) -> Answer:
        status, headers, _ = answer
        if status != 401:
            return answer
        body = {"error": {"code": "401", "message": "Access denied due to invalid subscription key."}}
        return status, headers, json.dumps(body).encode()

    code, lines = _verify(drifted(drift))
    assert code == 1
    assert _differences(lines) == [
        "wrong key: body keys: live error; emulator code, message",
        "wrong key: code: live none; emulator Unauthorized",
        "wrong key: message: live none; emulator present",
    ]
    assert lines[-1].endswith(": 3 differences")


def test_a_relative_next_link_and_a_skip_that_is_ignored_are_named(drifted: Callable[..., str]) -> None:
    def relative(document: dict[str, Any]) -> None:
        if "@nextLink" in document:
            parts = urllib.parse.urlsplit(document["@nextLink"])
            document["@nextLink"] = f"{parts.path}?{parts.query}"

    def drift(path: str, answer: Answer) -> Answer:
        if answer[0] != 200:
            return answer
        if _query(path).get("skip") == "1":  # a service that answers an empty page past the first model
            status, headers, _ = answer
            return status, headers, json.dumps({"values": []}).encode()
        return _json_body(relative)(answer)

    code, lines = _verify(drifted(drift, count=10))
    assert code == 1
    assert _differences(lines) == [
        "paging: @nextLink is absolute: live no; emulator yes",
        "paging: @nextLink scheme and host are the endpoint's: live no; emulator yes",
        "paging: following @nextLink: status: live not followed; emulator 200",
        "paging: following @nextLink gives the second model: live no; emulator yes",
        "paging: skip=1&top=1 gives the second model: live no; emulator yes",
    ]


def test_missing_request_ids_an_ignored_filter_and_drifted_models_are_named(drifted: Callable[..., str]) -> None:
    def drift(path: str, answer: Answer) -> Answer:
        status, headers, body = answer
        headers = {name: value for name, value in headers.items() if name.lower() != "apim-request-id"}
        headers["x-ms-request-id"] = "r-1"
        if status != 200:
            return status, headers, body
        query = _query(path)

        def change(document: dict[str, Any]) -> None:
            for model in document["values"]:
                model["properties"]["customModelWeightPercent"] = str(model["properties"]["customModelWeightPercent"])
                model["properties"]["email"] = "someone@example.com"
                if "filter" in query:
                    model["status"] = "Running"  # the filter is not applied

        return _json_body(change)((status, headers, body))

    code, lines = _verify(drifted(drift))
    differences = _differences(lines)
    assert code == 1
    assert "filter: status eq 'Succeeded': every model Succeeded: live no; emulator yes" in differences
    assert "models: properties.customModelWeightPercent type: live string; emulator number" in differences
    assert "models: properties.email: live string; emulator never sends it" in differences
    for probe in ("page", "bad filter", "wrong key", "api-version"):
        assert f"{probe}: request-id header: live x-ms-request-id; emulator apim-request-id" in differences
    assert len(differences) == 7, differences


def test_an_error_answered_with_another_status_and_code_is_named(drifted: Callable[..., str]) -> None:
    def drift(path: str, answer: Answer) -> Answer:
        status, headers, body = answer
        if status == 400 and "filter" in _query(path):
            document = json.loads(body)
            document["innerError"]["code"] = "InvalidFilter"
            return 422, {**headers, "content-type": "application/problem+json"}, json.dumps(document).encode()
        return answer

    code, lines = _verify(drifted(drift))
    assert code == 1
    assert _differences(lines) == [
        "bad filter: status: live 422; emulator 400",
        "bad filter: media type: live application/problem+json; emulator application/json",
        "bad filter: innerError.code: live InvalidFilter; emulator UnsupportedFilter",
    ]


def test_too_few_live_models_leaves_paging_not_compared() -> None:
    with run_emulator(count=1) as emulator:
        code, lines = _verify(emulator.url, emulator.key)
    assert "not compared: paging: the live endpoint has fewer than 2 models" in lines
    assert code == 0


def test_a_missing_endpoint_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AZURE_SPEECH_ENDPOINT", raising=False)
    out, err = io.StringIO(), io.StringIO()
    assert main(["emulator", "verify", "--key", "k"], out=out, err=err) == 2
    assert "no endpoint: pass --endpoint" in err.getvalue()
    assert out.getvalue() == ""


def test_a_refused_key_on_the_live_side_is_an_authentication_error_not_a_list_of_differences() -> None:
    with run_emulator(count=3) as emulator:
        out, err = io.StringIO(), io.StringIO()
        code = main(["emulator", "verify", "--endpoint", emulator.url, "--key", "not-the-key"], out=out, err=err)
    assert code == 3
    assert err.getvalue().startswith("speech-models: AuthenticationError: ")
    assert out.getvalue() == ""
    assert "not-the-key" not in err.getvalue()


def test_shapes_compare_paths_and_types_with_free_form_maps_as_one() -> None:
    emulator = shape([{"a": {"b": 1}, "list": [{"self": "x"}], "customProperties": {"team": "t"}}])
    live = shape([{"a": {"b": 2.5, "c": None}, "list": [{"self": 3}], "customProperties": {"other": "o"}}])
    assert [str(d) for d in shape_differences(live, emulator)] == [
        "models: a.c: live null; emulator never sends it",
        "models: list[].self type: live number; emulator string",
    ]


def test_verify_without_the_emulator_extra_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "speech_models_emulator.inprocess", None)  # as if the extra were absent
    out, err = io.StringIO(), io.StringIO()
    code = main(["emulator", "verify", "--endpoint", "http://127.0.0.1:9", "--key", "k"], out=out, err=err)
    assert code == 2
    assert err.getvalue() == (
        "speech-models: error: verify needs the [emulator] extra: pip install 'speech-models[emulator]'\n"
    )
    assert out.getvalue() == ""
