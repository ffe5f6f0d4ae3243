"""``app.consumers()``: which handler consumes which topic, with which interceptors."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from attrs import frozen

from ..errors import BootError
from ..event import event_classes
from ..interceptor import Interceptor
from .middleware import Middleware


@frozen
class Registration:
    """One ``consumers().register(topic, handler)``; ``topic`` is the event name, unprefixed."""

    topic: str
    handler: Callable[..., Any]
    interceptors: Sequence[Interceptor | type] = ()
    middlewares: Sequence[Middleware] = ()
    max_batch: int = 100
    publishes: Sequence[type] = ()
    """Event classes the handler publishes, declared for the AsyncAPI document."""


class ConsumerRegistry:
    """Topics and their handlers; one handler per topic."""

    def __init__(self) -> None:
        self.registrations: dict[str, Registration] = {}
        self.interceptors: list[Interceptor | type] = []
        self.middlewares: list[Middleware] = []

    def register(
        self, topic: str, handler: Callable[..., Any], *,
        interceptors: Sequence[Any] = (), middleware: Sequence[Middleware] = (), max_batch: int = 100,
        publishes: Sequence[Any] = (),
    ) -> None:
        """Handle every event published as ``topic`` with ``handler``, which publishes (at most)
        the event classes ``publishes``; ``middleware`` wraps this topic's messages inside the
        app's own (see :meth:`middleware`). A handler whose event parameter is
        ``list[EventClass]`` gets batches of up to ``max_batch`` events."""
        if topic in self.registrations:
            raise BootError(f"topic {topic!r} already has a consumer")
        if max_batch < 1:
            raise BootError(f"max_batch of topic {topic!r} must be at least 1, not {max_batch}")
        declared = event_classes(publishes, f"consumer of {topic!r}")
        self.registrations[topic] = Registration(
            topic, handler, tuple(interceptors), tuple(middleware), max_batch, declared
        )

    def interceptor(self, *interceptors: Interceptor | type) -> None:
        """Add interceptors run around every consumer handler, once per attempt."""
        self.interceptors.extend(interceptors)

    def middleware(self, *middlewares: Middleware) -> None:
        """Add middlewares, ``Deliver -> Deliver``, run once per message around its retries,
        the first added outermost. A middleware may return a settlement itself (``ACK``
        skips the handler) or raise (the message is dead-lettered with the reason)."""
        self.middlewares.extend(middlewares)
