"""What an app is made of, as registered: constructors, routes, interceptors, extensions, consumers."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .codecs.base import Codec
from .codecs.choice import CodecChoice
from .consumers.registry import ConsumerRegistry
from .container import Container
from .http.routes import Route
from .interceptor import Interceptor


class Blueprint:
    """The registrations of an app; :class:`~spine_core.Spine` adds how to run them. ``title`` and
    ``version`` name the API in its OpenAPI document (``title`` defaults to the app's module)."""

    def __init__(self, *, title: str | None = None, version: str = "0.1.0") -> None:
        self.title = title
        self.version = version
        self.container = Container()
        self.routes: list[Route] = []
        self.interceptors: list[Interceptor | type] = []
        self.consumer_registry = ConsumerRegistry()
        self.extensions: list[object] = []
        self.codecs = CodecChoice()

    def constructor(self, *factories: Callable[..., Any]) -> None:
        """Register classes or factory functions; each is built once, its parameters
        injected by type annotation."""
        for factory in factories:
            self.container.register(factory)

    def route(
        self, method: str, path: str, handler: Callable[..., Any], *, interceptors: Sequence[Any] = (),
        publishes: Sequence[Any] = (), responses: Mapping[int | str, Any] | None = None,
    ) -> None:
        """Route ``method path`` (``:name`` segments) to ``handler``, an unbound method of a
        registered class or a plain function; ``publishes`` declares the event classes it
        publishes (for the AsyncAPI document), ``responses`` the answers its return type does not
        say (for the OpenAPI document): ``{201: Member, 404: "no such member"}``."""
        self.routes.append(Route.create(method, path, handler, interceptors, publishes, responses))

    def interceptor(self, *interceptors: Interceptor | type) -> None:
        """Add interceptors (instances, or classes built by the container) run around every route."""
        self.interceptors.extend(interceptors)

    def extend(self, *extensions: object) -> None:
        """Add extension plugins (objects with ``@hookimpl`` methods of the extension hooks,
        e.g. ``spine_postgres.Postgres``), registered next to the broker plugin."""
        self.extensions.extend(extensions)

    def codec(self, codec: Codec, *, topic: str | None = None, event: type | None = None) -> None:
        """Publish with ``codec`` (``spine_core.MSGPACK``...) the events of class ``event``, else of
        ``topic`` (an event name), else every event; the narrowest choice wins. Consumers decode
        whatever codec a message names in its ``content-type``; HTTP bodies stay JSON."""
        self.codecs.choose(codec, topic=topic, event=event)

    def consumers(self) -> ConsumerRegistry:
        """The consumer registry: ``app.consumers().register(topic, handler)``."""
        return self.consumer_registry
