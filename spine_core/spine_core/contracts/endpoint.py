"""``GET /asyncapi.json`` (opt-in, ``OpsOptions.asyncapi_path``): the running app's AsyncAPI document."""

from __future__ import annotations

import os
import sys
from collections.abc import Set

import falcon

from ..blueprint import Blueprint
from ..errors import BootError
from ..options import Options
from .asyncapi import document


class AsyncAPIResource:
    """Answers the document as built now: declared event classes plus those published so far."""

    def __init__(self, app: Blueprint, options: Options, seen: Set[type]) -> None:
        self._app = app
        self._options = options
        self._seen = seen
        self._title = _title()

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = document(self._app, self._options, self._title, sorted(self._seen, key=str))


def serve_asyncapi(
    wsgi: falcon.App[falcon.Request, falcon.Response], path: str, app: Blueprint, options: Options, seen: Set[type]
) -> None:
    """Mount the document at ``path``; a BootError if a route takes it or an event class has
    no payload schema (found now rather than at the first request)."""
    resource = AsyncAPIResource(app, options, seen)
    try:
        document(app, options, "boot check")
    except Exception as e:
        raise BootError(f"asyncapi endpoint {path}: {e}") from None
    try:
        wsgi.add_route(path, resource)
    except ValueError as e:
        raise BootError(f"asyncapi endpoint {path} conflicts with a route: {e}") from None


def _title() -> str:
    """The app's module as ``python -m`` ran it (``apps.order_app``), else the script's name."""
    main = sys.modules.get("__main__")
    name = getattr(getattr(main, "__spec__", None), "name", "") or ""
    if not name and getattr(main, "__file__", None):
        name = os.path.splitext(os.path.basename(str(getattr(main, "__file__"))))[0]
    return name.removesuffix(".__main__") or "spine app"
