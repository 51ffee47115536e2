"""The emulator on its own (in-process, through a plain httpx client): contract, data set, filters, faults and
bad input, checked against the spec rather than against our client."""

from __future__ import annotations

import email.utils
import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import anyio
import httpx
import pytest
from openapi_schema_validator import OAS30Validator
from referencing import Registry, Resource
from speech_models_emulator import Faults, build_models, create_app, run_emulator
from speech_models_emulator.data import ENDPOINT_PLACEHOLDER, load_models
from speech_models_emulator.filters import FilterError, compile_filter
from speech_models_emulator.inprocess import SyncASGITransport
from speech_models_emulator.server import HttpParser, emulator_protocol

KEY = "emulator-key"
HEADERS = {"Ocp-Apim-Subscription-Key": KEY}
V = "api-version=2025-10-15"
PARSERS: list[HttpParser] = ["h11", "httptools"]  # the socket-level contract is checked on both


def in_process(app: Any) -> httpx.Client:
    return httpx.Client(transport=SyncASGITransport(app), base_url="http://testserver")


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with in_process(create_app(count=250)) as test_client:
        yield test_client


def get(client: httpx.Client, query: str, headers: dict[str, str] | None = None) -> Any:
    return client.get(f"/speechtotext/models?{query}", headers=HEADERS if headers is None else headers)


@pytest.fixture(scope="module")
def validator(spec: dict[str, Any]) -> Any:
    """A validator for any schema of the spec, with formats checked."""
    registry = Registry().with_resource("spec", Resource.opaque(spec))

    def for_schema(name: str) -> OAS30Validator:
        return OAS30Validator(
            {"$ref": f"spec#/components/schemas/{name}"},
            registry=registry,
            format_checker=OAS30Validator.FORMAT_CHECKER,
        )

    return for_schema


