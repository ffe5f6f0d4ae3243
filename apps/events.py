"""Events shared by the order and stock services."""

from __future__ import annotations

from datetime import datetime

from attrs import frozen


@frozen
class OrderCreated:
    """An order was placed; keyed by order id so one order's events stay in order."""

    order_id: int
    at: datetime

    def name(self) -> str:
        return "order.created"

    def occurred_at(self) -> datetime:
        return self.at

    def key(self) -> str:
        return str(self.order_id)
