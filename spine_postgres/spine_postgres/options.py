"""``PostgresOptions``: where the database is and what the extension does, with ``SPINE_POSTGRES_*`` overrides."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from attrs import define, evolve

from spine_core import BootError

_FLAGS = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False, "off": False}


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

    dsn: str
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
        env = os.environ if environ is None else environ
        changes: dict[str, Any] = {}
        for name, kind in (("dsn", str), ("outbox", bool), ("inbox", bool), ("relay", bool), ("init", bool),
                           ("pool_size", int), ("pool_timeout", float), ("relay_batch", int), ("relay_interval", float),
                           ("retention", float)):
            var = f"SPINE_POSTGRES_{name.upper()}"
            if var in env:
                changes[name] = _parse(var, env[var], kind)
        return evolve(self, **changes)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> PostgresOptions:
        """The options given by the ``SPINE_POSTGRES_*`` environment; ``SPINE_POSTGRES_DSN`` is required."""
        return cls(dsn="").with_env(environ).require_dsn()

    def require_dsn(self) -> PostgresOptions:
        """These options, if they name a database; else a BootError saying that SPINE_POSTGRES_DSN is not set."""
        if not self.dsn:
            raise BootError("SPINE_POSTGRES_DSN is not set (e.g. postgresql://postgres@127.0.0.1:5432/orders)")
        return self


def _parse(var: str, value: str, kind: type) -> object:
    if kind is bool:
        flag = _FLAGS.get(value.strip().lower())
        if flag is None:
            raise BootError(f"{var}={value!r} is not a switch: use 1 or 0")
        return flag
    try:
        return kind(value)
    except ValueError:
        raise BootError(f"{var}={value!r} is not a {kind.__name__}") from None
