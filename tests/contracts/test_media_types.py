"""The contract enforced: a body of a media type its route does not take is a 415 naming those it does;
integers are 64-bit wherever they come from."""

from __future__ import annotations

import pytest
from falcon.testing import TestClient

from spine_memory.pytest_plugin import SpineAppFactory
from . import kinds_app

JSON_ONLY = "send application/json or application/*+json"


@pytest.fixture
def client(spine_app: SpineAppFactory) -> TestClient:
    started = spine_app(kinds_app.create_app(), kinds_app.options()).client
    assert started is not None
    return started


ORDER = b'{"customer": "ann", "lines": [{"sku": "tea", "qty": 2}]}'


@pytest.mark.parametrize("headers", [{"Content-Type": "text/plain"}, {}, {"Content-Type": "application/xml"}])
def test_a_json_body_of_another_or_no_media_type_is_a_415(client: TestClient, headers: dict[str, str]) -> None:
    """JSON sent as text/plain, as XML or with no Content-Type is not guessed to be JSON: 415."""
    result = client.simulate_post("/api/kinds/orders", body=ORDER, headers=headers)
    assert result.status_code == 415
    assert result.json["message"].endswith(JSON_ONLY)


@pytest.mark.parametrize("media", ["application/json", "application/json; charset=utf-8", "application/vnd.x+json"])
def test_json_and_structured_json_types_are_taken(client: TestClient, media: str) -> None:
    """``application/json`` (with parameters) and ``application/*+json`` are JSON."""
    result = client.simulate_post("/api/kinds/orders", body=ORDER, headers={"Content-Type": media})
    assert result.status_code == 200, result.text
    assert result.json["customer"] == "ann"


def test_a_form_route_refuses_json_naming_the_form_types(client: TestClient) -> None:
    """A form route's 415 names its two form types."""
    result = client.simulate_post("/api/kinds/contact", body=ORDER, headers={"Content-Type": "application/json"})
    assert result.status_code == 415
    assert result.json["message"].endswith("send application/x-www-form-urlencoded or multipart/form-data")


@pytest.mark.parametrize("url, field", [
    ("/api/kinds/stamp/99999999999999999999999", "path parameter 'value'"),
    ("/api/kinds/stamp/-9223372036854775809", "path parameter 'value'"),
    ("/api/kinds/search?q=a&n=9223372036854775808", "query parameter 'n'"),
])
def test_an_integer_beyond_64_bits_in_a_path_or_query_is_a_400_naming_it(
    client: TestClient, url: str, field: str
) -> None:
    """The bad input of the issue: a path integer of 23 digits is refused, not published."""
    result = client.simulate_get(url)
    assert result.status_code == 400
    assert result.json["message"].startswith(f"{field}: expected a 64-bit integer")


def test_an_integer_header_beyond_64_bits_is_a_400_naming_the_header(client: TestClient) -> None:
    """Typed headers are parsed like query values."""
    result = client.simulate_get("/api/kinds/search?q=a", headers={"X-Version": "9" * 30})
    assert result.status_code == 400
    assert result.json["message"].startswith("header parameter 'X-Version': expected a 64-bit integer")


def test_in_a_body_a_whole_number_is_an_integer_and_64_bits_are_the_bound(client: TestClient) -> None:
    """``-18.0`` is the integer -18; 2**63 is a 400 naming the field; a BigInt field takes it."""
    sent = b'{"customer": "a", "lines": [{"sku": "t", "qty": -18.0}], "counter": 99999999999999999999999}'
    taken = client.simulate_post("/api/kinds/orders", body=sent, headers={"Content-Type": "application/json"})
    assert taken.status_code == 200, taken.text
    assert taken.json["lines"][0]["qty"] == -18 and taken.json["counter"] == 99999999999999999999999
    too_big = b'{"customer": "a", "lines": [{"sku": "t", "qty": 9223372036854775808}]}'
    refused = client.simulate_post("/api/kinds/orders", body=too_big, headers={"Content-Type": "application/json"})
    assert refused.status_code == 400
    assert "field 'lines[0].qty': expected a 64-bit integer" in refused.json["message"]
