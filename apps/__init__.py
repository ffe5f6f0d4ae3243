"""The seed's two services: the order service publishes ``order.created``, the stock service consumes it."""
