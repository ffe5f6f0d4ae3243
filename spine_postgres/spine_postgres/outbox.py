"""The outbox table: rows written in a handler's transaction, claimed and marked published by relays."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from attrs import frozen
from psycopg.types.json import Jsonb

from spine_core.broker import OutgoingMessage

_INSERT = "INSERT INTO spine_outbox (topic, key, value, headers) VALUES (%s, %s, %s, %s)"

# The oldest pending rows that no other relay holds, and of each key only its oldest
# pending row: a key's next row waits until the one before it is marked published, so
# relays running at once never publish a key's rows out of order.
_CLAIM = """
SELECT id, topic, key, value, headers FROM spine_outbox o
WHERE o.published_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM spine_outbox e WHERE e.published_at IS NULL AND e.key = o.key AND e.id < o.id)
ORDER BY o.id
LIMIT %s
FOR UPDATE SKIP LOCKED
"""
_MARK = "UPDATE spine_outbox SET published_at = now() WHERE id = ANY(%s)"
_PRUNE = "DELETE FROM spine_outbox WHERE published_at < now() - make_interval(secs => %s)"
_BACKLOG = """
SELECT count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8
FROM spine_outbox WHERE published_at IS NULL
"""


@frozen
class Claimed:
    """Rows a relay holds (locked until its transaction ends) and their messages."""

    ids: list[int]
    messages: list[OutgoingMessage]


@frozen
class Backlog:
    """Rows not yet published, and the age in seconds of the oldest (0 when none)."""

    rows: int
    oldest_age: float


def write(connection: psycopg.Connection[Any], messages: Sequence[OutgoingMessage]) -> None:
    """Add ``messages`` to the outbox in the connection's current transaction."""
    with connection.cursor() as cursor:
        cursor.executemany(_INSERT, [(m.topic, m.key, m.value, Jsonb(dict(m.headers))) for m in messages])


def claim(connection: psycopg.Connection[Any], limit: int) -> Claimed:
    """Lock up to ``limit`` publishable rows, oldest first, for the current transaction."""
    rows = connection.execute(_CLAIM, (limit,)).fetchall()
    return Claimed(
        [r[0] for r in rows],
        [OutgoingMessage(topic, bytes(value), key, headers) for _, topic, key, value, headers in rows],
    )


def mark_published(connection: psycopg.Connection[Any], ids: Sequence[int]) -> None:
    connection.execute(_MARK, (list(ids),))


def prune(connection: psycopg.Connection[Any], retention: float) -> int:
    """Delete rows published more than ``retention`` seconds ago; the number deleted."""
    return connection.execute(_PRUNE, (retention,)).rowcount


def backlog(connection: psycopg.Connection[Any]) -> Backlog:
    row = connection.execute(_BACKLOG).fetchone()
    assert row is not None  # nosec B101 # narrows a type for mypy
    return Backlog(int(row[0]), float(row[1]))
