"""The facade against httpx.MockTransport (no network): configuration, secrets, paging over HTTP, typed errors."""

from __future__ import annotations

import asyncio
import copy
import json
import logging
from collections.abc import Callable
from typing import Any, cast

import httpx
import pytest
import speech_models as sm
from speech_models_client.api.models import models_list_custom_models

from tests.reference_page import read_page

ENDPOINT = "https://westus.api.cognitive.microsoft.com"
KEY = "0123456789abcdef-super-secret-key"
SAMPLE: dict[str, Any] = read_page().sample_response  # type: ignore[assignment]
KINDS = pytest.mark.parametrize("kind", ["sync", "async"])
Handler = Callable[[httpx.Request], httpx.Response]


def model(n: int, status: str = "Succeeded") -> dict[str, Any]:
    item = copy.deepcopy(SAMPLE["values"][0])
    item["displayName"] = f"model {n}"
    item["self"] = f"{ENDPOINT}/speechtotext/models/{n:08d}?api-version=2025-10-15"
    item["status"] = status
    return cast(dict[str, Any], item)


class Service:
    """A scripted service: `total` models served `top` at a time with absolute @nextLinks; records requests."""

    def __init__(self, total: int = 7, link_base: str = ENDPOINT, retry_after: str | None = "1") -> None:
        self.total = total
        self.link_base = link_base
        self.retry_after = retry_after
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        skip = int(request.url.params.get("skip", 0))
        top = int(request.url.params.get("top", 3))
        body: dict[str, Any] = {"values": [model(n) for n in range(skip, min(skip + top, self.total))]}
        if skip + top < self.total:
            body["@nextLink"] = (
                f"{self.link_base}/speechtotext/models?skip={skip + top}&top={top}&api-version=2025-10-15"
            )
        headers = {"Retry-After": self.retry_after} if self.retry_after else {}
        return httpx.Response(200, json=body, headers=headers)


def client(kind: str, handler: Handler, sleeps: list[float] | None = None, **kwargs: Any) -> Any:
    record = sleeps if sleeps is not None else []
    kwargs.setdefault("clock", lambda: 1000.0 + sum(record))  # time passes only in the (fake) sleeps
    if kind == "sync":
        return sm.SpeechToTextModels(
            ENDPOINT, KEY, transport=httpx.MockTransport(handler), sleep=record.append, **kwargs
        )

    async def asleep(seconds: float) -> None:
        record.append(seconds)

    return sm.AsyncSpeechToTextModels(ENDPOINT, KEY, transport=httpx.MockTransport(handler), sleep=asleep, **kwargs)


def run(kind: str, api: Any, what: str = "items", **list_kwargs: Any) -> list[Any]:
    """List through `api` and return models (or pages); closes the client."""
    if kind == "sync":
        with api:
            paged = api.list_models(**list_kwargs)
            return list(paged.by_page()) if what == "pages" else list(paged)

    async def go() -> list[Any]:
        async with api:
            paged = api.list_models(**list_kwargs)
            if what == "pages":
                return [page async for page in paged.by_page()]
            return [item async for item in paged]

    return asyncio.run(go())


def failure(kind: str, handler: Handler, error: type[Exception] = sm.SpeechModelsError, **kwargs: Any) -> Any:
    with pytest.raises(error) as info:
        run(kind, client(kind, handler), **kwargs)
    return info.value


# --- configuration -------------------------------------------------------------------------------------------


def test_endpoint_and_key_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(sm.ENDPOINT_ENV, "https://eastus.api.cognitive.microsoft.com/")
    monkeypatch.setenv(sm.KEY_ENV, KEY)
    service = Service(total=1)
    with sm.SpeechToTextModels(transport=httpx.MockTransport(service)) as api:
        assert api.endpoint == "https://eastus.api.cognitive.microsoft.com"
        assert len(list(api.list_models())) == 1
    assert service.requests[0].headers["Ocp-Apim-Subscription-Key"] == KEY
    assert service.requests[0].url.host == "eastus.api.cognitive.microsoft.com"


