"""``Pagination``: ``page`` and ``size`` query values, defaults 1 and 20, validated."""

from __future__ import annotations

import pytest
from falcon.testing import TestClient

from apps.http_example import create_app, options
from spine_core import Pagination, Spine
from spine_memory.pytest_plugin import SpineAppFactory

MAX = options().http.max_page_size  # type: ignore[union-attr]


@pytest.fixture
def client(spine_app: SpineAppFactory) -> TestClient:
    return spine_app(create_app(), options()).client


def test_defaults_are_page_1_of_20(client: TestClient) -> None:
    result = client.simulate_get("/items")
    assert (result.json["page"], result.json["size"]) == (1, 20)
    assert [i["id"] for i in result.json["items"]] == list(range(1, 21))


def test_page_and_size_select_the_slice(client: TestClient) -> None:
    result = client.simulate_get("/items", query_string="page=3&size=10")
    assert [i["id"] for i in result.json["items"]] == list(range(21, 31))
    assert result.headers["X-Total-Count"] == "95"


def test_the_configured_upper_bound_is_accepted(client: TestClient) -> None:
    assert client.simulate_get("/items", params={"size": str(MAX)}).json["size"] == MAX


@pytest.mark.parametrize(("query", "message"), [
    ("page=abc", "query parameter 'page' must be a whole number, got 'abc'"),
    ("size=1.5", "query parameter 'size' must be a whole number, got '1.5'"),
    ("page=-2", "query parameter 'page' must be a whole number, got '-2'"),
    ("page=0", "query parameter 'page' must be at least 1, got 0"),
    ("size=0", "query parameter 'size' must be at least 1, got 0"),
    (f"size={MAX + 1}", f"query parameter 'size' must be at most {MAX}, got {MAX + 1}"),
])
def test_bad_values_are_a_400_not_a_silent_default(client: TestClient, query: str, message: str) -> None:
    result = client.simulate_get("/items", query_string=query)
    assert result.status_code == 400
    assert result.json == {"message": message}


def test_offset() -> None:
    assert Pagination(page=3, size=25).offset == 50
    assert Pagination().offset == 0


def page_size(page: Pagination) -> int:
    return page.size


def test_the_default_upper_bound_is_100(spine_app: SpineAppFactory) -> None:
    app = Spine()
    app.route("GET", "/p", page_size)
    client = spine_app(app).client
    assert client.simulate_get("/p", params={"size": "100"}).json == 100
    assert client.simulate_get("/p", params={"size": "101"}).status_code == 400
