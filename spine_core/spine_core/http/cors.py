"""``Cors``: the CORS interceptor, answering preflight ``OPTIONS`` requests for every route."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import falcon

from ..errors import Forbidden
from ..interceptor import Interceptor

DEFAULT_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def _is_preflight(req: falcon.Request) -> bool:
    return (
        req.method == "OPTIONS"
        and req.get_header("Origin") is not None
        and req.get_header("Access-Control-Request-Method") is not None
    )


def _names(value: str | Iterable[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


class Cors(Interceptor):
    """Cross-origin resource sharing for every route: ``app.interceptor(Cors(allow_origins=[...]))``.

    Args:
        allow_origins: origins allowed to call (``"https://app.example"``), or ``"*"`` for any.
        allow_methods: methods a preflight may ask for.
        allow_headers: request headers a preflight may ask for, or ``"*"`` for any.
        allow_credentials: let browsers send cookies and ``Authorization``.
        expose_headers: response headers scripts may read beyond the safelisted ones.
        max_age: seconds a browser may cache a preflight answer.

    A preflight (``OPTIONS`` with ``Access-Control-Request-Method``) on a route is
    answered 204 before any handler or other interceptor runs; a disallowed
    origin, method or header is answered 403 ``{"message": ...}``. Other
    responses to an allowed origin, errors included, get
    ``Access-Control-Allow-Origin`` from Falcon's ``CORSMiddleware``; a
    disallowed origin gets no CORS header, so the browser keeps the answer from
    the page. It works as Falcon middleware, so it must be registered with
    ``app.interceptor``, not per route.
    """

    def __init__(
        self,
        allow_origins: str | Iterable[str] = "*",
        *,
        allow_methods: Iterable[str] = DEFAULT_METHODS,
        allow_headers: str | Iterable[str] = "*",
        allow_credentials: bool = False,
        expose_headers: Iterable[str] = (),
        max_age: int = 600,
    ) -> None:
        self.allow_origins = "*" if allow_origins == "*" else frozenset(_names(allow_origins))
        self.allow_methods = tuple(m.upper() for m in allow_methods)
        self.allow_headers = "*" if allow_headers == "*" else _names(allow_headers)
        self.allow_credentials = allow_credentials
        self.max_age = max_age
        self._falcon: falcon.CORSMiddleware[Any, Any] = falcon.CORSMiddleware(
            allow_origins=self.allow_origins,
            expose_headers=list(expose_headers) or None,
            allow_credentials="*" if allow_credentials else None,
        )

    def _allows(self, origin: str) -> bool:
        return self.allow_origins == "*" or origin in self.allow_origins

    def process_resource(self, req: falcon.Request, resp: falcon.Response, resource: Any, params: Any) -> None:
        """Falcon middleware: answer a preflight on a routed path."""
        if not _is_preflight(req):
            return
        origin = req.get_header("Origin", default="")
        if not self._allows(origin):
            raise Forbidden(f"CORS: origin {origin!r} is not allowed")
        method = req.get_header("Access-Control-Request-Method", default="").upper()
        if method not in self.allow_methods:
            raise Forbidden(f"CORS: method {method} is not allowed")
        requested = req.get_header("Access-Control-Request-Headers", default="")
        asked = [h.strip() for h in requested.split(",") if h.strip()]
        if self.allow_headers != "*":
            allowed = {h.lower() for h in self.allow_headers}
            refused = [h for h in asked if h.lower() not in allowed]
            if refused:
                raise Forbidden(f"CORS: header(s) {', '.join(refused)} not allowed")
        wildcard = self.allow_origins == "*" and not self.allow_credentials
        resp.set_header("Access-Control-Allow-Origin", "*" if wildcard else origin)
        if self.allow_credentials:
            resp.set_header("Access-Control-Allow-Credentials", "true")
        resp.set_header("Access-Control-Allow-Methods", ", ".join(self.allow_methods))
        headers = asked if self.allow_headers == "*" else self.allow_headers
        if headers:
            resp.set_header("Access-Control-Allow-Headers", ", ".join(headers))
        resp.set_header("Access-Control-Max-Age", str(self.max_age))
        resp.status = 204
        resp.complete = True

    def process_response(self, req: falcon.Request, resp: falcon.Response, resource: Any, req_succeeded: bool) -> None:
        """Falcon middleware: ``Vary: Origin`` and, for every answer but a preflight, Falcon's CORS headers."""
        if self.allow_origins != "*" or self.allow_credentials:
            resp.append_header("Vary", "Origin")
        if not (req_succeeded and _is_preflight(req)):
            self._falcon.process_response(req, resp, resource, req_succeeded)
