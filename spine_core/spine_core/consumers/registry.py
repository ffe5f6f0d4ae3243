"""``app.consumers()``: which handler consumes which topic, with which interceptors."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from attrs import frozen

from ..errors import BootError
from ..event import event_classes
from ..interceptor import Interceptor


@frozen
class Registration:
    """One ``consumers().register(topic, handler)``; ``topic`` is the event name, unprefixed."""

    topic: str
    handler: Callable[..., Any]
    interceptors: Sequence[Interceptor | type] = ()
    publishes: Sequence[type] = ()
    """Event classes the handler publishes, declared for the AsyncAPI document."""


class ConsumerRegistry:
    """Topics and their handlers; one handler per topic."""

    def __init__(self) -> None:
        self.registrations: dict[str, Registration] = {}
        self.interceptors: list[Interceptor | type] = []

    def register(
        self, topic: str, handler: Callable[..., Any], *, interceptors: Sequence[Any] = (),
        publishes: Sequence[Any] = (),
    ) -> None:
        """Handle every event published as ``topic`` with ``handler``, which publishes
        (at most) the event classes ``publishes``."""
        if topic in self.registrations:
            raise BootError(f"topic {topic!r} already has a consumer")
        declared = event_classes(publishes, f"consumer of {topic!r}")
        self.registrations[topic] = Registration(topic, handler, tuple(interceptors), declared)

    def interceptor(self, *interceptors: Interceptor | type) -> None:
        """Add interceptors run around every consumer handler."""
        self.interceptors.extend(interceptors)