def assert_error(response: Any, status: int, detailed: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    assert isinstance(body["code"], str)
    assert body["message"]
    if detailed is not None:
        assert body["innerError"]["code"] == detailed
    return body


# --- data -----------------------------------------------------------------------------------------------------


def test_built_in_data_is_deterministic_and_varied() -> None:
    models = build_models(250)
    assert models == build_models(250)
    assert {m["status"] for m in models} == {"NotStarted", "Running", "Succeeded", "Failed"}
    assert len({m["locale"] for m in models}) >= 6
    assert any("customProperties" in m for m in models)
    assert all("error" in m["properties"] for m in models if m["status"] == "Failed")
    assert all(m["properties"]["deprecationDates"]["transcriptionDateTime"] for m in models)
    assert len({m["self"] for m in models}) == 250


def test_every_served_entity_is_valid_under_the_spec(client: httpx.Client, validator: Any) -> None:
    page_validator = validator("PaginatedCustomModels")
    link = f"/speechtotext/models?top=100&{V}"
    pages = 0
    while link:
        body = client.get(link, headers=HEADERS).json()
        errors = list(page_validator.iter_errors(body))
        assert errors == [], errors[0].message if errors else ""
        link = body.get("@nextLink")
        pages += 1
    assert pages == 3


def test_error_bodies_are_valid_under_the_spec(client: httpx.Client, validator: Any) -> None:
    error_validator = validator("Error")
    for response in (get(client, V, headers={}), get(client, "top=x&" + V), get(client, "filter=x&" + V)):
        assert list(error_validator.iter_errors(response.json())) == []


def test_models_can_be_loaded_from_a_json_file(tmp_path: Any) -> None:
    path = tmp_path / "models.json"
    path.write_text(json.dumps({"values": build_models(3)}))
    with in_process(create_app(load_models(path))) as local:
        assert len(get(local, V).json()["values"]) == 3
    path.write_text('{"nope": 1}')
    with pytest.raises(ValueError, match="must hold a JSON list of model objects"):
        load_models(path)


# --- paging ---------------------------------------------------------------------------------------------------


def test_pages_carry_an_absolute_next_link_and_retry_after(client: httpx.Client) -> None:
    response = get(client, f"skip=0&top=2&filter=status%20eq%20'Running'&{V}")
    assert response.status_code == 200
    assert response.headers["Retry-After"] == "0"
    body = response.json()
    assert len(body["values"]) == 2
    assert body["@nextLink"] == f"http://testserver/speechtotext/models?skip=2&top=2&filter=status%20eq%20'Running'&{V}"
    assert all(m["self"].startswith("http://testserver/speechtotext/models/") for m in body["values"])


def test_every_link_in_a_page_is_the_emulators_own_address(client: httpx.Client) -> None:
    expected = [
        json.loads(json.dumps(model).replace(ENDPOINT_PLACEHOLDER, "http://testserver"))
        for model in build_models(250)[5:105]
    ]
    response = get(client, f"skip=5&top=100&{V}")
    assert ENDPOINT_PLACEHOLDER not in response.text
    assert response.json()["values"] == expected


def test_the_last_page_has_no_next_link(client: httpx.Client) -> None:
    body = get(client, f"skip=240&top=100&{V}").json()
    assert len(body["values"]) == 10
    assert "@nextLink" not in body


def test_defaults_apply_when_skip_and_top_are_absent(client: httpx.Client) -> None:
    body = get(client, V).json()
    assert len(body["values"]) == 100
    assert "skip=100&top=100" in body["@nextLink"]


def test_skip_past_the_end_is_an_empty_page(client: httpx.Client) -> None:
    body = get(client, f"skip=1000&{V}").json()
    assert body == {"values": []}


# --- authentication and api-version ----------------------------------------------------------------------------


@pytest.mark.parametrize("headers", [{}, {"Ocp-Apim-Subscription-Key": "wrong"}, {"Ocp-Apim-Subscription-Key": ""}])
def test_missing_or_wrong_key_is_401(client: httpx.Client, headers: dict[str, str]) -> None:
    body = assert_error(get(client, V, headers=headers), 401)
    assert body["code"] == "Unauthorized"


@pytest.mark.parametrize("query", ["", "api-version=", "api-version=2024-11-15", "api-version=v3.2"])
def test_missing_or_unsupported_api_version_is_400(client: httpx.Client, query: str) -> None:
    body = assert_error(get(client, query), 400, "InvalidParameterValue")
    assert body["target"] == "api-version"


# --- skip and top -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "top=0",
        "top=101",
        "top=-1",
        "top=abc",
        "top=1.5",
        "top=99999999999999999999",
        "skip=-1",
        "skip=x",
        "top=",
        "top=%EF%BC%91",
    ],
)
def test_bad_skip_or_top_is_400_invalid_parameter_value(client: httpx.Client, query: str) -> None:
    body = assert_error(get(client, f"{query}&{V}"), 400, "InvalidParameterValue")
    assert body["target"] in ("skip", "top")


def test_repeated_parameters_are_rejected(client: httpx.Client) -> None:
    assert_error(get(client, f"top=1&top=2&{V}"), 400, "InvalidParameterValue")


# --- filter ---------------------------------------------------------------------------------------------------


def names(client: httpx.Client, filter_text: str) -> list[str]:
    response = client.get(
        "/speechtotext/models", params={"filter": filter_text, "api-version": "2025-10-15"}, headers=HEADERS
    )
    assert response.status_code == 200, response.text
    return [m["displayName"] for m in response.json()["values"]]


def expected(predicate: Any, count: int = 250) -> list[str]:
    return [m["displayName"] for m in build_models(count) if predicate(m)][:100]


@pytest.mark.parametrize(
    ("filter_text", "predicate"),
    [
        ("status eq 'Running'", lambda m: m["status"] == "Running"),
        ("status ne 'Running'", lambda m: m["status"] != "Running"),
        ("locale eq 'de-DE' and status eq 'Failed'", lambda m: m["locale"] == "de-DE" and m["status"] == "Failed"),
        ("status eq 'NotStarted' or status eq 'Running'", lambda m: m["status"] in ("NotStarted", "Running")),
        ("not (status eq 'Succeeded')", lambda m: m["status"] != "Succeeded"),
        (
            "(locale eq 'en-US' or locale eq 'fr-FR') and not status eq 'Failed'",
            lambda m: m["locale"] in ("en-US", "fr-FR") and m["status"] != "Failed",
        ),
        ("displayName eq 'Acoustic model 00001'", lambda m: m["displayName"] == "Acoustic model 00001"),
        ("description ne 'x'", lambda m: True),
        ("createdDateTime gt 2024-03-01T00:00:00Z", lambda m: m["createdDateTime"] > "2024-03-01T00:00:00Z"),
        ("createdDateTime le '2024-01-05T00:00:00Z'", lambda m: m["createdDateTime"] <= "2024-01-05T00:00:00Z"),
        (
            "lastActionDateTime ge 2024-02-01T00:00:00+00:00 and lastActionDateTime lt 2024-02-03T00:00:00Z",
            lambda m: "2024-02-01T00:00:00Z" <= m["lastActionDateTime"] < "2024-02-03T00:00:00Z",
        ),
        ("status eq 'Paused'", lambda m: False),
        ("  status   eq   'Running'  ", lambda m: m["status"] == "Running"),
    ],
)
def test_supported_filters_select_the_right_models(client: httpx.Client, filter_text: str, predicate: Any) -> None:
    assert names(client, filter_text) == expected(predicate)


