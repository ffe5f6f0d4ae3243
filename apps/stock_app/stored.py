"""The stock consumer with PostgreSQL (``SPINE_POSTGRES_DSN`` set): each order's stock
reservation is stored in ``stock_reservations`` through the inbox, so a redelivered
``order.created`` reserves nothing twice."""

from __future__ import annotations

import logging

from spine_core import Context
from spine_postgres import Repository

from ..events import OrderCreated

log = logging.getLogger("stock")

RESERVATIONS_TABLE = """CREATE TABLE IF NOT EXISTS stock_reservations (
    id bigserial PRIMARY KEY,
    order_id bigint NOT NULL,
    reserved_at timestamptz NOT NULL DEFAULT now()
)"""


class Reservations(Repository):
    """The ``stock_reservations`` table, in the handler's transaction."""

    def reserve(self, order_id: int) -> None:
        self.tx.execute("INSERT INTO stock_reservations (order_id) VALUES (%s)", (order_id,))


class StoredOrderConsumer:
    def on_created(self, ctx: Context, event_name: str, event: OrderCreated, reservations: Reservations) -> None:
        log.info("Kafka Event: %s", event_name)
        log.info("OrderID: %s", event.order_id)
        reservations.reserve(event.order_id)
