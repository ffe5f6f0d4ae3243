"""Form DTOs: ``@form`` attrs classes filled from urlencoded and multipart bodies."""

from __future__ import annotations

import pytest
from attrs import define, frozen
from falcon.testing import TestClient

from apps.http_example import create_app, options
from spine_core import BootError, Spine, form
from spine_memory.pytest_plugin import SpineAppFactory

from .support import FORM, MULTIPART, multipart, urlencoded


@pytest.fixture
def client(spine_app: SpineAppFactory) -> TestClient:
    return spine_app(create_app(), options()).client


def test_urlencoded_form_fills_the_dto(client: TestClient) -> None:
    """Fields are converted by type; a repeated field fills a list; ``on`` is true."""
    body = urlencoded([("email", "ann@example.com"), ("age", "41"), ("newsletter", "on"),
                       ("interests", "tea"), ("interests", "maps")])
    result = client.simulate_post("/signup", body=body, headers=FORM)
    assert result.status_code == 201
    assert result.json == {"email": "ann@example.com", "age": 41, "newsletter": True, "interests": ["tea", "maps"]}


def test_multipart_form_fills_the_dto(client: TestClient) -> None:
    """The same DTO is filled from multipart/form-data; absent fields keep their defaults."""
    body = multipart([("email", "bo@example.com"), ("age", "7")])
    result = client.simulate_post("/signup", body=body, headers=MULTIPART)
    assert result.status_code == 201
    assert result.json == {"email": "bo@example.com", "age": 7, "newsletter": False, "interests": []}


def test_a_field_that_does_not_convert_is_a_400_naming_it(client: TestClient) -> None:
    """``age=old`` is answered 400 with a message that names ``age``."""
    result = client.simulate_post("/signup", body=urlencoded([("email", "a@b.c"), ("age", "old")]), headers=FORM)
    assert result.status_code == 400
    assert "'age'" in result.json["message"]
    assert "int" in result.json["message"]


def test_a_missing_required_field_is_a_400_naming_it(client: TestClient) -> None:
    """An empty value counts as absent for a non-text field, so a required ``age=`` is missing."""
    result = client.simulate_post("/signup", body=urlencoded([("email", "a@b.c"), ("age", "")]), headers=FORM)
    assert result.status_code == 400
    assert result.json["message"] == "form does not fit Signup: field 'age': required field missing"


def test_a_bad_boolean_is_a_400(client: TestClient) -> None:
    """Booleans accept true/false, on/off, 1/0, yes/no only."""
    body = urlencoded([("email", "a@b.c"), ("age", "3"), ("newsletter", "maybe")])
    result = client.simulate_post("/signup", body=body, headers=FORM)
    assert result.status_code == 400
    assert "'newsletter'" in result.json["message"]


def test_a_body_that_is_not_a_form_is_a_415_naming_the_form_types(client: TestClient) -> None:
    """A JSON body sent to a form route is a 415 that names the two form types it accepts."""
    result = client.simulate_post("/signup", json={"email": "a@b.c", "age": 3})
    assert result.status_code == 415
    assert result.json["message"] == ("request body of type application/json is not accepted here; "
                                      "send application/x-www-form-urlencoded or multipart/form-data")


@form
@define
class Note:
    title: str
    body: str = "unset"


def note_body(note: Note) -> str:
    return note.body


@frozen
class Payload:
    n: int


def double(payload: Payload) -> int:
    return payload.n * 2


@form
@define
class Broken:
    thing: Missing  # type: ignore[name-defined]  # noqa: F821


def broken(form: Broken) -> str:
    return "unreachable"


def test_an_empty_text_value_is_kept_for_a_str_field(spine_app: SpineAppFactory) -> None:
    """``str`` fields keep an empty value: the client did send the field."""
    app = Spine()
    app.route("POST", "/notes", note_body)
    client = spine_app(app).client
    result = client.simulate_post("/notes", body=urlencoded([("title", "t"), ("body", "")]), headers=FORM)
    assert result.status_code == 200
    assert result.text == ""


def test_form_needs_an_attrs_class() -> None:
    """``@form`` on a plain class is a TypeError saying where to put it."""

    with pytest.raises(TypeError, match="above @define"):
        @form
        class Plain:
            pass


def test_an_unmarked_attrs_class_is_still_the_json_body(spine_app: SpineAppFactory) -> None:
    """Without ``@form``, an attrs parameter is the JSON body, as before."""
    app = Spine()
    app.route("POST", "/double", double)
    assert spine_app(app).client.simulate_post("/double", json={"n": 21}).json == 42


def test_a_form_field_type_that_cannot_be_resolved_is_a_boot_error(spine_app: SpineAppFactory) -> None:
    """A field annotation naming an unknown class fails at boot, not per request."""
    app = Spine()
    app.route("POST", "/broken", broken)
    with pytest.raises(BootError, match="cannot resolve a field type"):
        spine_app(app)
