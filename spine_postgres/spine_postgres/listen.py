"""Wakes a relay in another process when a service commits outbox rows (LISTEN/NOTIFY)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import psycopg

log = logging.getLogger("spine.postgres.relay")

CHANNEL = "spine_outbox"
NOTIFY = "NOTIFY spine_outbox"
"""Sent in the transaction that wrote outbox rows: delivered to listeners at its commit."""


class Listener:
    """Calls ``wake`` for each notification on ``spine_outbox`` until ``stop``, on a
    connection of its own (reconnected after a failure; the relay's polling covers the gap)."""

    def __init__(self, dsn: str, wake: Callable[[], None], retry: float = 1.0) -> None:
        self._dsn = dsn
        self._wake = wake
        self._retry = retry
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="spine-outbox-listener", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(2.0)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                with psycopg.connect(self._dsn, autocommit=True, application_name="spine-relay-listen") as connection:
                    connection.execute(f"LISTEN {CHANNEL}")
                    log.info("listening for commits that wrote outbox rows")
                    while not self._stopping.is_set():
                        for _ in connection.notifies(timeout=0.5):
                            self._wake()
            except psycopg.Error as e:
                log.warning("outbox listener: %s: %s; polling only until it reconnects", type(e).__name__, e)
                self._stopping.wait(self._retry)
