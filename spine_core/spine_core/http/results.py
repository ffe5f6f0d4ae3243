"""Return values beyond a body: ``Redirect``, ``Binary``, and the ``Cookie`` any of them may set."""

from __future__ import annotations

from collections.abc import Iterable
from typing import IO, Literal

import falcon
from attrs import Factory, field, frozen

SameSite = Literal["Strict", "Lax", "None"]


@frozen
class Cookie:
    """A ``Set-Cookie``; like Falcon, ``secure`` and ``http_only`` default to True.

    ``max_age`` is in seconds (``0`` deletes the cookie in the browser).
    """

    name: str
    value: str
    path: str | None = None
    domain: str | None = None
    max_age: int | None = None
    secure: bool = True
    http_only: bool = True
    same_site: SameSite | None = None


def _redirect_status(instance: object, attribute: object, status: int) -> None:
    if not 300 <= status < 400:
        raise ValueError(f"a redirect status is 3xx, got {status}")


@frozen
class Redirect:
    """``Redirect("/orders/7")`` → 302 with ``Location: /orders/7``; pass 301, 303, 307 or 308 as ``status``."""

    location: str
    status: int = field(default=302, validator=_redirect_status)
    headers: dict[str, str] = Factory(dict)
    cookies: list[Cookie] = Factory(list)


@frozen
class Binary:
    """Bytes or a readable binary stream, sent as ``content_type``; with ``filename`` the
    client is told to download it (``Content-Disposition: attachment``). A stream is closed
    once it has been sent."""

    content: bytes | IO[bytes]
    content_type: str = "application/octet-stream"
    filename: str | None = None
    status: int = 200
    headers: dict[str, str] = Factory(dict)
    cookies: list[Cookie] = Factory(list)


def set_cookies(resp: falcon.Response, cookies: Iterable[Cookie]) -> None:
    """One ``Set-Cookie`` header per cookie, through Falcon (``unset_cookie`` for ``max_age=0``)."""
    for c in cookies:
        if c.max_age == 0:
            resp.unset_cookie(c.name, domain=c.domain, path=c.path, same_site=c.same_site or "Lax")
            continue
        resp.set_cookie(
            c.name, c.value, max_age=c.max_age, domain=c.domain, path=c.path,
            secure=c.secure, http_only=c.http_only, same_site=c.same_site,
        )


def write_redirect(redirect: Redirect, resp: falcon.Response) -> None:
    resp.status = redirect.status
    resp.set_headers(redirect.headers)
    set_cookies(resp, redirect.cookies)
    resp.location = redirect.location


def write_binary(binary: Binary, resp: falcon.Response) -> None:
    resp.status = binary.status
    resp.set_headers(binary.headers)
    set_cookies(resp, binary.cookies)
    resp.content_type = binary.content_type
    if binary.filename is not None:
        resp.downloadable_as = binary.filename
    if isinstance(binary.content, (bytes, bytearray)):
        resp.data = bytes(binary.content)
    else:
        resp.stream = binary.content
