"""The plugin's settings (``SPINE_NATS_*``), the connection's options made from them, and JetStream names."""

from __future__ import annotations

import re
import ssl
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import urlsplit

from attrs import field, frozen

from spine_core.broker import BootError, SettingsReader, hidden, protect, redact

DEFAULT_URL: Final = "nats://127.0.0.1:4222"
STORAGES: Final = ("file", "memory")
KEYS: Final = frozenset({
    "url", "user", "password", "token", "creds", "tls.ca", "tls.cert", "tls.key", "create.streams", "storage",
    "max.age", "max.bytes", "replicas", "ack.wait", "batch", "workers", "max.pending",
})
_NOT_IN_NAMES = re.compile(r"[^A-Za-z0-9_-]")


@frozen(kw_only=True)
class NatsSettings:
    """Settings of the ``nats`` plugin, read from ``BrokerConfig.settings``.

    Keys (environment variable → key): ``SPINE_NATS_URL`` → ``url`` (one server or several,
    comma-separated; ``tls://`` for TLS), ``..._USER``/``..._PASSWORD``, ``..._TOKEN``, ``..._CREDS``
    (a ``.creds`` file), ``..._TLS_CA``/``..._TLS_CERT``/``..._TLS_KEY`` (PEM files),
    ``..._CREATE_STREAMS`` (create a missing stream), ``..._STORAGE`` (``file`` or ``memory``),
    ``..._MAX_AGE`` (seconds a stream keeps a message; 0: no limit), ``..._MAX_BYTES`` (a stream's
    size; -1: no limit), ``..._REPLICAS``, ``..._ACK_WAIT`` (seconds before JetStream redelivers an
    unacknowledged message; the plugin keeps the messages it holds with ``in_progress``),
    ``..._BATCH`` (messages per fetch), ``..._WORKERS``, ``..._MAX_PENDING`` (the consumer's
    ``max_ack_pending``). Secrets and the URL's credentials never appear in its repr.
    """

    url: str = field(default=DEFAULT_URL, repr=redact)
    user: str = ""
    password: str = field(default="", repr=hidden)
    token: str = field(default="", repr=hidden)
    creds: str = ""
    tls_ca: str = ""
    tls_cert: str = ""
    tls_key: str = ""
    create_streams: bool = True
    storage: str = "file"
    max_age: float = 0.0
    max_bytes: int = -1
    replicas: int = 1
    ack_wait: float = 30.0
    batch: int = 100
    workers: int = 8
    max_pending: int = 1000

    @classmethod
    def from_settings(cls, settings: Mapping[str, str]) -> NatsSettings:
        """Validate ``settings``; unknown keys and bad values are BootErrors."""
        protect(settings)  # done by the core too; a plugin made directly (tests) is covered as well
        read, default = SettingsReader("nats", settings), cls()
        read.check_known(KEYS)
        parsed = cls(
            url=read.text("url", default.url),
            user=read.text("user", ""), password=read.text("password", ""), token=read.text("token", ""),
            creds=read.text("creds", ""),
            tls_ca=read.text("tls.ca", ""), tls_cert=read.text("tls.cert", ""), tls_key=read.text("tls.key", ""),
            create_streams=read.flag("create.streams", default.create_streams),
            storage=read.choice("storage", default.storage, STORAGES),
            max_age=read.seconds("max.age", default.max_age),
            max_bytes=read.integer("max.bytes", default.max_bytes, minimum=-1),
            replicas=read.integer("replicas", default.replicas, minimum=1),
            ack_wait=read.seconds("ack.wait", default.ack_wait, positive=True),
            batch=read.integer("batch", default.batch, minimum=1),
            workers=read.integer("workers", default.workers, minimum=1),
            max_pending=read.integer("max.pending", default.max_pending, minimum=1),
        )
        for server in parsed.servers:
            parts = urlsplit(server)
            if parts.scheme not in ("nats", "tls") or not parts.hostname:
                raise BootError(f"nats url {addresses(server)!r} is not nats://HOST:PORT or tls://HOST:PORT")
        if bool(parsed.tls_cert) != bool(parsed.tls_key):
            raise BootError("nats tls.cert and tls.key go together (a client certificate and its key)")
        return parsed

    @property
    def servers(self) -> list[str]:
        return [s.strip() for s in self.url.split(",") if s.strip()]

    @property
    def address(self) -> str:
        """``host:port`` of each server, without credentials: for health and logs."""
        return addresses(self.url)

    def connect_options(self) -> dict[str, Any]:
        """Keyword arguments of ``nats.connect`` for the credentials and TLS (never logged)."""
        options: dict[str, Any] = {}
        if self.user:
            options.update(user=self.user, password=self.password)
        if self.token:
            options["token"] = self.token
        if self.creds:
            options["user_credentials"] = self.creds
        if self.tls_ca or self.tls_cert or any(s.startswith("tls://") for s in self.servers):
            context = ssl.create_default_context(cafile=self.tls_ca or None)
            if self.tls_cert:
                context.load_cert_chain(self.tls_cert, self.tls_key)
            options["tls"] = context
        return options


def addresses(url: str) -> str:
    """The ``host:port`` of each server of ``url`` (comma-separated), credentials and scheme left out."""
    hosts = []
    for server in url.split(","):
        parts = urlsplit(server.strip())
        try:
            port = parts.port or 4222
        except ValueError:
            port = 4222
        hosts.append(f"{parts.hostname or '?'}:{port}")
    return ",".join(hosts)


def stream_name(topic: str) -> str:
    """The stream of ``topic``: stream names cannot hold ``.`` (nor ``*``, ``>``, spaces), so each such
    character becomes ``_`` (``order.created`` → ``order_created``, its dead letters ``order_created_dlq``)."""
    return _NOT_IN_NAMES.sub("_", topic)


def durable_name(group_id: str) -> str:
    """The durable consumer of group ``group_id`` on each of its topics' streams."""
    return _NOT_IN_NAMES.sub("_", group_id)
