"""The order controller with PostgreSQL (``SPINE_POSTGRES_DSN`` set): the order is stored in
``orders`` and ``order.created`` goes through the outbox, in one transaction."""

from __future__ import annotations

from datetime import datetime, timezone

from spine_core import Conflict, Context, path, publish
from spine_postgres import Repository

from ..events import OrderCreated

ORDERS_TABLE = """CREATE TABLE IF NOT EXISTS orders (
    id bigint PRIMARY KEY,
    created_at timestamptz NOT NULL
)"""


class Orders(Repository):
    """The ``orders`` table, in the handler's transaction."""

    def add(self, order_id: int, at: datetime) -> bool:
        """Store a new order; False if it exists."""
        cursor = self.tx.execute(
            "INSERT INTO orders (id, created_at) VALUES (%s, %s) ON CONFLICT DO NOTHING", (order_id, at)
        )
        return cursor.rowcount == 1


class StoredOrderController:
    def create(self, ctx: Context, order_id: path.Int, orders: Orders) -> str:
        """Store the order and queue ``order.created``; the answer follows the commit."""
        at = datetime.now(timezone.utc)
        if not orders.add(order_id.value, at):
            raise Conflict(f"order {order_id.value} exists")
        publish.event(ctx, OrderCreated(order_id=order_id.value, at=at))
        return "OK"
