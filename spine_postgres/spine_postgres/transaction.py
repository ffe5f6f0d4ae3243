"""``Transaction`` and ``Repository``: the database transaction of one handler call, by annotation."""

from __future__ import annotations

from typing import Any

import psycopg
import psycopg.sql
from psycopg.abc import Params

from spine_core import Context

KEY = "spine_postgres.transaction"
"""Where the unit of work keeps the current transaction in ``Context.values``."""


class Transaction:
    """The handler's transaction: committed after the handler succeeded, rolled back if it failed.

    Annotate a handler parameter with it (or with a :class:`Repository`)::

        def create(self, order_id: path.Int, tx: Transaction) -> str:
            tx.execute("INSERT INTO orders (id) VALUES (%s)", (order_id.value,))
    """

    __slots__ = ("connection",)

    def __init__(self, connection: psycopg.Connection[Any]) -> None:
        self.connection = connection

    def execute(
        self, query: str | bytes | psycopg.sql.SQL | psycopg.sql.Composed, params: Params | None = None
    ) -> psycopg.Cursor[Any]:
        """Run one statement in the transaction; the cursor holds its rows."""
        return self.connection.execute(query, params)


class Repository:
    """Base of classes built per handler call with the call's transaction: a handler parameter
    annotated with a subclass receives ``Subclass(tx)``."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx


def current(ctx: Context) -> Transaction:
    """The transaction of the handler call ``ctx`` belongs to."""
    try:
        tx: Transaction = ctx.values[KEY]
    except KeyError:
        raise RuntimeError("no transaction: the Postgres extension is not started for this app") from None
    return tx