@pytest.mark.parametrize(
    ("endpoint", "key", "message"),
    [
        (None, KEY, "no endpoint: pass endpoint=... or set AZURE_SPEECH_ENDPOINT"),
        ("", KEY, "no endpoint"),
        (ENDPOINT, None, "no subscription key: pass key=... or set AZURE_SPEECH_KEY"),
        (ENDPOINT, "  ", "no subscription key"),
        (ENDPOINT, "abc\r\nX-Injected: 1", "whitespace, control or non-ASCII"),
        ("http://westus.api.cognitive.microsoft.com", KEY, "plain http"),
        ("ftp://example.com", KEY, "absolute http(s) URL"),
        ("westus.api.cognitive.microsoft.com", KEY, "absolute http(s) URL"),
        ("https://user:pw@example.com", KEY, "must not carry credentials"),
        ("https://example.com/?x=1", KEY, "must not carry a query"),
    ],
)
def test_bad_configuration_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, endpoint: str | None, key: str | None, message: str
) -> None:
    monkeypatch.delenv(sm.ENDPOINT_ENV, raising=False)
    monkeypatch.delenv(sm.KEY_ENV, raising=False)
    with pytest.raises(sm.ConfigurationError) as info:
        sm.SpeechToTextModels(endpoint, key)
    assert message in str(info.value)
    assert isinstance(info.value, ValueError)
    if key and key.strip():
        assert key not in str(info.value)


@pytest.mark.parametrize("endpoint", ["http://127.0.0.1:8765", "http://localhost:1234", "http://[::1]:80"])
def test_plain_http_is_allowed_on_loopback(endpoint: str) -> None:
    with sm.SpeechToTextModels(endpoint, KEY) as api:
        assert api.endpoint.startswith("http://")


@pytest.mark.parametrize(("top", "skip"), [(0, None), (-1, None), (None, -1), ("5", None), (True, None), (2.5, None)])
def test_bad_paging_arguments_are_rejected(top: Any, skip: Any) -> None:
    with sm.SpeechToTextModels(ENDPOINT, KEY) as api, pytest.raises(sm.ConfigurationError):
        api.list_models(top=top, skip=skip)


@KINDS
def test_a_filter_too_long_for_a_url_is_a_configuration_error(kind: str) -> None:
    service = Service()
    with pytest.raises(sm.ConfigurationError, match=r"cannot build the request URL.*too long"):
        run(kind, client(kind, service), filter="displayName eq '" + "x" * 70_000 + "'")
    assert service.requests == []


