"""Handler results rendered onto Falcon's response: text, JSON, bytes, a Response, Redirect or Binary."""

from __future__ import annotations

from typing import Any

import falcon
from attrs import Factory, define

from ..codecs.json import JSON
from .results import Binary, Cookie, Redirect, set_cookies, write_binary, write_redirect


@define
class Response:
    """A result with its own status, headers and cookies; ``body`` is rendered like any result."""

    body: Any = None
    status: int = 200
    headers: dict[str, str] = Factory(dict)
    cookies: list[Cookie] = Factory(list)


def render(result: Any, resp: falcon.Response) -> None:
    """``str`` → text/plain; ``None`` → 204; ``bytes`` → octet-stream; anything else → JSON.
    A response without a body (a redirect) says text/plain, not Falcon's default JSON."""
    if type(result) is str:  # the common case first: a text answer needs none of the checks below
        resp.content_type = falcon.MEDIA_TEXT
        resp.text = result
        return
    _render(result, resp)
    if resp.data is None and resp.text is None and resp.media is None and resp.stream is None:
        if falcon.http_status_to_code(resp.status) not in (204, 304):  # these carry no Content-Type
            resp.content_type = resp.content_type or falcon.MEDIA_TEXT


def _render(result: Any, resp: falcon.Response) -> None:
    if isinstance(result, Redirect):
        return write_redirect(result, resp)
    if isinstance(result, Binary):
        return write_binary(result, resp)
    if isinstance(result, Response):
        resp.status = result.status
        set_cookies(resp, result.cookies)
        if result.body is not None:
            _render(result.body, resp)
        for name, value in result.headers.items():  # after the body: an explicit Content-Type wins
            resp.set_header(name, value)
        return None
    if isinstance(result, str):
        resp.content_type = falcon.MEDIA_TEXT
        resp.text = result
    elif result is None:
        resp.status = 204
    elif isinstance(result, (bytes, bytearray)):
        resp.content_type = "application/octet-stream"
        resp.data = bytes(result)
    else:
        resp.content_type = falcon.MEDIA_JSON
        resp.data = JSON.encode(result)
