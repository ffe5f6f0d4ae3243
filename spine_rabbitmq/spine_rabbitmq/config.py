"""The plugin's settings (``SPINE_RABBITMQ_*``), connection parameters and the topology's names."""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from typing import Any, Final

import pika
from attrs import field, frozen

from spine_core.broker import BootError, SettingsReader, protect, redact

DEFAULT_URL: Final = "amqp://guest:guest@127.0.0.1:5672/"
QUEUE_TYPES: Final = ("quorum", "classic")
KEYS: Final = frozenset({"url", "exchange", "prefetch", "queue.type", "delivery.limit", "workers", "unrouted",
                         "ssl.ca", "ssl.cert", "ssl.key", "ssl.key.password"})


@frozen(kw_only=True)
class RabbitMQSettings:
    """Settings of the ``rabbitmq`` plugin, read from ``BrokerConfig.settings``.

    Keys (environment variable → key): ``SPINE_RABBITMQ_URL`` → ``url``,
    ``..._EXCHANGE`` → ``exchange``, ``..._PREFETCH`` → ``prefetch``,
    ``..._QUEUE_TYPE`` → ``queue.type``, ``..._DELIVERY_LIMIT`` → ``delivery.limit``,
    ``..._WORKERS`` → ``workers`` (handler threads of the consumer; one key is handled in order),
    ``..._UNROUTED`` → ``unrouted`` (``true``: events no queue is bound to are kept in
    ``<exchange>.unrouted``; ``false``: publishing them fails with 312 NO_ROUTE).

    TLS: an ``amqps://`` URL verifies the server's certificate and host name against the system's
    CAs, or ``..._SSL_CA`` → ``ssl.ca`` (a PEM file); ``..._SSL_CERT`` / ``..._SSL_KEY`` (and
    ``..._SSL_KEY_PASSWORD``) give a client certificate for servers that ask for one (mutual TLS).
    """

    url: str = field(default=DEFAULT_URL, repr=redact)
    exchange: str = "spine"
    prefetch: int = 100
    queue_type: str = "quorum"
    delivery_limit: int = 20
    workers: int = 8
    unrouted: bool = True
    ssl_ca: str | None = None
    ssl_cert: str | None = None
    ssl_key: str | None = None
    ssl_key_password: str | None = field(default=None, repr=lambda v: "None" if v is None else "'***'")

    @classmethod
    def from_settings(cls, settings: Mapping[str, str]) -> RabbitMQSettings:
        """Validate ``settings``; unknown keys and bad values are BootErrors."""
        protect(settings)  # done by the core too; a plugin made directly (tests) is covered as well
        read, default = SettingsReader("rabbitmq", settings), cls()
        read.check_known(KEYS)
        exchange = read.text("exchange", default.exchange)
        if not exchange:
            raise BootError("rabbitmq exchange must not be empty (the default exchange cannot route by topic)")
        parsed = cls(
            url=read.text("url", default.url),
            exchange=exchange,
            prefetch=read.integer("prefetch", default.prefetch, minimum=1),
            queue_type=read.choice("queue.type", default.queue_type, QUEUE_TYPES),
            delivery_limit=read.integer("delivery.limit", default.delivery_limit, minimum=1),
            workers=read.integer("workers", default.workers, minimum=1),
            unrouted=read.flag("unrouted", default.unrouted),
            ssl_ca=settings.get("ssl.ca"),
            ssl_cert=settings.get("ssl.cert"),
            ssl_key=settings.get("ssl.key"),
            ssl_key_password=settings.get("ssl.key.password"),
        )
        parsed.parameters()  # a bad URL fails at boot, not at the first publish
        return parsed

    def parameters(self) -> pika.URLParameters:
        """Connection parameters from ``url``; reconnecting is the plugin's job, so one attempt."""
        try:
            params = pika.URLParameters(self.url)
        except Exception as e:
            raise BootError(redact(f"rabbitmq url {self.url!r} is invalid: {e}")) from None
        params.connection_attempts = 1
        if params.ssl_options is not None or self.ssl_ca or self.ssl_cert:
            if not self.url.startswith("amqps://"):
                raise BootError("rabbitmq ssl.* settings need an amqps:// url")
            params.ssl_options = pika.SSLOptions(self.ssl_context(), server_hostname=params.host)
        return params

    def ssl_context(self) -> ssl.SSLContext:
        """The TLS client side: the server's certificate and host name verified (against ``ssl.ca``,
        else the system's CAs), with the client certificate if given."""
        try:
            context = ssl.create_default_context(cafile=self.ssl_ca)
            if self.ssl_cert:
                context.load_cert_chain(self.ssl_cert, self.ssl_key, self.ssl_key_password)
        except (OSError, ssl.SSLError) as e:
            raise BootError(redact(f"rabbitmq TLS files unusable: {e}")) from None
        return context

    @property
    def shown_url(self) -> str:
        """``url`` fit for logs and errors: without its userinfo."""
        return redact(self.url)

    @property
    def unrouted_name(self) -> str:
        """The alternate exchange and the queue keeping events no queue is bound to."""
        return f"{self.exchange}.unrouted"

    def queue_arguments(self, dead_letter_routing_key: str) -> dict[str, Any]:
        """``x-`` arguments of a consumer group's queue: its type, and for a quorum queue a
        delivery limit after which RabbitMQ itself dead-letters the message."""
        args: dict[str, Any] = {
            "x-queue-type": self.queue_type,
            "x-dead-letter-exchange": self.exchange,
            "x-dead-letter-routing-key": dead_letter_routing_key,
        }
        if self.queue_type == "quorum":
            args["x-delivery-limit"] = self.delivery_limit
        return args


def queue_name(group_id: str, topic: str) -> str:
    """The durable queue of consumer group ``group_id`` for ``topic`` (already prefixed):
    ``<group_id>:<topic>``, e.g. ``stock-service:order.created``."""
    return f"{group_id}:{topic}"
