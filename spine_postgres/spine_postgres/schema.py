"""The extension's tables, created by ``spine db init`` or at start, with the app's own statements."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg

TABLES = (
    """CREATE TABLE IF NOT EXISTS spine_outbox (
        id bigserial PRIMARY KEY,
        topic text NOT NULL,
        key text,
        value bytea NOT NULL,
        headers jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        published_at timestamptz
    )""",
    "CREATE INDEX IF NOT EXISTS spine_outbox_pending ON spine_outbox (id) WHERE published_at IS NULL",
    "CREATE INDEX IF NOT EXISTS spine_outbox_pending_key ON spine_outbox (key, id) WHERE published_at IS NULL",
    "CREATE INDEX IF NOT EXISTS spine_outbox_published ON spine_outbox (published_at) WHERE published_at IS NOT NULL",
    """CREATE TABLE IF NOT EXISTS spine_inbox (
        consumer text NOT NULL,
        event_id text NOT NULL,
        handled_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (consumer, event_id)
    )""",
)
_LOCK = "SELECT pg_advisory_xact_lock(hashtext('spine_postgres.schema'))"


def create_tables(connection: psycopg.Connection[Any], statements: Sequence[str] = ()) -> None:
    """Create ``spine_outbox``, ``spine_inbox`` and run the app's ``statements`` (idempotent
    ``CREATE ... IF NOT EXISTS``), in one transaction; concurrent callers wait for each other."""
    with connection.transaction():
        connection.execute(_LOCK)
        for statement in (*TABLES, *statements):
            connection.execute(statement)  # type: ignore[arg-type]  # our own and the app's DDL, not user input