@KINDS
def test_the_timeout_applies_to_every_request(kind: str) -> None:
    timeouts: list[dict[str, float]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        timeouts.append(request.extensions["timeout"])
        return Service(total=3)(request)

    run(kind, client(kind, handler, timeout=2.5, clock=lambda: 100.0), top=2)
    assert timeouts == [{"connect": 2.5, "read": 2.5, "write": 2.5, "pool": 2.5}] * 2


# --- secrets ---------------------------------------------------------------------------------------------------


@KINDS
def test_the_key_never_appears_in_reprs_logs_errors_or_urls(kind: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("skip"):
            return httpx.Response(401, json={"code": "Unauthorized", "message": "wrong key"})
        return Service(total=5)(request)

    api = client(kind, handler)
    texts = [repr(api), repr(api.generated_client), repr(vars(api))]
    with pytest.raises(sm.AuthenticationError) as info:
        run(kind, api, top=2)
    error = info.value
    texts += [str(error), repr(error), repr(vars(error)), repr(error.response.request.headers), str(error.response.url)]
    texts += [caplog.text]
    assert "GET https://westus" in caplog.text  # the requests are logged...
    for text in texts:
        assert KEY not in text  # ...but never the key


def test_the_key_goes_only_in_its_header() -> None:
    service = Service(total=2)
    run("sync", client("sync", service))
    request = service.requests[0]
    assert request.headers["Ocp-Apim-Subscription-Key"] == KEY
    assert KEY not in str(request.url)
    assert request.headers["User-Agent"].startswith(f"speech-models/{sm.__version__} ")


# --- paging over HTTP -----------------------------------------------------------------------------------------


@KINDS
def test_lists_every_model_across_pages(kind: str) -> None:
    service = Service(total=7)
    got = run(kind, client(kind, service), top=3)
    assert [m.display_name for m in got] == [f"model {n}" for n in range(7)]
    assert all(isinstance(m, sm.CustomModel) and m.status is sm.Status.SUCCEEDED for m in got)
    assert [r.url.params.get("skip") for r in service.requests] == [None, "3", "6"]


@KINDS
def test_filter_top_and_skip_are_passed_through(kind: str) -> None:
    service = Service(total=10)
    run(kind, client(kind, service), filter="status eq 'Running'", top=4, skip=2, max_items=1)
    params = service.requests[0].url.params
    assert params["filter"] == "status eq 'Running'"
    assert params["top"] == "4"
    assert params["skip"] == "2"
    assert params["api-version"] == "2025-10-15"
    assert len(service.requests) == 1


@KINDS
def test_pages_expose_retry_after_status_and_token(kind: str) -> None:
    got = run(kind, client(kind, Service(total=5, retry_after="3")), what="pages", top=2)
    assert [len(p) for p in got] == [2, 2, 1]
    assert [p.retry_after for p in got] == [3.0, 3.0, 3.0]
    assert [p.status_code for p in got] == [200, 200, 200]
    assert got[0].continuation_token == f"{ENDPOINT}/speechtotext/models?skip=2&top=2&api-version=2025-10-15"
    assert got[-1].continuation_token is None


@KINDS
def test_pacing_honours_retry_after_on_200_pages_when_asked(kind: str) -> None:
    sleeps: list[float] = []
    run(kind, client(kind, Service(total=5, retry_after="2"), sleeps), top=2, honor_retry_after=True)
    assert sleeps == [2.0, 2.0]
    sleeps.clear()
    run(kind, client(kind, Service(total=5, retry_after="2"), sleeps), top=2)
    assert sleeps == []


@KINDS
def test_pacing_waits_at_most_the_policys_max_wait(kind: str) -> None:
    sleeps: list[float] = []
    api = client(kind, Service(total=5, retry_after="100"), sleeps, retry_policy=sm.RetryPolicy(max_wait=5))
    run(kind, api, top=2, honor_retry_after=True)
    assert sleeps == [5.0, 5.0]


@KINDS
def test_resume_from_a_failed_page(kind: str) -> None:
    service = Service(total=6)
    failing = {"on": True}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("skip") == "4" and failing["on"]:
            return httpx.Response(404, json={"code": "NotFound", "message": "gone"})
        return service(request)

    error = failure(kind, handler, sm.NotFoundError, top=2)
    assert error.continuation_token == f"{ENDPOINT}/speechtotext/models?skip=4&top=2&api-version=2025-10-15"
    failing["on"] = False
    rest = run(kind, client(kind, handler), continuation_token=error.continuation_token)
    assert [m.display_name for m in rest] == ["model 4", "model 5"]


@KINDS
def test_next_link_to_another_host_is_refused_and_nothing_is_sent(kind: str) -> None:
    service = Service(total=5, link_base="https://attacker.example")
    error = failure(kind, service, sm.NextLinkError, top=2)
    assert "attacker.example" in str(error)
    assert "must not go elsewhere" in str(error)
    assert len(service.requests) == 1
    assert KEY not in str(error)


@pytest.mark.parametrize(
    "link_base",
    [
        "http://westus.api.cognitive.microsoft.com",  # scheme
        "https://westus.api.cognitive.microsoft.com:8443",  # port
        "https://westus.api.cognitive.microsoft.com.attacker.example",  # suffix
        "//attacker.example",  # scheme-relative
    ],
)
def test_next_link_must_keep_scheme_host_and_port(link_base: str) -> None:
    service = Service(total=5, link_base=link_base)
    failure("sync", service, sm.NextLinkError, top=2)
    assert len(service.requests) == 1


@pytest.mark.parametrize(
    "link_base", ["https://westus.api.cognitive.microsoft.com:443", "HTTPS://WESTUS.api.cognitive.microsoft.com:443"]
)
def test_next_link_with_the_default_port_spelled_out_is_followed(link_base: str) -> None:
    """httpx drops a default port only when the scheme is in lower case: the origin compares the port meant."""
    service = Service(total=5, link_base=link_base)
    assert len(run("sync", client("sync", service), top=2)) == 5
    assert len(service.requests) == 3


@KINDS
def test_relative_next_link_resolves_against_the_endpoint(kind: str) -> None:
    service = Service(total=5, link_base="")
    got = run(kind, client(kind, service), top=2)
    assert len(got) == 5
    assert all(r.url.host == "westus.api.cognitive.microsoft.com" for r in service.requests)


@KINDS
@pytest.mark.parametrize(
    ("link", "expected"),
    [
        ("/speechtotext/models?skip=2&top=2", "skip=2&top=2&api-version=2024-01-01"),
        ("/speechtotext/models?skip=2&top=2&api-version=2025-10-15", "skip=2&top=2&api-version=2024-01-01"),
    ],
)
def test_api_version_is_applied_to_followed_links(kind: str, link: str, expected: str) -> None:
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        if len(requests) == 1:
            return httpx.Response(200, json={"values": [model(0)], "@nextLink": link})
        return httpx.Response(200, json={"values": [model(1)]})

    run(kind, client(kind, handler, api_version="2024-01-01"))
    assert requests[0].url.params["api-version"] == "2024-01-01"
    assert requests[1].url.query.decode() == expected


@KINDS
def test_a_next_link_that_repeats_stops(kind: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"values": [model(0)], "@nextLink": f"{ENDPOINT}/speechtotext/models?skip=1"})

    error = failure(kind, handler, sm.NextLinkError)
    assert "already followed" in str(error)


@KINDS
def test_null_next_link_ends_the_list(kind: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"values": [model(0)], "@nextLink": None})

    assert len(run(kind, client(kind, handler))) == 1


