"""Bad input over HTTP, in the app: strict forms and path values, typed query values, body size,
correlation ids, bodiless responses, the page bound and bounded metric labels."""

from __future__ import annotations

import re

import pytest
from attrs import define

from apps.http_example import create_app, options
from spine_core import HTTPOptions, Options, OpsOptions, Redirect, Spine, form, path, query
from spine_core.http.pagination import MAX_PAGE

from .support import FORM, urlencoded


@form
@define
class Numbers:
    count: int = 0
    ratio: float = 0.0
    flag: bool = False
    limit: int | None = None
    either: int | str = 0


class Handlers:
    def numbers(self, numbers: Numbers) -> dict[str, object]:
        return {"count": numbers.count, "ratio": numbers.ratio, "flag": numbers.flag, "limit": numbers.limit,
                "either": numbers.either}

    def item(self, item_id: path.Int, ratio: path.Float) -> dict[str, object]:
        return {"id": item_id.value, "ratio": ratio.value}

    def search(
        self, n: query.Int = query.Int(10), q: query.String | None = None, exact: query.Bool = query.Bool(False),
        near: query.Float | None = None,
    ) -> dict[str, object]:
        return {"n": n.value, "q": q.value if q else None, "exact": exact.value, "near": near.value if near else None}

    def required(self, n: query.Int) -> int:
        return n.value

    def echo_id(self, body: bytes = b"") -> str:
        return "ok"

    def moved(self) -> Redirect:
        return Redirect("/elsewhere", status=301)


def make_app() -> Spine:
    app = Spine()
    app.constructor(Handlers)
    app.route("POST", "/numbers", Handlers.numbers)
    app.route("GET", "/items/:id/:ratio", Handlers.item)
    app.route("GET", "/search", Handlers.search)
    app.route("GET", "/required", Handlers.required)
    app.route("POST", "/anything", Handlers.moved)
    app.route("GET", "/moved", Handlers.moved)
    return app


@pytest.fixture
def client(spine_app):
    return spine_app(make_app(), Options(http=HTTPOptions(max_body_size=1000, max_upload_size=5000))).client


@pytest.mark.parametrize("field, sent, expected", [
    ("count", "12", 12), ("count", "-3", -3), ("ratio", "1.5", 1.5), ("ratio", "2e3", 2000.0), ("ratio", "7", 7.0),
    ("flag", "on", True), ("flag", "FALSE", False), ("limit", "5", 5), ("either", "5", 5), ("either", "five", "five"),
])
def test_form_numbers_and_booleans_that_parse(client, field: str, sent: str, expected: object) -> None:
    result = client.simulate_post("/numbers", body=urlencoded([(field, sent)]), headers=FORM)
    assert result.status_code == 200
    assert result.json[field] == expected


@pytest.mark.parametrize("field, sent", [
    ("count", "1.7"), ("count", " 12"), ("count", "1_000"), ("count", "١٢"), ("count", "9" * 4400), ("count", "0x10"),
    ("ratio", "nan"), ("ratio", "inf"), ("ratio", "1,5"), ("ratio", "1_0"), ("flag", "maybe"), ("flag", "2"),
    ("limit", "5.5"),
])
def test_form_text_that_is_not_the_type_is_a_400_naming_the_field(client, field: str, sent: str) -> None:
    result = client.simulate_post("/numbers", body=urlencoded([(field, sent)]), headers=FORM)
    assert result.status_code == 400
    assert result.json["message"].startswith(f"form does not fit Numbers: field '{field}': expected ")


@pytest.mark.parametrize("url, message", [
    ("/items/12a/1.5", "path parameter 'id': expected an integer, got '12a'"),
    ("/items/%2012/1.5", "path parameter 'id': expected an integer, got ' 12'"),
    ("/items/1_000/1.5", "path parameter 'id': expected an integer, got '1_000'"),
    ("/items/1/nan", "path parameter 'ratio': expected a number, got 'nan'"),
])
def test_path_values_are_strict(client, url: str, message: str) -> None:
    result = client.simulate_get(url)
    assert (result.status_code, result.json["message"]) == (400, message)
    assert client.simulate_get("/items/-12/0.5").json == {"id": -12, "ratio": 0.5}


