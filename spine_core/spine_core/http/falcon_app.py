"""Builds the ``falcon.App``: one resource per route template; errors answered in one place."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Sequence
from typing import Any

import falcon

from ..container import Container
from ..context import CORRELATION_HEADER, Context, RequestContext
from ..errors import BootError, HTTPError, PayloadTooLarge, PublishError
from ..interceptor import Interceptor
from ..ops.instrument import RequestProbe
from ..options import HTTPOptions
from ..pipeline.invoke import invoke
from ..pipeline.plan import NO_EXTRAS, Extras, Plan, make_plan
from .cors import Cors
from .formdata import close_form
from .media import FORM_TYPES
from .resolvers import http_resolvers
from .responses import render
from .routes import Route, falcon_template

log = logging.getLogger("spine.http")

Responder = Callable[..., None]


def _responder(
    plan: Plan[RequestContext], method: str, template: str, dispatch: Callable[[Context], None]
) -> Responder:
    probe = RequestProbe(method, template)

    def respond(req: falcon.Request, resp: falcon.Response, **params: str) -> None:
        # PERF: ctx refers to req, so nothing reachable from req refers to ctx: a request would be a
        # reference cycle, freed only by the garbage collector (a collection every ~60 requests).
        with probe.handling(req, params) as ctx:
            resp.set_header(CORRELATION_HEADER, ctx.correlation_id)
            try:
                render(invoke(plan, ctx, dispatch), resp)
            finally:
                close_form(ctx)

    return respond


class BodyLimit:
    """Falcon middleware: 413 for a body over ``max_body_size`` (``max_upload_size`` for a form),
    on every request routed to a resource, before anything reads it (after routing, so that the
    metrics middleware counts the answer)."""

    def __init__(self, limits: HTTPOptions) -> None:
        self._limits = limits

    def process_resource(self, req: falcon.Request, resp: falcon.Response, resource: object, params: object) -> None:
        length = req.content_length
        if length:
            media_type = (req.content_type or "").partition(";")[0].strip().lower()
            limit = self._limits.max_upload_size if media_type in FORM_TYPES else self._limits.max_body_size
            if length > limit:
                raise PayloadTooLarge(f"request body of {length} bytes exceeds the limit of {limit} bytes")


def _json_error(resp: falcon.Response, status: int, message: str, headers: dict[str, str] | None = None) -> None:
    resp.status = status
    resp.media = {"message": message}
    for name, value in (headers or {}).items():
        resp.set_header(name, value)


def _on_spine_error(req: falcon.Request, resp: falcon.Response, ex: HTTPError, params: Any) -> None:
    _json_error(resp, ex.status, ex.message, ex.headers)


def _on_falcon_error(req: falcon.Request, resp: falcon.Response, ex: falcon.HTTPError, params: Any) -> None:
    message = ex.description or ex.title or "Error"
    _json_error(resp, ex.status_code, message, dict(ex.headers or {}))


def _on_publish_error(req: falcon.Request, resp: falcon.Response, ex: PublishError, params: Any) -> None:
    _json_error(resp, 503, f"event not published: {ex}")


def _on_unexpected(req: falcon.Request, resp: falcon.Response, ex: Exception, params: Any) -> None:
    log.error("unhandled error in %s %s", req.method, req.path, exc_info=ex)
    _json_error(resp, 500, "Internal server error")


def _defaults(handler: Callable[..., Any]) -> dict[str, Any]:
    """The handler's parameter defaults by name."""
    try:
        parameters = inspect.signature(handler).parameters.values()
    except (TypeError, ValueError):  # no signature: make_plan reports what it cannot resolve
        return {}
    return {p.name: p.default for p in parameters if p.default is not inspect.Parameter.empty}


def build_falcon_app(
    routes: Sequence[Route],
    prefix: str,
    container: Container,
    interceptors: Sequence[Interceptor],
    dispatch: Callable[[Context], None],
    options: HTTPOptions | None = None,
    extras: Extras = NO_EXTRAS,
) -> falcon.App[falcon.Request, falcon.Response]:
    """Plan every route and mount it; conflicting routes are a BootError.

    A global ``Cors`` interceptor is installed as Falcon middleware, so that it
    answers preflight requests; ``options`` bound bodies, uploads and page sizes; ``extras`` are
    the extensions' resolvers and stages."""
    middleware: list[Any] = [BodyLimit(options or HTTPOptions()), *(i for i in interceptors if isinstance(i, Cors))]
    app = falcon.App(middleware=middleware)
    app.add_error_handler(Exception, _on_unexpected)
    app.add_error_handler(falcon.HTTPError, _on_falcon_error)
    app.add_error_handler(HTTPError, _on_spine_error)
    app.add_error_handler(PublishError, _on_publish_error)
    resources: dict[str, Any] = {}
    for route in routes:
        template = route.template(prefix)
        resource = resources.setdefault(template, type("RouteResource", (), {})())
        attribute = f"on_{route.method.lower()}"
        if hasattr(resource, attribute):
            raise BootError(f"route {route.method} {template} is registered twice")
        own = [container.instance(i) for i in route.interceptors]
        if any(isinstance(i, Cors) for i in own):
            raise BootError(f"route {route.method} {template}: register Cors for every route with app.interceptor")
        resolvers = http_resolvers(route.param_names(), options, _defaults(route.handler))
        plan = make_plan(route.handler, container, resolvers, [*interceptors, *own], extras)
        setattr(resource, attribute, _responder(plan, route.method, template, dispatch))
    for template, resource in resources.items():
        try:
            app.add_route(falcon_template(template), resource)
        except ValueError as e:
            raise BootError(f"route {template} is ambiguous with another route: {e}") from None
    return app