def test_string_literals_unescape_doubled_quotes() -> None:
    predicate = compile_filter("displayName eq 'O''Brien''s model'")
    assert predicate({"displayName": "O'Brien's model"})
    assert not predicate({"displayName": "O''Brien''s model"})


@pytest.mark.parametrize(
    ("filter_text", "why"),
    [
        ("status eq Running", "quoted string"),
        ("status gt 'Running'", "createdDateTime and lastActionDateTime only"),
        ("foo eq 'x'", "cannot be filtered on"),
        ("status eq 'Running' and", "ends too early"),
        ("(status eq 'Running'", "not closed"),
        ("status eq 'Running')", "unexpected ')'"),
        ("status eq 'Running", "unexpected character"),
        ("status like 'Run%'", "expected an operator"),
        ("status eq 'a' xor status eq 'b'", "unexpected 'xor'"),
        ("createdDateTime gt 'yesterday'", "not an ISO 8601 date-time"),
        ("createdDateTime gt 2024-01-01T00:00:00", "needs a time zone"),
        ("status eq 1", "quoted string or a date-time"),
        ("status eq 'a' ; drop table", "unexpected character ';'"),
        ("STATUS EQ 'Running'", "cannot be filtered on"),
        ("(" * 40 + "status eq 'Running'" + ")" * 40, "nests deeper"),
        ("not " * 40 + "status eq 'Running'", "nests deeper"),
        ("contains(displayName, 'x')", "cannot be filtered on"),
    ],
)
def test_unsupported_filters_are_400_unsupported_filter(client: httpx.Client, filter_text: str, why: str) -> None:
    with pytest.raises(FilterError) as info:
        compile_filter(filter_text)
    assert why in str(info.value)
    response = client.get(
        "/speechtotext/models", params={"filter": filter_text, "api-version": "2025-10-15"}, headers=HEADERS
    )
    body = assert_error(response, 400, "UnsupportedFilter")
    assert body["target"] == "filter"
    assert why in body["message"]


