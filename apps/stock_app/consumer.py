"""The order consumer of the stock service."""

from __future__ import annotations

import logging

from spine_core import Context

from ..events import OrderCreated

log = logging.getLogger("stock")


class OrderConsumer:
    def on_created(self, ctx: Context, event_name: str, event: OrderCreated) -> None:
        log.info("Kafka Event: %s", event_name)
        log.info("OrderID: %s", event.order_id)
        # stock handling goes here