@KINDS
def test_unknown_enum_values_from_a_newer_service_are_kept(kind: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"values": [model(0, status="Archived"), model(1, status="Running")]})

    first, second = run(kind, client(kind, handler))
    assert first.status == "Archived"
    assert isinstance(first.status, sm.Status)
    assert second.status is sm.Status.RUNNING


# --- retries through the facade ----------------------------------------------------------------------------------


@KINDS
def test_throttled_requests_are_retried_after_retry_after(kind: str) -> None:
    service = Service(total=2)
    throttled = {"left": 2}

    def handler(request: httpx.Request) -> httpx.Response:
        if throttled["left"]:
            throttled["left"] -= 1
            return httpx.Response(429, headers={"Retry-After": "3"}, json={"code": "TooManyRequests"})
        return service(request)

    sleeps: list[float] = []
    assert len(run(kind, client(kind, handler, sleeps))) == 2
    assert sleeps == [3.0, 3.0]


@KINDS
def test_a_wait_over_the_cap_raises_rate_limit_error_with_the_wait(kind: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": "900"}, json={"code": "TooManyRequests", "message": "slow"})

    sleeps: list[float] = []
    with pytest.raises(sm.RateLimitError) as info:
        run(kind, client(kind, handler, sleeps, retry_policy=sm.RetryPolicy(max_wait=30)))
    assert info.value.retry_after == 900.0
    assert "retry after 900s" in str(info.value)
    assert sleeps == []


@KINDS
def test_connection_errors_become_api_connection_error_after_retries(kind: str) -> None:
    calls: list[int] = []
    link = f"{ENDPOINT}/speechtotext/models?skip=1&top=1&api-version=2025-10-15"

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if "skip" not in request.url.params:  # the first page arrives; the second cannot be reached
            return httpx.Response(200, json={"values": [{"displayName": "a"}], "@nextLink": link})
        raise httpx.ConnectError("connection refused", request=request)

    error = failure(kind, handler, sm.APIConnectionError)
    assert not isinstance(error, sm.APITimeoutError)
    assert error.__cause__.request.headers["Ocp-Apim-Subscription-Key"] == "[redacted]"
    assert "ConnectError" in str(error)
    assert "connection refused" in str(error)
    assert len(calls) == 1 + 4
    assert error.continuation_token == link


@KINDS
def test_timeouts_become_api_timeout_error(kind: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("read timed out", request=request)

    error = failure(kind, handler, sm.APITimeoutError)
    assert isinstance(error, sm.APIConnectionError)


# --- typed errors ---------------------------------------------------------------------------------------------


ERROR_BODY = {
    "code": "InvalidArgument",
    "message": "The filter is not supported.",
    "target": "filter",
    "details": [{"code": "InvalidArgument", "message": "near 'foo'"}],
    "innerError": {
        "code": "InvalidParameterValue",
        "message": "bad filter",
        "innerError": {"code": "UnsupportedFilter", "message": "foo is not a property"},
    },
}


@KINDS
@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (400, sm.BadRequestError),
        (401, sm.AuthenticationError),
        (403, sm.PermissionDeniedError),
        (404, sm.NotFoundError),
        (409, sm.APIStatusError),
        (429, sm.RateLimitError),
        (500, sm.ServiceError),
        (503, sm.ServiceError),
    ],
)
def test_status_maps_to_its_error_class(kind: str, status: int, error_class: type[sm.APIStatusError]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=ERROR_BODY, headers={"apim-request-id": "req-42"})

    error = failure(kind, handler, error_class)
    assert type(error) is error_class
    assert error.status_code == status
    assert error.request_id == "req-42"
    assert error.code is sm.ErrorCode.INVALIDARGUMENT
    assert error.message == "The filter is not supported."
    assert error.error is not None
    assert error.error.target == "filter"
    details = error.error.details
    assert isinstance(details, list)
    assert details[0].message == "near 'foo'"
    assert error.detailed_codes == [sm.DetailedErrorCode.INVALIDPARAMETERVALUE, sm.DetailedErrorCode.UNSUPPORTEDFILTER]
    assert error.response.status_code == status
    assert "InvalidParameterValue > UnsupportedFilter" in str(error)
    assert "req-42" in str(error)