# --- bad input ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw_query", "status"),
    [
        (b"filter=%ff%fe&" + V.encode(), 400),  # percent-encoded bytes that are not UTF-8
        (b"filter=\xff\xfe&" + V.encode(), 400),  # raw non-ASCII bytes
        (b"top=1000000&" + V.encode(), 400),  # a huge top
        (b"filter=" + b"a" * 100_000 + b"&" + V.encode(), 400),  # a 100,000-character filter
        (b"filter=" + b"(" * 5000 + b"&" + V.encode(), 400),  # unbalanced parentheses
        (b"%%%&&&==&top==1&" + V.encode(), 400),  # malformed query string
        (b"filter=%27&" + V.encode(), 400),  # a lone quote
    ],
    ids=["non-utf8-escapes", "raw-bytes", "huge-top", "huge-filter", "parentheses", "malformed-query", "lone-quote"],
)
@pytest.mark.timeout(10)  # a hang guard (regex blow-up, deep recursion), not a speed assertion
def test_bad_input_gets_a_4xx_with_an_error_body(raw_query: bytes, status: int) -> None:
    app = create_app(count=250)
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/speechtotext/models",
        "raw_path": b"/speechtotext/models",
        "query_string": raw_query,
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), (b"ocp-apim-subscription-key", KEY.encode())],
        "server": ("127.0.0.1", 80),
        "client": ("127.0.0.1", 5000),
    }
    anyio.run(app, scope, receive, send)  # type: ignore[arg-type]  # Starlette's ASGI types are looser
    start = next(m for m in messages if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    assert start["status"] == status
    error = json.loads(body)
    assert error["code"] == "InvalidArgument"
    assert error["innerError"]["code"] in ("InvalidParameterValue", "UnsupportedFilter")


@pytest.mark.parametrize(
    "target",
    [
        b"/speechtotext/models?filter=\xff\xfe&" + V.encode(),  # raw bytes: the HTTP parser itself rejects them
        b"/speechtotext/models?filter=" + b"a" * 100_000 + b"&" + V.encode(),  # a request line of 100 kB
        b"/speechtotext/models?top=" + b"9" * 50 + b"&" + V.encode(),
    ],
    ids=["raw-non-ascii", "100k-filter", "huge-top"],
)
@pytest.mark.parametrize("http", PARSERS)
def test_bad_requests_over_a_real_socket_get_error_bodies(target: bytes, http: HttpParser) -> None:
    with run_emulator(count=5, http=http) as emulator:
        host, port = emulator.url.removeprefix("http://").rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            # One write: a parser that refuses the request line answers and closes at once, and bytes arriving after
            # its close would make the kernel reset the connection before the answer is read.
            sock.sendall(
                b"GET " + target + b" HTTP/1.1\r\nHost: " + host.encode() + b"\r\n"
                b"Ocp-Apim-Subscription-Key: " + KEY.encode() + b"\r\nConnection: close\r\n\r\n"
            )
            raw = b""
            while chunk := sock.recv(65536):
                raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ")
    assert b"content-type: application/json" in head.lower()
    error = json.loads(body)
    assert error["code"] in ("InvalidRequest", "InvalidArgument")
    assert error["innerError"]["code"] in ("InvalidParameterValue", "UnsupportedFilter")


def test_unknown_paths_and_methods_get_error_bodies(client: httpx.Client) -> None:
    assert_error(client.get("/speechtotext/nothing"), 404)
    response = client.post(f"/speechtotext/models?{V}", headers=HEADERS)
    assert_error(response, 405)
    assert "GET" in response.headers["Allow"]


# --- faults ---------------------------------------------------------------------------------------------------


@pytest.fixture
def faulty() -> Iterator[httpx.Client]:
    with in_process(create_app(count=5, faults=Faults())) as test_client:
        yield test_client


def test_throttling_faults_answer_the_next_requests(faulty: httpx.Client) -> None:
    assert (
        faulty.post(
            "/_emulator/faults", headers=HEADERS, json={"status": 429, "count": 2, "retry_after": 3}
        ).status_code
        == 200
    )
    for _ in range(2):
        response = get(faulty, V)
        assert_error(response, 429)
        assert response.headers["Retry-After"] == "3"
    assert get(faulty, V).status_code == 200


def test_retry_after_as_http_date_or_milliseconds(faulty: httpx.Client) -> None:
    faulty.post(
        "/_emulator/faults", headers=HEADERS, json={"status": 503, "retry_after": 2, "retry_after_format": "http-date"}
    )
    response = get(faulty, V)
    assert_error(response, 503)
    when = email.utils.parsedate_to_datetime(response.headers["Retry-After"]).timestamp()
    assert 0 < when - time.time() <= 3.5
    faulty.post(
        "/_emulator/faults", headers=HEADERS, json={"status": 429, "retry_after": 0.25, "retry_after_format": "ms"}
    )
    assert get(faulty, V).headers["retry-after-ms"] == "250"


def test_malformed_body_fault_and_clearing(faulty: httpx.Client) -> None:
    faulty.post("/_emulator/faults", headers=HEADERS, json={"malformed": True, "count": 3})
    response = get(faulty, V)
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        response.json()
    assert faulty.delete("/_emulator/faults", headers=HEADERS).status_code == 204
    assert get(faulty, V).json()["values"]


@pytest.mark.parametrize(
    "body",
    [
        {"status": 200},
        {"count": -1},
        {"latency": 100},
        {"bogus": 1},
        {"retry_after_format": "weeks", "status": 429},
        [],
    ],
)
def test_bad_fault_configuration_is_400(faulty: httpx.Client, body: Any) -> None:
    assert_error(faulty.post("/_emulator/faults", headers=HEADERS, json=body), 400)


def test_latency_is_set_through_the_admin_route() -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    with in_process(create_app(count=5, sleep=sleep)) as faulty:
        response = faulty.post("/_emulator/faults", headers=HEADERS, json={"latency": 0.25})
        assert response.json() == {"queued": 0, "latency": 0.25}
        assert get(faulty, V).status_code == 200
        assert get(faulty, V).status_code == 200
        assert slept == [0.25, 0.25]
        faulty.delete("/_emulator/faults", headers=HEADERS)
        assert get(faulty, V).status_code == 200
        assert slept == [0.25, 0.25]
        assert faulty.post("/_emulator/faults", headers=HEADERS, json={}).json()["latency"] == 0.0


@pytest.mark.parametrize(
    "raw",
    [
        b'{"status": 429, "retry_after": NaN}',
        b'{"status": 429, "retry_after": Infinity}',
        b'{"status": 429, "retry_after": 1e308}',
        b'{"status": 429, "retry_after": -1}',
        b'{"status": 429, "retry_after": true}',
        b'{"latency": NaN}',
        b'{"latency": 0.5, "status": 200}',
        b'{"latency": 0.5, "count": -1, "status": 429}',
        b'{"latency": 0.5, "retry_after_format": "weeks", "status": 429}',
    ],
)
def test_a_rejected_fault_setting_changes_nothing(raw: bytes) -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    app = create_app(count=5, sleep=sleep)
    with in_process(app) as faulty:
        assert_error(faulty.post("/_emulator/faults", headers=HEADERS, content=raw), 400)
        response = get(faulty, V)
        assert response.status_code == 200
        assert slept == []
        assert app.state.emulator.faults.queue == []


def test_a_trailing_slash_is_a_404_with_an_error_body(client: httpx.Client) -> None:
    body = assert_error(client.get(f"/speechtotext/models/?{V}", headers=HEADERS), 404)
    assert body["code"] == "NotFound"


def test_head_is_405_with_allow_and_an_error_body(client: httpx.Client) -> None:
    response = client.head(f"/speechtotext/models?{V}", headers=HEADERS)
    assert response.status_code == 405
    assert response.headers["allow"] == "GET"
    # A HEAD answer carries the headers of its Error body, never the body itself (RFC 9110, section 9.3.2).
    assert response.headers["content-type"] == "application/json"
    assert int(response.headers["content-length"]) > 0
    assert response.content == b""


@pytest.mark.parametrize("http", PARSERS)
@pytest.mark.parametrize("sent", [b"", b"GET /speechtotext/models HTTP/1.1\r\nHost: x\r\n"])
def test_a_client_that_never_finishes_its_head_is_disconnected(sent: bytes, http: HttpParser) -> None:
    with run_emulator(count=1, header_timeout=0.2, http=http) as emulator:
        port = int(emulator.url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port)) as conn:
            conn.sendall(sent)
            conn.settimeout(10)  # a hang guard: the emulator closes after 0.2 s
            received = b""
            while chunk := conn.recv(4096):
                received += chunk
    if sent:
        head, _, body = received.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 408")
        assert json.loads(body)["code"] == "InvalidRequest"
    else:
        assert received == b""


