"""The unit of work around each handler call: one transaction, the inbox check, the outbox write."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from spine_core import Context, MessageContext, ServiceUnavailable
from spine_core.broker import Headers, IncomingMessage
from spine_core.extension import redact, to_message

from . import inbox, outbox
from .listen import NOTIFY
from .transaction import KEY, Transaction

log = logging.getLogger("spine.postgres")


class UnitOfWork:
    """``around(ctx, proceed)``: the handler runs in a transaction that commits after it
    succeeded (then the response is sent or the message acknowledged) and rolls back if it
    failed. With the outbox, the events it queued are written in that transaction instead
    of being published by the core (and, with ``notify``, relays in other processes are
    woken at the commit); with the inbox, a consumed event whose ``event-id``
    this consumer already handled is acknowledged without running the handler. A database
    that cannot be reached raises ServiceUnavailable (503 over HTTP)."""

    def __init__(
        self,
        pool: ConnectionPool[Any],
        *,
        topic_prefix: str = "",
        use_outbox: bool = True,
        consumer: str | None = None,
        notify: bool = False,
        written: Callable[[], None] = lambda: None,
    ) -> None:
        self._pool = pool
        self._prefix = topic_prefix
        self._outbox = use_outbox
        self._consumer = consumer
        self._notify = notify
        self._written = written

    def __call__(self, ctx: Context, proceed: Callable[[], Any]) -> Any:
        try:
            return self._run(ctx, proceed)
        except (psycopg.OperationalError, PoolTimeout) as e:  # over HTTP a 503; a consumer retries
            raise ServiceUnavailable(redact(f"database unavailable: {type(e).__name__}: {e}")) from e

    def _run(self, ctx: Context, proceed: Callable[[], Any]) -> Any:
        wrote = False
        with self._pool.connection() as connection, connection.transaction():
            ctx.values[KEY] = Transaction(connection)
            try:
                if self._consumer is not None and isinstance(ctx, MessageContext) and not self._claim(connection, ctx):
                    return None
                result = proceed()
                if self._outbox and ctx.events:
                    outbox.write(connection, [to_message(e, self._prefix, ctx.correlation_id, ctx.trace)
                                              for e in ctx.events])
                    ctx.events.clear()
                    if self._notify:
                        connection.execute(NOTIFY)
                    wrote = True
            finally:
                del ctx.values[KEY]
        if wrote:
            self._written()
        return result

    def _claim(self, connection: Any, ctx: MessageContext) -> bool:
        """Record the message's event id (a batch's: each one's) in the inbox; False when there
        is nothing left to handle. A batch goes on with the events not handled before."""
        if not ctx.messages:
            if self._first_time(connection, ctx.message):
                return True
            ctx.skipped.append(ctx.message)
            return False
        fresh = [(m, e) for m, e in zip(ctx.messages, ctx.event) if self._first_time(connection, m)]
        kept = {id(m) for m, _ in fresh}
        ctx.skipped.extend(m for m in ctx.messages if id(m) not in kept)
        ctx.messages, ctx.event = [m for m, _ in fresh], [e for _, e in fresh]
        return bool(fresh)

    def _first_time(self, connection: Any, message: IncomingMessage) -> bool:
        assert self._consumer is not None  # nosec B101 # narrows a type for mypy
        event_id = message.headers.get(Headers.EVENT_ID)
        if not event_id:
            log.warning("message on %s has no %s header: the inbox cannot tell a redelivery",
                        message.topic, Headers.EVENT_ID)
            return True
        if inbox.claim(connection, f"{self._consumer}/{message.topic}", event_id):
            return True
        log.info("event %s on %s already handled: acknowledged without running the handler "
                 "(counted as skipped)", event_id, message.topic)
        return False
