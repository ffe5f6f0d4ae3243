"""``PostgresOptions``: where the database is and what the extension does, with ``SPINE_POSTGRES_*`` overrides."""

from __future__ import annotations

import os
from collections.abc import Mapping

from attrs import define, evolve, field

from spine_core.broker import BootError, SettingsReader
from spine_core.extension import protect, redact


@define(kw_only=True)
class PostgresOptions:
    """The database (``dsn``, a libpq connection string or URL) and the extension's switches.

    ``outbox``: events queued by handlers are written to ``spine_outbox`` in the handler's
    transaction and published by a relay. ``relay``: run that relay in the service's
    process (turn off when ``spine relay`` runs separately). ``inbox``: consumers record
    handled event ids in ``spine_inbox`` and skip those already handled. ``init``: create
    the tables at start. ``pool_timeout``: seconds a handler waits for a connection before
    failing (503 over HTTP). ``retention``: seconds a published outbox row is kept.
    """

    dsn: str = field(repr=redact)
    outbox: bool = True
    inbox: bool = True
    relay: bool = True
    init: bool = False
    pool_size: int = 10
    pool_timeout: float = 5.0
    relay_batch: int = 100
    relay_interval: float = 0.5
    retention: float = 3600.0

    def with_env(self, environ: Mapping[str, str] | None = None) -> PostgresOptions:
        """A copy with ``SPINE_POSTGRES_DSN``, ``_OUTBOX``, ``_INBOX``, ``_RELAY``, ``_INIT``,
        ``_POOL_SIZE``, ``_POOL_TIMEOUT``, ``_RELAY_BATCH``, ``_RELAY_INTERVAL`` and ``_RETENTION`` applied."""
        read = SettingsReader.from_env("SPINE_POSTGRES_", os.environ if environ is None else environ)
        options = evolve(
            self,
            dsn=read.text("dsn", self.dsn),
            outbox=read.flag("outbox", self.outbox),
            inbox=read.flag("inbox", self.inbox),
            relay=read.flag("relay", self.relay),
            init=read.flag("init", self.init),
            pool_size=read.integer("pool_size", self.pool_size, minimum=1),
            pool_timeout=read.seconds("pool_timeout", self.pool_timeout),
            relay_batch=read.integer("relay_batch", self.relay_batch, minimum=1),
            relay_interval=read.seconds("relay_interval", self.relay_interval),
            retention=read.seconds("retention", self.retention),
        )
        options.protect()
        return options

    def protect(self) -> None:
        """Remember the DSN's password (:func:`spine_core.extension.protect`): never shown from now on."""
        protect({"dsn": self.dsn})

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> PostgresOptions:
        """The options given by the ``SPINE_POSTGRES_*`` environment; ``SPINE_POSTGRES_DSN`` is required."""
        return cls(dsn="").with_env(environ).require_dsn()

    def require_dsn(self) -> PostgresOptions:
        """These options, if they name a database; else a BootError saying that SPINE_POSTGRES_DSN is not set."""
        if not self.dsn:
            raise BootError("SPINE_POSTGRES_DSN is not set (e.g. postgresql://postgres@127.0.0.1:5432/orders)")
        return self