def test_typed_query_values_with_defaults(client) -> None:
    assert client.simulate_get("/search").json == {"n": 10, "q": None, "exact": False, "near": None}
    result = client.simulate_get("/search", query_string="n=3&q=tea&exact=yes&near=2.5&n=4")
    assert result.json == {"n": 4, "q": "tea", "exact": True, "near": 2.5}, "a repeated name gives its last value"


@pytest.mark.parametrize("query_string, message", [
    ("n=abc", "query parameter 'n': expected an integer, got 'abc'"),
    ("n=1.5", "query parameter 'n': expected an integer, got '1.5'"),
    ("exact=perhaps", "query parameter 'exact': expected a boolean (true/false, on/off, 1/0, yes/no), got 'perhaps'"),
    ("near=x", "query parameter 'near': expected a number, got 'x'"),
])
def test_a_bad_query_value_is_a_400_naming_the_parameter(client, query_string: str, message: str) -> None:
    result = client.simulate_get("/search", query_string=query_string)
    assert (result.status_code, result.json["message"]) == (400, message)


def test_a_query_value_without_default_is_required(client) -> None:
    assert client.simulate_get("/required", query_string="n=5").json == 5
    result = client.simulate_get("/required")
    assert (result.status_code, result.json["message"]) == (400, "query parameter 'n' is required")


def test_a_body_over_max_body_size_is_a_413_whatever_the_route_reads(client) -> None:
    """A route that never reads its body still refuses a large one; forms have their own limit."""
    result = client.simulate_post("/anything", body=b"x" * 1001, headers={"Content-Type": "application/json"})
    assert result.status_code == 413
    assert result.json["message"] == "request body of 1001 bytes exceeds the limit of 1000 bytes"
    assert client.simulate_post("/anything", body=b"x" * 1000).status_code == 301
    form_body = urlencoded([("count", "1"), ("pad", "x" * 2000)])
    assert client.simulate_post("/numbers", body=form_body, headers=FORM).status_code == 200


def test_the_default_body_limit_is_one_mebibyte() -> None:
    assert HTTPOptions().max_body_size == 1024 * 1024


@pytest.mark.parametrize("sent, kept", [
    ("abc-123", True), ("order:12.a_b", True), ("x" * 128, True),
    ("x" * 129, False), ("", False), ("a b", False), ("a\u00e9", False), ("a/b", False), ("a\tb", False),
])
def test_a_correlation_id_is_kept_only_when_bounded_and_plain(client, sent: str, kept: bool) -> None:
    result = client.simulate_get("/search", headers={"X-Correlation-ID": sent})
    answered = result.headers["X-Correlation-ID"]
    if kept:
        assert answered == sent
    else:
        assert answered != sent and re.fullmatch(r"[0-9a-f]{32}", answered)


def test_a_redirect_does_not_claim_a_json_body(client) -> None:
    result = client.simulate_get("/moved")
    assert result.status_code == 301 and result.text == ""
    assert not result.headers["Content-Type"].startswith("application/json")


def test_a_huge_page_is_a_400(spine_app) -> None:
    client = spine_app(create_app(), options()).client
    for page in ("99999999999999999999999", str(MAX_PAGE + 1), "9" * 5000):
        result = client.simulate_get("/items", query_string=f"page={page}")
        assert result.status_code == 400
        assert result.json["message"].startswith(f"query parameter 'page' must be at most {MAX_PAGE}")
    assert client.simulate_get("/items", query_string=f"page={MAX_PAGE}").status_code == 200


@pytest.mark.filterwarnings("ignore::wsgiref.validate.WSGIWarning")  # the invented methods
def test_metric_labels_stay_bounded_under_invented_methods_and_paths(spine_app) -> None:
    """Thousands of distinct methods and paths add no series: methods fold into ``other``,
    paths into their route template or one unmatched value."""
    client = spine_app(make_app(), Options(ops=OpsOptions(metrics=True))).client

    def series() -> list[str]:
        text = client.simulate_get("/metrics").text
        return [line for line in text.splitlines() if line.startswith("spine_http_requests_total{")]

    for i in range(2000):
        client.simulate_request(f"M{i}X", f"/items/{i}/1.5")
        client.simulate_request("GET", f"/nowhere/{i}")
        client.simulate_request("GET", f"/items/{i}/1.5")
    labels = series()
    assert len(labels) == 3, labels
    assert any('method="other"' in line and 'route="/items/:id/:ratio"' in line and 'status="400"' in line
               for line in labels)
    assert any('route="<unmatched>"' in line for line in labels)
