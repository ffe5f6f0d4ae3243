"""The running app's documents: ``GET /openapi.json`` and the API page at ``/docs`` (by default,
``OpsOptions.openapi``), ``GET /asyncapi.json`` (opt-in, ``OpsOptions.asyncapi_path``)."""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Iterable, Set

import falcon

from ..blueprint import Blueprint
from ..errors import BootError
from ..options import Options
from .docs_page import DocsPage, assets_dir

log = logging.getLogger("spine.contracts")


class AsyncAPIResource:
    """Answers the document as built now: declared event classes plus those published so far."""

    def __init__(self, app: Blueprint, options: Options, seen: Set[type]) -> None:
        self._app = app
        self._options = options
        self._seen = seen
        self._title = _title()

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        from .asyncapi import document

        resp.media = document(self._app, self._options, self._title, sorted(self._seen, key=str))


def serve_asyncapi(
    wsgi: falcon.App[falcon.Request, falcon.Response], path: str, app: Blueprint, options: Options, seen: Set[type]
) -> None:
    """Mount the document at ``path``; a BootError if a route takes it or an event class has
    no payload schema (found now rather than at the first request)."""
    from .asyncapi import document  # only for a service that serves it (the schema code is ~1 MB)

    resource = AsyncAPIResource(app, options, seen)
    try:
        document(app, options, "boot check")
    except Exception as e:
        raise BootError(f"asyncapi endpoint {path}: {e}") from None
    try:
        wsgi.add_route(path, resource)
    except ValueError as e:
        raise BootError(f"asyncapi endpoint {path} conflicts with a route: {e}") from None


class OpenAPIResource:
    """Answers the app's OpenAPI document, made at the first GET: a service never asked for it
    neither builds it nor imports the code that does (~1.5 MB of its memory). A type it cannot
    describe costs the document (404, the cause logged), not the service."""

    def __init__(self, app: Blueprint, options: Options) -> None:
        self._app = app
        self._options = options
        self._doc: dict[str, object] | None = None
        self._error: str | None = None

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        if self._doc is None and self._error is None:
            from . import openapi

            try:
                self._doc = openapi.document(self._app, self._options, _title(), served=True)
            except Exception as e:
                self._error = str(e)
                log.warning("%s is not served: %s (spine openapi names the cause)", self._options.ops.openapi_path, e)
        if self._doc is None:
            raise falcon.HTTPNotFound(description=f"no OpenAPI document: {self._error}")
        resp.media = self._doc


def serve_openapi(
    wsgi: falcon.App[falcon.Request, falcon.Response], app: Blueprint, options: Options, templates: Iterable[str]
) -> list[str]:
    """Mount ``OpsOptions.openapi_path`` and ``docs_path`` unless a route of the app (``templates``,
    Falcon's) would answer there: those stay the app's. Returns the paths mounted."""
    ops = options.ops
    taken = [re.compile(re.sub(r"\\{[^/]*?\\}", "[^/]+", re.escape(t)) + "$") for t in templates]

    def free(path: str) -> bool:
        if any(t.match(path) for t in taken):
            log.warning("%s is not served: a route of the app takes it (change OpsOptions)", path)
            return False
        return True

    mounted = []
    if free(ops.openapi_path):
        wsgi.add_route(ops.openapi_path, OpenAPIResource(app, options))
        mounted.append(ops.openapi_path)
    folder = assets_dir()
    if folder is None:
        log.warning("%s is not served: the swagger-ui-py package is not installed", ops.docs_path)
    elif mounted and free(ops.docs_path) and free(ops.docs_path.rstrip("/") + "/swagger-ui.css"):
        resource = DocsPage(folder, ops.docs_path, ops.openapi_path, app.title or _title())
        wsgi.add_route(ops.docs_path, resource)
        wsgi.add_route(ops.docs_path.rstrip("/") + "/{asset}", resource, suffix="asset")
        mounted.append(ops.docs_path)
    return mounted


def _title() -> str:
    """The app's module as ``python -m`` ran it (``apps.order_app``), else the script's name."""
    main = sys.modules.get("__main__")
    name = getattr(getattr(main, "__spec__", None), "name", "") or ""
    if not name and getattr(main, "__file__", None):
        name = os.path.splitext(os.path.basename(str(getattr(main, "__file__"))))[0]
    return name.removesuffix(".__main__") or "spine app"
