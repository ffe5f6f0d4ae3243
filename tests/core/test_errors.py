"""Errors become responses: HTTP errors with their status, anything else a logged 500."""

from __future__ import annotations

import logging

import pytest

import spine_core
from spine_core import HTTPError, Spine, Unauthorized
from spine_memory.pytest_plugin import SpineAppFactory

from .support import options

HTTP_ERRORS = [
    (spine_core.BadRequest, 400),
    (spine_core.Unauthorized, 401),
    (spine_core.Forbidden, 403),
    (spine_core.NotFound, 404),
    (spine_core.MethodNotAllowed, 405),
    (spine_core.Conflict, 409),
    (spine_core.PayloadTooLarge, 413),
    (spine_core.UnprocessableEntity, 422),
    (spine_core.TooManyRequests, 429),
    (spine_core.ServiceUnavailable, 503),
]


class Failing:
    error: Exception = RuntimeError("db password is hunter2")

    def handle(self) -> str:
        raise self.error


def client(spine_app, error: Exception):  # type: ignore[no-untyped-def]
    Failing.error = error
    app = Spine()
    app.constructor(Failing)
    app.route("GET", "/fail", Failing.handle)
    return spine_app(app, options()).client


@pytest.mark.parametrize("cls, status", HTTP_ERRORS, ids=[c.__name__ for c, _ in HTTP_ERRORS])
def test_http_error_is_its_status_with_json_message(
    spine_app: SpineAppFactory, cls: type[HTTPError], status: int,
) -> None:
    """Each HTTP error is answered with its status and ``{"message": ...}``."""
    result = client(spine_app, cls("order 12 is gone")).simulate_get("/fail")
    assert result.status_code == status
    assert result.json == {"message": "order 12 is gone"}


@pytest.mark.parametrize("cls, status", HTTP_ERRORS, ids=[c.__name__ for c, _ in HTTP_ERRORS])
def test_http_error_has_a_default_message(spine_app: SpineAppFactory, cls: type[HTTPError], status: int) -> None:
    """An HTTP error raised without a message still answers a readable one."""
    result = client(spine_app, cls()).simulate_get("/fail")
    assert result.status_code == status
    assert result.json == {"message": cls.default_message}
    assert result.json["message"]


def test_http_error_headers_are_sent(spine_app: SpineAppFactory) -> None:
    """Headers given to an HTTP error are set on the response."""
    error = Unauthorized("token expired", headers={"WWW-Authenticate": "Bearer"})
    result = client(spine_app, error).simulate_get("/fail")
    assert result.status_code == 401
    assert result.headers["WWW-Authenticate"] == "Bearer"


def test_custom_http_error_subclass_uses_its_status(spine_app: SpineAppFactory) -> None:
    """A user's subclass of HTTPError is answered with its own status."""

    class Gone(HTTPError):
        status = 410
        default_message = "Gone"

    result = client(spine_app, Gone()).simulate_get("/fail")
    assert (result.status_code, result.json) == (410, {"message": "Gone"})


def test_unexpected_error_is_a_500_without_details(
    spine_app: SpineAppFactory, caplog: pytest.LogCaptureFixture,
) -> None:
    """Any other exception is a generic 500; its traceback is logged, never sent."""
    with caplog.at_level(logging.ERROR):
        result = client(spine_app, RuntimeError("db password is hunter2")).simulate_get("/fail")
    assert result.status_code == 500
    assert result.json == {"message": "Internal server error"}
    assert "hunter2" not in result.text
    logged = [r for r in caplog.records if r.exc_info and "hunter2" in str(r.exc_info[1])]
    assert logged, "the traceback of the unexpected error is logged"
    assert "GET /fail" in logged[0].getMessage()
