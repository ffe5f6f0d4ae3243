"""The order controller."""

from __future__ import annotations

from datetime import datetime, timezone

from spine_core import Context, path, publish

from ..events import OrderCreated


class OrderController:
    def create(self, ctx: Context, order_id: path.Int) -> str:
        """Publish ``order.created``; the answer is sent once the broker confirmed it."""
        publish.event(ctx, OrderCreated(order_id=order_id.value, at=datetime.now(timezone.utc)))
        return "OK"