@KINDS
@pytest.mark.parametrize(
    ("body", "content_type", "in_message"),
    [
        ("", "text/plain", "empty body"),
        ("<html><body>502 Bad Gateway from the proxy</body></html>", "text/html", "502 Bad Gateway from the proxy"),
        ('{"code": "InvalidArgument", "mess', "application/json", '{"code": "InvalidArgument", "mess'),
        ("[1, 2]", "application/json", "body is not an Error"),
    ],
    ids=["empty", "html", "truncated-json", "json-not-object"],
)
def test_an_error_body_that_is_not_an_error_keeps_status_and_text(
    kind: str, body: str, content_type: str, in_message: str
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, content=body.encode(), headers={"Content-Type": content_type})

    error = failure(kind, handler, sm.BadRequestError)
    assert error.status_code == 400
    assert error.error is None
    assert error.text == body
    assert in_message in str(error)


@KINDS
@pytest.mark.parametrize(
    ("body", "in_message"),
    [
        (b"<html>hello</html>", "Expecting value"),
        (b'{"values": [', "Expecting value"),
        (b"[]", "a JSON list, not an object"),
        (b"[1, 2]", "not a valid page"),
        (b'{"values": 5}', "'values' is a int"),
        (b'{"values": [{"displayName": "a"}, 7]}', "values[1] should be a JSON object, found 7 (int)"),
        (b'{"@nextLink": null}', "no 'values' array"),
    ],
)
def test_a_2xx_body_that_is_not_a_page_is_a_clear_error(kind: str, body: bytes, in_message: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"Content-Type": "application/json"})

    error = failure(kind, handler, sm.InvalidResponseError)
    assert str(error).startswith("the 200 response is not a valid page of models: ")
    assert in_message in str(error)


