"""``Spine``: the application object — what it is made of (:class:`~.blueprint.Blueprint`), and running it."""

from __future__ import annotations

import logging

import falcon

from .blueprint import Blueprint
from .errors import BootError
from .ops.logs import configure_logging
from .options import Options
from .runtime import Runtime
from .serve import Service
from .workers import serve

log = logging.getLogger("spine")


class Spine(Blueprint):
    """An application: register what it is made of, then ``run`` it.

    >>> app = Spine()
    >>> app.constructor(OrderController)
    >>> app.route("POST", "/orders/:order_id", OrderController.create)
    >>> app.run(Options(address=":8080"))
    """

    def runtime(self, options: Options | None = None, *, broker: object | None = None) -> Runtime:
        """Wire the app for ``options`` (``SPINE_*`` env applied); ``broker`` overrides the
        plugin chosen by name with a plugin object of your own."""
        return Runtime(self, (options or Options()).with_env(), broker)

    def wsgi(
        self, options: Options | None = None, *, broker: object | None = None
    ) -> falcon.App[falcon.Request, falcon.Response]:
        """The WSGI callable, for tests or another WSGI server (the broker is started)."""
        runtime = self.runtime(options, broker=broker)
        runtime.start()
        if runtime.wsgi is None:
            raise BootError("options.http is None: this app serves no HTTP")
        return runtime.wsgi

    def start(self, options: Options | None = None, *, broker: object | None = None) -> Service:
        """Start serving in background threads and return the running Service."""
        return Service(self.runtime(options, broker=broker)).start()

    def run(self, options: Options | None = None) -> None:
        """Serve until SIGINT or SIGTERM, then shut down gracefully."""
        configure_logging()
        try:
            serve(self, (options or Options()).with_env())
        except (BootError, OSError) as e:  # wiring mistakes, a busy port: one clear line, no traceback
            log.error("cannot start: %s", e)
            raise SystemExit(2) from None
