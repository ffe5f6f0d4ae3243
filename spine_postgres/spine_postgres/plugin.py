"""``Postgres``: the extension plugin an app adds with ``app.extend(Postgres(options))``."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import psycopg
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from psycopg_pool import ConnectionPool

from spine_core import BootError, Context, hookimpl
from spine_core.broker import Health
from spine_core.extension import redact

from . import outbox, schema
from .options import PostgresOptions
from .relay import Relay
from .transaction import Repository, Transaction, current
from .unit import UnitOfWork

if TYPE_CHECKING:
    from collections.abc import Callable

    from spine_core.extension import Runtime
    from spine_core.extension import Around, Resolver

log = logging.getLogger("spine.postgres")


def open_pool(options: PostgresOptions, name: str, timeout: float = 10.0) -> ConnectionPool[Any]:
    """A connection pool on ``options.dsn``, open; BootError if the database does not answer."""
    options.protect()
    try:  # one plain connection first: it fails at once, with the server's or the network's reason
        psycopg.connect(options.dsn, connect_timeout=int(timeout), application_name=name).close()
    except psycopg.Error as e:
        raise BootError(redact(f"PostgreSQL at {options.dsn} is not reachable: {e}")) from None
    pool: ConnectionPool[Any] = ConnectionPool(
        options.dsn, min_size=1, max_size=options.pool_size, timeout=options.pool_timeout, open=False, name=name,
        kwargs={"application_name": name},
    )
    try:
        pool.open(wait=True, timeout=timeout)
    except Exception as e:
        pool.close()
        raise BootError(redact(f"PostgreSQL at {options.dsn} is not reachable: {e}")) from None
    return pool


class Postgres:
    """Transactions in handlers, the outbox and the inbox for one app.

    ``schema`` are the app's own idempotent DDL statements, run with the extension's
    tables by ``spine db init`` (and at start when ``options.init``).
    """

    def __init__(self, options: PostgresOptions, schema: Sequence[str] = ()) -> None:
        self.options = options
        options.protect()
        self.schema = tuple(schema)
        self.pool: ConnectionPool[Any] | None = None
        self.relay: Relay | None = None
        self._unit: UnitOfWork | None = None

    @classmethod
    def from_env(cls, schema: Sequence[str] = ()) -> Postgres:
        """The extension configured by the ``SPINE_POSTGRES_*`` environment. ``SPINE_POSTGRES_DSN`` is
        needed when the app starts, not here: an app is described (``spine consumers``, ``spine asyncapi``,
        ``spine contracts check``) without its database, and describing never connects."""
        return cls(PostgresOptions(dsn="").with_env(), schema)

    def create_tables(self, pool: ConnectionPool[Any]) -> None:
        """Create the outbox, the inbox and the app's tables if missing."""
        with pool.connection() as connection:
            schema.create_tables(connection, self.schema)

    @hookimpl
    def spine_resolver(self, name: str, annotation: Any) -> Resolver[Context] | None:
        if annotation is Transaction:
            return current
        if inspect.isclass(annotation) and issubclass(annotation, Repository):
            return _repository(annotation)
        return None

    @hookimpl
    def spine_around(self) -> Around:
        return self._around

    def _around(self, ctx: Context, proceed: Callable[[], Any]) -> Any:
        if self._unit is None:
            raise RuntimeError("the Postgres extension is not started")
        return self._unit(ctx, proceed)

    @hookimpl
    def spine_extension_start(self, runtime: Runtime) -> None:
        options = self.options.require_dsn()
        self.pool = pool = open_pool(options, "spine-service")
        if options.init:
            self.create_tables(pool)
        write = runtime.options.broker.write
        use_outbox = options.outbox and write is not None
        if use_outbox and options.relay and write is not None:
            timeout = write.publish_timeout
            publish = runtime.hook.spine_publish
            self.relay = Relay(
                pool, lambda messages: publish(messages=messages, timeout=timeout),
                batch=options.relay_batch, interval=options.relay_interval, retention=options.retention,
                observe=runtime.metrics.observe_publish if runtime.metrics is not None else None,
            )
        consumer = runtime.group_id if options.inbox else None
        wake = self.relay.wake if self.relay is not None else (lambda: None)
        self._unit = UnitOfWork(
            pool, topic_prefix=runtime.options.broker.topic_prefix, use_outbox=use_outbox,
            consumer=consumer, notify=use_outbox and not options.relay, written=wake,
        )
        if use_outbox and runtime.metrics is not None:
            runtime.metrics.registry.register(OutboxCollector(self))
        if self.relay is not None:
            self.relay.start()

    @hookimpl
    def spine_extension_health(self) -> Health:
        try:
            backlog = self.backlog()
        except Exception as e:
            return Health(False, redact(f"postgres: {type(e).__name__}: {e}"))
        if backlog is None:
            return Health(True, "postgres: ok")
        return Health(True, f"postgres: outbox backlog {backlog.rows}, oldest {backlog.oldest_age:.1f}s")

    def backlog(self) -> outbox.Backlog | None:
        """The outbox's unpublished rows (None without the outbox); raises if the database does not answer."""
        if self.pool is None:
            raise RuntimeError("not started")
        with self.pool.connection(timeout=1.0) as connection:
            if not self.options.outbox:
                connection.execute("SELECT 1")
                return None
            return outbox.backlog(connection)

    @hookimpl
    def spine_extension_stop(self, timeout: float) -> None:
        if self.relay is not None:
            self.relay.stop(timeout)

    @hookimpl
    def spine_extension_close(self) -> None:
        if self.pool is not None:
            self.pool.close()


def _repository(cls: type[Repository]) -> Resolver[Context]:
    return lambda ctx: cls(current(ctx))


class OutboxCollector(Collector):
    """``spine_outbox_backlog`` and ``spine_outbox_oldest_age_seconds``, read at scrape time."""

    def __init__(self, postgres: Postgres) -> None:
        self._postgres = postgres

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        try:
            backlog = self._postgres.backlog()
        except Exception as e:  # the scrape goes on without these
            log.warning("outbox backlog not measured: %s: %s", type(e).__name__, e)
            return
        if backlog is None:
            return
        yield GaugeMetricFamily("spine_outbox_backlog", "Outbox rows not yet published.", value=backlog.rows)
        yield GaugeMetricFamily("spine_outbox_oldest_age_seconds", "Age of the oldest unpublished outbox row.",
                                value=backlog.oldest_age)