def _read_response(conn: socket.socket) -> tuple[bytes, bytes]:
    """One whole response (head, body) by its content-length, leaving the connection open."""
    raw = b""
    while b"\r\n\r\n" not in raw:
        raw += conn.recv(65536)
    head, _, body = raw.partition(b"\r\n\r\n")
    fields = dict(line.split(b":", 1) for line in head.lower().split(b"\r\n")[1:])
    length = int(fields[b"content-length"])
    while len(body) < length:
        body += conn.recv(65536)
    return head, body


@pytest.mark.parametrize("http", PARSERS)
@pytest.mark.parametrize("then", [b"", b"GET /speechtotext/mo"])
def test_after_a_response_the_head_timer_starts_again(then: bytes, http: HttpParser) -> None:
    """Kept alive after a response: closed without an answer when nothing more is asked, a 408 for a head that
    begins and never ends."""
    with run_emulator(count=1, header_timeout=0.2, http=http) as emulator:
        port = int(emulator.url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port)) as conn:
            conn.settimeout(3)  # the head timer closes at 0.2 s; uvicorn's own keep-alive timer would at 5 s
            conn.sendall(b"GET /speechtotext/models?" + V.encode() + b" HTTP/1.1\r\nHost: x\r\n")
            conn.sendall(b"Ocp-Apim-Subscription-Key: " + KEY.encode() + b"\r\n\r\n")
            head, body = _read_response(conn)
            assert head.startswith(b"HTTP/1.1 200")
            assert json.loads(body)["values"]
            conn.sendall(then)
            received = b""
            while chunk := conn.recv(4096):
                received += chunk
    if then:
        assert received.startswith(b"HTTP/1.1 408")
    else:
        assert received == b""


