"""Exceptions: HTTP errors rendered as ``{"message": ...}``, boot and broker failures."""

from __future__ import annotations

from typing import ClassVar


class SpineError(Exception):
    """Base class of every error Spine raises."""


class BootError(SpineError):
    """The application cannot start: a wiring, routing or configuration mistake."""


class PublishError(SpineError):
    """Events could not be confirmed by the broker; answered 503 over HTTP."""


class HTTPError(SpineError):
    """An error answered with its status and a JSON body ``{"message": ...}``."""

    status: ClassVar[int] = 500
    default_message: ClassVar[str] = "Internal server error"

    def __init__(self, message: str | None = None, *, headers: dict[str, str] | None = None) -> None:
        self.message = message or self.default_message
        self.headers = headers or {}
        super().__init__(self.message)


class BadRequest(HTTPError):
    status = 400
    default_message = "Bad request"


class Unauthorized(HTTPError):
    status = 401
    default_message = "Unauthorized"


class Forbidden(HTTPError):
    status = 403
    default_message = "Forbidden"


class NotFound(HTTPError):
    status = 404
    default_message = "Not found"


class MethodNotAllowed(HTTPError):
    status = 405
    default_message = "Method not allowed"


class Conflict(HTTPError):
    status = 409
    default_message = "Conflict"


class PayloadTooLarge(HTTPError):
    status = 413
    default_message = "Payload too large"


class UnsupportedMediaType(HTTPError):
    status = 415
    default_message = "Unsupported media type"


class UnprocessableEntity(HTTPError):
    status = 422
    default_message = "Unprocessable entity"


class TooManyRequests(HTTPError):
    status = 429
    default_message = "Too many requests"


class ServiceUnavailable(HTTPError):
    status = 503
    default_message = "Service unavailable"
