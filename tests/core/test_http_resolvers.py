"""HTTP handler parameters resolved by annotation: context, path, query, headers, JSON body."""

from __future__ import annotations

from datetime import datetime

import pytest
from attrs import frozen

from spine_core import BootError, Context, Query, RequestHeaders, Spine, path
from spine_memory.pytest_plugin import SpineAppFactory

from .support import options


@frozen
class NewItem:
    sku: str
    quantity: int
    due: datetime | None = None


class Handlers:
    def context(self, ctx: Context) -> dict[str, object]:
        return {"route": ctx.route, "correlation_id": ctx.correlation_id, "params": ctx.params}

    def typed(self, order_id: path.Int, name: path.String, paid: path.Bool) -> dict[str, object]:
        return {"order_id": order_id.value, "name": name.value, "paid": paid.value}

    def reversed_names(self, first: path.String, second: path.String) -> str:
        return f"{first.value},{second.value}"

    def query(self, q: Query) -> dict[str, object]:
        return {"page": q.get("page"), "tags": q.get_all("tag"), "missing": q.get_all("none")}

    def headers(self, h: RequestHeaders) -> dict[str, object]:
        return {"lower": h.get("x-tenant"), "upper": h["X-TENANT"], "absent": h.get("x-nope")}

    def body(self, item: NewItem) -> dict[str, object]:
        return {"sku": item.sku, "quantity": item.quantity, "due": item.due.isoformat() if item.due else None}

    def too_many(self, a: path.Int, b: path.Int) -> str:
        return "never"

    def unsupported(self, value: float) -> str:
        return "never"


def client(spine_app, method: str, template: str, handler: object):  # type: ignore[no-untyped-def]
    app = Spine()
    app.constructor(Handlers)
    app.route(method, template, handler)  # type: ignore[arg-type]
    return spine_app(app, options()).client


def test_context_carries_route_params_and_correlation_id(spine_app: SpineAppFactory) -> None:
    """The context has the route template, raw path params and the caller's correlation id."""
    c = client(spine_app, "GET", "/ctx/:id", Handlers.context)
    result = c.simulate_get("/ctx/42", headers={"X-Correlation-ID": "abc-123"})
    assert result.json == {"route": "/ctx/:id", "correlation_id": "abc-123", "params": {"id": "42"}}
    assert result.headers["X-Correlation-ID"] == "abc-123"


def test_correlation_id_is_generated_when_absent(spine_app: SpineAppFactory) -> None:
    """Without the header a fresh correlation id is made and echoed in the response."""
    c = client(spine_app, "GET", "/ctx", Handlers.context)
    first, second = c.simulate_get("/ctx"), c.simulate_get("/ctx")
    assert first.json["correlation_id"] == first.headers["X-Correlation-ID"]
    assert first.json["correlation_id"] and first.json["correlation_id"] != second.json["correlation_id"]


def test_path_types_are_parsed(spine_app: SpineAppFactory) -> None:
    """path.Int, path.String and path.Bool give parsed values."""
    c = client(spine_app, "GET", "/o/:order_id/:name/:paid", Handlers.typed)
    assert c.simulate_get("/o/12345/bob/true").json == {"order_id": 12345, "name": "bob", "paid": True}
    assert c.simulate_get("/o/-1/x/off").json["paid"] is False
    assert c.simulate_get("/o/0/x/YES").json["paid"] is True


def test_path_values_match_params_in_order(spine_app: SpineAppFactory) -> None:
    """Path parameters are matched to the route's ``:params`` by position, not by name."""
    c = client(spine_app, "GET", "/p/:x/:y", Handlers.reversed_names)
    assert c.simulate_get("/p/one/two").text == "one,two"


@pytest.mark.parametrize("url, name", [("/o/abc/bob/true", "order_id"), ("/o/1/bob/maybe", "paid")])
def test_unparsable_path_value_is_a_400(spine_app: SpineAppFactory, url: str, name: str) -> None:
    """A path value that does not parse is a 400 with a JSON message naming the parameter, not a 500."""
    c = client(spine_app, "GET", "/o/:order_id/:name/:paid", Handlers.typed)
    result = c.simulate_get(url)
    assert result.status_code == 400
    assert name in result.json["message"]


def test_more_path_parameters_than_segments_is_a_boot_error(spine_app: SpineAppFactory) -> None:
    """A handler asking for more path values than the route has is refused at boot."""
    with pytest.raises(BootError, match="no more :params"):
        client(spine_app, "GET", "/o/:a", Handlers.too_many)


def test_query_gives_last_value_and_all_values(spine_app: SpineAppFactory) -> None:
    """Query maps a name to its last value; ``get_all`` lists every value."""
    c = client(spine_app, "GET", "/q", Handlers.query)
    result = c.simulate_get("/q", query_string="page=2&tag=a&tag=b")
    assert result.json == {"page": "2", "tags": ["a", "b"], "missing": []}


def test_headers_are_case_insensitive(spine_app: SpineAppFactory) -> None:
    """RequestHeaders finds a header whatever the case used to ask."""
    c = client(spine_app, "GET", "/h", Handlers.headers)
    result = c.simulate_get("/h", headers={"X-Tenant": "acme"})
    assert result.json == {"lower": "acme", "upper": "acme", "absent": None}


def test_json_body_is_decoded_into_the_attrs_class(spine_app: SpineAppFactory) -> None:
    """A JSON body becomes the annotated attrs instance, datetimes parsed from ISO-8601."""
    c = client(spine_app, "POST", "/items", Handlers.body)
    result = c.simulate_post("/items", json={"sku": "A-1", "quantity": 2, "due": "2024-05-01T12:30:00+00:00"})
    assert result.status_code == 200
    assert result.json == {"sku": "A-1", "quantity": 2, "due": "2024-05-01T12:30:00+00:00"}


@pytest.mark.parametrize(
    "body, expected",
    [
        ("{not json", "not valid JSON"),
        ('{"sku": "A-1"}', "quantity"),
        ('{"sku": "A-1", "quantity": "many"}', "quantity"),
        ("[1, 2]", "NewItem"),
    ],
)
def test_bad_body_is_a_400_saying_why(spine_app: SpineAppFactory, body: str, expected: str) -> None:
    """Invalid JSON or a body that does not fit the class is a 400 with a message saying why."""
    c = client(spine_app, "POST", "/items", Handlers.body)
    result = c.simulate_post("/items", body=body, headers={"Content-Type": "application/json"})
    assert result.status_code == 400
    assert expected in result.json["message"]


def test_missing_body_is_a_400(spine_app: SpineAppFactory) -> None:
    """A request without a body for a handler that needs one is a 400, not a 500."""
    c = client(spine_app, "POST", "/items", Handlers.body)
    result = c.simulate_post("/items")
    assert result.status_code == 400
    assert result.json == {"message": "a JSON request body (NewItem) is required"}


def test_unsupported_annotation_is_a_boot_error(spine_app: SpineAppFactory) -> None:
    """A parameter type no resolver knows is refused at boot, naming the parameter."""
    with pytest.raises(BootError, match="cannot resolve parameter 'value'"):
        client(spine_app, "GET", "/u", Handlers.unsupported)
