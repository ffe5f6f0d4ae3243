"""Return values: Redirect, Binary (bytes or a stream), and cookies on every kind of result."""

from __future__ import annotations

import io
from datetime import datetime, timezone

import pytest
from falcon.testing import TestClient

from apps.http_example import create_app, options
from spine_core import Binary, Cookie, Redirect, Response, Spine
from spine_memory.pytest_plugin import SpineAppFactory


@pytest.fixture
def client(spine_app: SpineAppFactory) -> TestClient:
    return spine_app(create_app(), options()).client


def test_redirect_with_status_and_cookie(client: TestClient) -> None:
    result = client.simulate_get("/catalogue")
    assert result.status_code == 301
    assert result.headers["Location"] == "/items"
    deleted = result.cookies["layout"]
    assert deleted.value == ""
    assert deleted.expires is not None and deleted.expires <= datetime.now(timezone.utc)  # the browser drops it at once


def test_binary_stream_download(client: TestClient) -> None:
    result = client.simulate_get("/report.csv")
    assert result.status_code == 200
    assert result.headers["Content-Type"] == "text/csv"
    assert result.headers["Content-Disposition"] == 'attachment; filename="report.csv"'
    assert result.headers["Cache-Control"] == "no-store"
    lines = result.text.splitlines()
    assert lines[0] == "id,name"
    assert lines[-1] == "95,item 95"


def test_response_sets_every_cookie_attribute(client: TestClient) -> None:
    result = client.simulate_post(
        "/signup", body="email=a%40b.c&age=1", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    cookie = result.cookies["member"]
    assert (cookie.value, cookie.path, cookie.max_age) == ("a%40b.c", "/", 3600)  # quoted: a cookie value is ASCII
    assert cookie.secure and cookie.http_only
    assert cookie.same_site == "Lax"


def redirect_default() -> Redirect:
    return Redirect("https://example.org/next", headers={"X-Reason": "moved"})


def binary_bytes() -> Binary:
    return Binary(b"\x00\x01\x02", filename="données.bin", status=201,
                  cookies=[Cookie("seen", "1", domain="example.org", secure=False, http_only=False,
                                  same_site="Strict")])


stream = io.BytesIO(b"streamed")


def binary_stream() -> Binary:
    return Binary(stream, "application/pdf")


def plain_response() -> Response:
    return Response("hello", cookies=[Cookie("a", "1"), Cookie("b", "2", path="/x")])


@pytest.fixture
def small(spine_app: SpineAppFactory) -> TestClient:
    app = Spine()
    app.route("GET", "/redirect", redirect_default)
    app.route("GET", "/bytes", binary_bytes)
    app.route("GET", "/stream", binary_stream)
    app.route("GET", "/response", plain_response)
    return spine_app(app).client


def test_redirect_defaults_to_302_and_keeps_headers(small: TestClient) -> None:
    result = small.simulate_get("/redirect")
    assert result.status_code == 302
    assert result.headers["Location"] == "https://example.org/next"
    assert result.headers["X-Reason"] == "moved"


def test_binary_bytes_with_status_cookie_and_a_non_ascii_filename(small: TestClient) -> None:
    result = small.simulate_get("/bytes")
    assert result.status_code == 201
    assert result.content == b"\x00\x01\x02"
    assert result.headers["Content-Type"] == "application/octet-stream"
    assert "filename*=UTF-8''donn%C3%A9es.bin" in result.headers["Content-Disposition"]
    cookie = result.cookies["seen"]
    assert (cookie.domain, cookie.secure, cookie.http_only, cookie.same_site) == ("example.org", False, False, "Strict")


def test_binary_stream_is_sent_and_closed(small: TestClient) -> None:
    result = small.simulate_get("/stream")
    assert result.content == b"streamed"
    assert result.headers["Content-Type"] == "application/pdf"
    assert "Content-Disposition" not in result.headers
    assert stream.closed


def test_response_sets_several_cookies(small: TestClient) -> None:
    result = small.simulate_get("/response")
    assert result.text == "hello"
    assert {c.name: (c.value, c.path) for c in result.cookies.values()} == {"a": ("1", None), "b": ("2", "/x")}


def test_a_redirect_status_must_be_3xx() -> None:
    with pytest.raises(ValueError, match="3xx"):
        Redirect("/x", status=200)
