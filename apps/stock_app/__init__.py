"""The stock service: consumes ``order.created`` as group ``stock-service``.

With ``SPINE_POSTGRES_DSN`` set, each reservation is stored in ``stock_reservations``
through the inbox (see docs/guides/postgres.md)."""

from __future__ import annotations

import os

from spine_core import BrokerOptions, HTTPOptions, Options, ReadOptions, Spine

from .consumer import OrderConsumer


def create_app() -> Spine:
    app = Spine()
    if os.environ.get("SPINE_POSTGRES_DSN"):
        from spine_postgres import Postgres

        from .stored import RESERVATIONS_TABLE, StoredOrderConsumer

        app.extend(Postgres.from_env(schema=[RESERVATIONS_TABLE]))
        app.constructor(StoredOrderConsumer)
        app.consumers().register("order.created", StoredOrderConsumer.on_created)
        return app
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