@pytest.mark.parametrize("http", PARSERS)
def test_a_slow_answer_is_not_cut_short_by_the_head_timer(http: HttpParser) -> None:
    """The head timer stops once a whole head has arrived: an answer later than it is still the answer."""
    with run_emulator(count=1, header_timeout=0.1, http=http) as emulator:
        emulator.state.faults.latency = 0.5
        response = httpx.get(f"{emulator.url}/speechtotext/models?{V}", headers=HEADERS, timeout=10)
    assert response.status_code == 200, response.text


def test_auto_serves_on_httptools_when_it_is_installed() -> None:
    """The [emulator] extra installs httptools; "auto" picks it, and a wrong name is refused by name."""
    assert emulator_protocol("auto")[0] == "httptools"
    with run_emulator(count=1) as emulator:
        assert emulator.http == "httptools"
        assert httpx.get(f"{emulator.url}/speechtotext/models?{V}", headers=HEADERS).status_code == 200
    with pytest.raises(ValueError, match="'h2'"):
        emulator_protocol("h2")  # type: ignore[arg-type]


def test_fault_admin_route_rejects_non_json(faulty: httpx.Client) -> None:
    assert_error(faulty.post("/_emulator/faults", headers=HEADERS, content=b"{not json"), 400)


def test_the_spec_is_served(client: httpx.Client, spec: dict[str, Any]) -> None:
    assert client.get("/openapi.json").json() == json.loads(json.dumps(spec))


def test_bearer_tokens_are_checked_alongside_or_instead_of_the_key() -> None:
    app = create_app(count=3, tokens=["good-token"])
    with in_process(app) as both:
        assert get(both, V, {"Authorization": "Bearer good-token"}).status_code == 200
        assert get(both, V).status_code == 200  # the key still works
        response = get(both, V, {"Authorization": "Bearer stale-token"})
        body = assert_error(response, 401)
        assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
        assert "unknown, expired or revoked" in body["message"]
        assert both.post("/_emulator/faults", headers=HEADERS, json={"revoke_tokens": True}).status_code == 200
        assert get(both, V, {"Authorization": "Bearer good-token"}).status_code == 401
    with in_process(create_app(count=3, key=None, tokens=["t"])) as tokens_only:
        response = get(tokens_only, V)
        assert "key authentication is disabled" in assert_error(response, 401)["message"]
        assert response.headers["www-authenticate"] == "Bearer"
        assert get(tokens_only, V, {"Authorization": "Bearer t"}).status_code == 200


def test_the_emulator_on_uvloop_leaves_the_processs_event_loop_policy_alone() -> None:
    """uvicorn picks uvloop when it is installed (the [emulator] extra installs it): through a loop factory, so a
    test suite that starts the emulator keeps its own asyncio policy and loops."""
    import asyncio
    import importlib.util

    from speech_models_emulator import run_emulator

    assert importlib.util.find_spec("uvloop") is not None  # installed by the extra, as the README says
    policy = asyncio.get_event_loop_policy()
    with run_emulator() as emulator:
        assert (
            httpx.get(
                f"{emulator.url}/speechtotext/models?api-version=2025-10-15", headers=emulator.admin_headers
            ).status_code
            == 200
        )

    async def loop_module() -> str:
        return type(asyncio.get_running_loop()).__module__

    assert asyncio.get_event_loop_policy() is policy
    assert asyncio.run(loop_module()).startswith("asyncio")
