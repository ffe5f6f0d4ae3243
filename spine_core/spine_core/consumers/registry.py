"""``app.consumers()``: which handler consumes which topic, with which interceptors."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from attrs import frozen

from ..errors import BootError
from ..interceptor import Interceptor


@frozen
class Registration:
    """One ``consumers().register(topic, handler)``; ``topic`` is the event name, unprefixed."""

    topic: str
    handler: Callable[..., Any]
    interceptors: Sequence[Interceptor | type] = ()


class ConsumerRegistry:
    """Topics and their handlers; one handler per topic."""

    def __init__(self) -> None:
        self.registrations: dict[str, Registration] = {}
        self.interceptors: list[Interceptor | type] = []

    def register(self, topic: str, handler: Callable[..., Any], *, interceptors: Sequence[Any] = ()) -> None:
        """Handle every event published as ``topic`` with ``handler``."""
        if topic in self.registrations:
            raise BootError(f"topic {topic!r} already has a consumer")
        self.registrations[topic] = Registration(topic, handler, tuple(interceptors))

    def interceptor(self, *interceptors: Interceptor | type) -> None:
        """Add interceptors run around every consumer handler."""
        self.interceptors.extend(interceptors)
