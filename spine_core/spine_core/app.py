"""``Spine``: the application object — constructors, routes, interceptors, consumers, run."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import falcon

from .consumers.registry import ConsumerRegistry
from .container import Container
from .errors import BootError
from .http.routes import Route
from .interceptor import Interceptor
from .logs import configure_logging
from .options import Options
from .runtime import Runtime
from .serve import Service
from .workers import serve

log = logging.getLogger("spine")


class Spine:
    """An application: register what it is made of, then ``run`` it.

    >>> app = Spine()
    >>> app.constructor(OrderController)
    >>> app.route("POST", "/orders/:order_id", OrderController.create)
    >>> app.run(Options(address=":8080"))
    """

    def __init__(self) -> None:
        self.container = Container()
        self.routes: list[Route] = []
        self.interceptors: list[Interceptor | type] = []
        self.consumer_registry = ConsumerRegistry()
        self.extensions: list[object] = []

    def constructor(self, *factories: Callable[..., Any]) -> None:
        """Register classes or factory functions; each is built once, its parameters
        injected by type annotation."""
        for factory in factories:
            self.container.register(factory)

    def route(
        self, method: str, path: str, handler: Callable[..., Any], *, interceptors: Sequence[Any] = (),
        publishes: Sequence[Any] = (),
    ) -> None:
        """Route ``method path`` (``:name`` segments) to ``handler``, an unbound method of a
        registered class or a plain function; ``publishes`` declares the event classes it
        publishes (for the AsyncAPI document)."""
        self.routes.append(Route.create(method, path, handler, interceptors, publishes))

    def interceptor(self, *interceptors: Interceptor | type) -> None:
        """Add interceptors (instances, or classes built by the container) run around every route."""
        self.interceptors.extend(interceptors)

    def extend(self, *extensions: object) -> None:
        """Add extension plugins (objects with ``@hookimpl`` methods of the extension hooks,
        e.g. ``spine_postgres.Postgres``), registered next to the broker plugin."""
        self.extensions.extend(extensions)

    def consumers(self) -> ConsumerRegistry:
        """The consumer registry: ``app.consumers().register(topic, handler)``."""
        return self.consumer_registry

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
        assert runtime.wsgi is not None, "options.http is None: this app serves no HTTP"
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
