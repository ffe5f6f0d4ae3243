"""The media types a route's body is accepted in: a body of another type is answered 415 naming them.

JSON routes take ``application/json`` and ``application/*+json``; form and upload routes take
``application/x-www-form-urlencoded`` and ``multipart/form-data``. A body sent with no Content-Type
is refused the same way (it is not guessed to be JSON).
"""

from __future__ import annotations

import falcon

from ..errors import UnsupportedMediaType

JSON_TYPES = (falcon.MEDIA_JSON, "application/*+json")
FORM_TYPES = (falcon.MEDIA_URLENCODED, falcon.MEDIA_MULTIPART)


def media_type(req: falcon.Request) -> str:
    """The request's media type, lower case, without parameters ("" when it has none)."""
    return (req.content_type or "").partition(";")[0].strip().lower()


def is_json(media: str) -> bool:
    """``application/json`` or a structured ``application/...+json`` type."""
    return media == falcon.MEDIA_JSON or (media.startswith("application/") and media.endswith("+json"))


def require_json(req: falcon.Request) -> None:
    """415 unless the request's body is declared JSON."""
    if not is_json(media_type(req)):
        raise _unsupported(req, JSON_TYPES)


def require_form(req: falcon.Request) -> None:
    """415 unless the request's body is declared a form."""
    if media_type(req) not in FORM_TYPES:
        raise _unsupported(req, FORM_TYPES)


def _unsupported(req: falcon.Request, accepted: tuple[str, ...]) -> UnsupportedMediaType:
    sent = req.content_type or "no Content-Type"
    return UnsupportedMediaType(f"request body of type {sent} is not accepted here; send {' or '.join(accepted)}")