@KINDS
def test_a_wrong_typed_field_raises_when_read_and_spares_the_rest_of_the_page(kind: str) -> None:
    bad = {**model(1), "createdDateTime": "yesterday", "status": 7}

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"values": [model(0), bad, model(2)]})

    models = run(kind, client(kind, handler))
    assert [m.display_name for m in models] == ["model 0", "model 1", "model 2"]
    with pytest.raises(sm.FieldValueError) as info:
        _ = models[1].created_date_time
    assert str(info.value) == (
        "CustomModel: values[1].createdDateTime should be an RFC 3339 date-time with an offset, found 'yesterday' (str)"
    )
    assert isinstance(info.value, sm.InvalidResponseError)
    assert isinstance(info.value, sm.SpeechModelsError)
    with pytest.raises(sm.FieldValueError, match=r"values\[1\].status should be a Status string, found 7"):
        _ = models[1].status
    assert models[1].locale == "en-US"
    assert models[2].created_date_time == models[0].created_date_time is not None


@KINDS
def test_a_2xx_body_that_is_not_a_page_on_a_followed_link(kind: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("skip"):
            return httpx.Response(200, content=b"<html/>")
        return httpx.Response(200, json={"values": [model(0)], "@nextLink": "/speechtotext/models?skip=1"})

    error = failure(kind, handler, sm.InvalidResponseError)
    assert error.continuation_token == "/speechtotext/models?skip=1"


def test_generated_functions_through_the_facade_get_the_key_and_retries() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.headers["Ocp-Apim-Subscription-Key"])
        if len(calls) == 1:
            return httpx.Response(503, headers={"Retry-After": "0"})
        return httpx.Response(401, json={"code": "Unauthorized", "message": "denied"})

    api = sm.SpeechToTextModels(ENDPOINT, KEY, transport=httpx.MockTransport(handler), sleep=lambda s: None)
    with api:
        response = models_list_custom_models.sync_detailed(client=api.generated_client)
    assert calls == [KEY, KEY]
    assert response.status_code == 401
    assert isinstance(response.parsed, sm.Error)
    assert response.parsed.message == "denied"


def test_public_names_are_importable_from_one_package() -> None:
    public = {name for name in vars(sm) if not name.startswith("_")}
    assert public == set(sm.__all__) - {"__version__"}
    assert sm.RateLimitError.__module__ == "speech_models"
    assert issubclass(sm.RateLimitError, sm.APIStatusError)
    assert issubclass(sm.APITimeoutError, sm.APIConnectionError)
    assert issubclass(sm.NextLinkError, sm.SpeechModelsError)
    assert sm.CustomModel.__module__.startswith("speech_models_client")


def test_context_managers_close_the_http_clients() -> None:
    with sm.SpeechToTextModels(ENDPOINT, KEY) as api:
        pass
    assert api._http.is_closed

    async def go() -> Any:
        async with sm.AsyncSpeechToTextModels(ENDPOINT, KEY) as aapi:
            pass
        return aapi

    assert asyncio.run(go())._http.is_closed


def test_json_helper_round_trip_of_models() -> None:
    got = run("sync", client("sync", Service(total=1)))
    assert json.loads(json.dumps(got[0].to_dict())) == model(0)


@KINDS
def test_a_bug_in_the_sdk_surfaces_as_itself_not_as_an_invalid_response(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import speech_models._page as page_module

    def broken(headers: Any) -> float:
        raise KeyError("a bug of ours")

    monkeypatch.setattr(page_module, "parse_retry_after", broken)
    with pytest.raises(KeyError, match="a bug of ours"):
        run(kind, client(kind, Service(total=3)))
