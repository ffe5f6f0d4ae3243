"""The TCP proxy the RabbitMQ tests cut and restore (the soak's own: :mod:`soak.proxy`)."""

from soak.proxy import Proxy

__all__ = ["Proxy"]
