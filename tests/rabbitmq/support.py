"""Helpers shared by the RabbitMQ tests: apps on a test's scope, queue inspection."""

from __future__ import annotations

import threading
from typing import Any

from attrs import evolve
from falcon.testing import TestClient

from apps import order_app, stock_app
from apps.events import OrderCreated
from spine_core import Service, Spine, WriteOptions

from .conftest import RabbitScope


def order_service(rabbit: RabbitScope, publish_timeout: float = 10.0, **settings: str) -> Service:
    """The seed's order app on ``rabbit``."""
    options = order_app.options()
    options = evolve(options, broker=evolve(options.broker, write=WriteOptions(publish_timeout=publish_timeout)))
    return rabbit.start(order_app.create_app(), options, **settings)


def client(service: Service) -> TestClient:
    """A falcon test client on ``service``'s WSGI app."""
    assert service.runtime.wsgi is not None
    return TestClient(service.runtime.wsgi)


class Handled:
    """A stock consumer that records order ids; the first delivery of ``hold`` waits for ``release``."""

    def __init__(self, hold: int | None = None) -> None:
        self.hold = hold
        self.ids: list[int] = []
        self.entered = threading.Event()
        self.release = threading.Event()
        self._cond = threading.Condition()

    def on_created(self, event: OrderCreated) -> None:
        if event.order_id == self.hold and not self.entered.is_set():
            self.entered.set()
            self.release.wait(30)
        with self._cond:
            self.ids.append(event.order_id)
            self._cond.notify_all()

    def wait_for(self, ids: set[int], timeout: float) -> None:
        with self._cond:
            assert self._cond.wait_for(lambda: ids <= set(self.ids), timeout), f"handled only {self.ids}"


def stock_service(rabbit: RabbitScope, handled: Handled, **settings: str) -> Service:
    """A stock app on ``rabbit`` whose handler is ``handled``."""
    def make() -> Handled:
        return handled

    app = Spine()
    app.constructor(make)
    app.consumers().register("order.created", Handled.on_created)
    rabbit.topic_queues("order.created")
    return rabbit.start(app, stock_app.options(), **settings)


def probe_queue(rabbit: RabbitScope, topic: str = "order.created") -> str:
    """A queue of the test's own bound to ``topic`` (so events are routable), deleted after the test."""
    name = f"{rabbit.prefix}probe"
    channel = rabbit.channel()
    try:
        channel.exchange_declare(rabbit.exchange, exchange_type="topic", durable=True,
                                 arguments={"alternate-exchange": rabbit.exchange + ".unrouted"})  # as the plugin
        channel.queue_declare(name, durable=True)
        channel.queue_bind(name, rabbit.exchange, routing_key=rabbit.prefix + topic)
    finally:
        channel.connection.close()
    rabbit.queues.add(name)
    return name


def take(rabbit: RabbitScope, queue: str) -> list[tuple[Any, Any, bytes]]:
    """Take every message waiting in ``queue``: (method, properties, body)."""
    channel = rabbit.channel()
    taken = []
    try:
        while (got := channel.basic_get(queue, auto_ack=True))[0] is not None:
            taken.append(got)
    finally:
        channel.connection.close()
    return taken
