"""Handler results rendered: text, JSON, bytes, no content, and the Response wrapper."""

from __future__ import annotations

from datetime import datetime, timezone

from attrs import frozen

from spine_core import Response, Spine
from spine_memory.pytest_plugin import SpineAppFactory

from .support import options


@frozen
class Order:
    order_id: int
    at: datetime


def text() -> str:
    return "OK"


def mapping() -> dict[str, object]:
    return {"a": 1, "b": [True, None]}


def sequence() -> list[int]:
    return [1, 2, 3]


def attrs_instance() -> Order:
    return Order(7, datetime(2024, 5, 1, 12, 30, tzinfo=timezone.utc))


def raw() -> bytes:
    return b"\x00\x01binary"


def nothing() -> None:
    return None


def created() -> Response:
    return Response(Order(1, datetime(2024, 1, 1, tzinfo=timezone.utc)), status=201, headers={"Location": "/orders/1"})


def accepted_text() -> Response:
    return Response("queued", status=202)


def empty_with_status() -> Response:
    return Response(status=202, headers={"Retry-After": "5"})


def client(spine_app, handler: object):  # type: ignore[no-untyped-def]
    app = Spine()
    app.route("GET", "/r", handler)  # type: ignore[arg-type]
    return spine_app(app, options()).client


def test_str_is_plain_text(spine_app: SpineAppFactory) -> None:
    """A ``str`` result is a 200 text/plain body, as the seed's ``"OK"``."""
    result = client(spine_app, text).simulate_get("/r")
    assert (result.status_code, result.text) == (200, "OK")
    assert result.headers["Content-Type"].startswith("text/plain")


def test_dict_and_list_are_json(spine_app: SpineAppFactory) -> None:
    """Dicts and lists are JSON bodies."""
    for handler, expected in ((mapping, {"a": 1, "b": [True, None]}), (sequence, [1, 2, 3])):
        result = client(spine_app, handler).simulate_get("/r")
        assert result.status_code == 200
        assert result.headers["Content-Type"] == "application/json"
        assert result.json == expected


def test_attrs_instance_is_json_with_iso_datetimes(spine_app: SpineAppFactory) -> None:
    """An attrs instance is encoded with cattrs, datetimes as ISO-8601."""
    result = client(spine_app, attrs_instance).simulate_get("/r")
    assert result.json == {"order_id": 7, "at": "2024-05-01T12:30:00Z"}


def test_bytes_are_an_octet_stream(spine_app: SpineAppFactory) -> None:
    """A ``bytes`` result is sent as is."""
    result = client(spine_app, raw).simulate_get("/r")
    assert result.content == b"\x00\x01binary"
    assert result.headers["Content-Type"] == "application/octet-stream"


def test_none_is_no_content(spine_app: SpineAppFactory) -> None:
    """``None`` is a 204 with an empty body."""
    result = client(spine_app, nothing).simulate_get("/r")
    assert (result.status_code, result.content) == (204, b"")


def test_response_sets_status_headers_and_json_body(spine_app: SpineAppFactory) -> None:
    """A Response carries its own status and headers; its body is rendered like any result."""
    result = client(spine_app, created).simulate_get("/r")
    assert result.status_code == 201
    assert result.headers["Location"] == "/orders/1"
    assert result.json == {"order_id": 1, "at": "2024-01-01T00:00:00Z"}


def test_response_with_text_body(spine_app: SpineAppFactory) -> None:
    """A Response with a ``str`` body is text/plain with its status."""
    result = client(spine_app, accepted_text).simulate_get("/r")
    assert (result.status_code, result.text) == (202, "queued")
    assert result.headers["Content-Type"].startswith("text/plain")


def test_response_without_body_keeps_its_status(spine_app: SpineAppFactory) -> None:
    """A Response without a body keeps its status (not 204) and headers."""
    result = client(spine_app, empty_with_status).simulate_get("/r")
    assert (result.status_code, result.content) == (202, b"")
    assert result.headers["Retry-After"] == "5"


def html() -> Response:
    return Response("<p>hi</p>", headers={"Content-Type": "text/html; charset=utf-8"})


def problem() -> Response:
    return Response({"title": "out of stock"}, status=409, headers={"Content-Type": "application/problem+json"})


def test_response_content_type_header_wins(spine_app: SpineAppFactory) -> None:
    """A Content-Type given in a Response's headers is kept, for text and JSON bodies alike."""
    page = client(spine_app, html).simulate_get("/r")
    assert (page.headers["Content-Type"], page.text) == ("text/html; charset=utf-8", "<p>hi</p>")
    error = client(spine_app, problem).simulate_get("/r")
    assert (error.status_code, error.headers["Content-Type"]) == (409, "application/problem+json")
    assert error.json == {"title": "out of stock"}
