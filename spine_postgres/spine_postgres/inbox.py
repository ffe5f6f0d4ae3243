"""The inbox table: the event ids a consumer has handled, recorded in the handler's transaction."""

from __future__ import annotations

from typing import Any

import psycopg

_CLAIM = "INSERT INTO spine_inbox (consumer, event_id) VALUES (%s, %s) ON CONFLICT DO NOTHING"


def claim(connection: psycopg.Connection[Any], consumer: str, event_id: str) -> bool:
    """Record ``event_id`` as handled by ``consumer`` in the current transaction; False if it
    already was. A concurrent transaction recording the same id makes this wait for its
    outcome (the primary key), so of two deliveries handled at once only one goes on."""
    return connection.execute(_CLAIM, (consumer, event_id)).rowcount == 1
