"""The stock service: consumes ``order.created`` as group ``stock-service``."""

from __future__ import annotations

from spine_core import BrokerOptions, HTTPOptions, Options, ReadOptions, Spine

from .consumer import OrderConsumer


def create_app() -> Spine:
    app = Spine()
    app.constructor(OrderConsumer)
    app.consumers().register("order.created", OrderConsumer.on_created)
    return app


def options() -> Options:
    """The seed's options: port 8081, graceful shutdown within 10 s, Kafka reader."""
    return Options(
        address=":8081",
        enable_graceful_shutdown=True,
        shutdown_timeout=10.0,
        broker=BrokerOptions(
            name="kafka",
            settings={"kafka": {"bootstrap.servers": "localhost:9092"}},
            read=ReadOptions(group_id="stock-service"),
        ),
        http=HTTPOptions(),
    )
