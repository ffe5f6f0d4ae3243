"""The order service: ``POST /orders/:order_id`` publishes ``order.created`` and answers ``OK``.

With ``SPINE_POSTGRES_DSN`` set, the order is stored in ``orders`` and the event goes
through the outbox (see docs/guides/postgres.md)."""

from __future__ import annotations

import os

from spine_core import BrokerOptions, HTTPOptions, Options, Spine, WriteOptions

from ..events import OrderCreated
from .controller import OrderController


def create_app() -> Spine:
    app = Spine()
    if os.environ.get("SPINE_POSTGRES_DSN"):
        from spine_postgres import Postgres

        from .stored import ORDERS_TABLE, StoredOrderController

        app.extend(Postgres.from_env(schema=[ORDERS_TABLE]))
        app.constructor(StoredOrderController)
        app.route("POST", "/orders/:order_id", StoredOrderController.create)
        return app
    app.constructor(OrderController)
    app.route("POST", "/orders/:order_id", OrderController.create, publishes=[OrderCreated])
    return app


def options() -> Options:
    """The seed's options: port 8080, graceful shutdown within 10 s, Kafka writer."""
    return Options(
        address=":8080",
        enable_graceful_shutdown=True,
        shutdown_timeout=10.0,
        broker=BrokerOptions(
            name="kafka",
            settings={"kafka": {"bootstrap.servers": "localhost:9092"}},
            topic_prefix="",
            write=WriteOptions(),
        ),
        http=HTTPOptions(),
    )
