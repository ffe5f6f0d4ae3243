"""The relay: publishes outbox rows through the broker, with confirmation, then marks them published."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from time import monotonic, perf_counter
from typing import Any

from psycopg_pool import ConnectionPool

from spine_core.broker import OutgoingMessage

from . import outbox

log = logging.getLogger("spine.postgres.relay")

Publish = Callable[[Sequence[OutgoingMessage]], None]
"""Hands messages to the broker and returns once it confirmed every one (else raises)."""
Observe = Callable[[Sequence[OutgoingMessage], bool, float], None]

MAX_BACKOFF = 5.0
PRUNE_EVERY = 60.0


class Relay:
    """Publishes the outbox in batches on a thread of its own until ``stop``.

    Each batch is one transaction: claim rows (``FOR UPDATE SKIP LOCKED``, so relays in
    other processes take other rows), publish them, mark them published, commit. A relay
    that dies before the commit leaves its rows unpublished: another relay (or this one,
    restarted) publishes them again. Published rows older than ``retention`` are deleted.
    """

    def __init__(
        self,
        pool: ConnectionPool[Any],
        publish: Publish,
        *,
        batch: int = 100,
        interval: float = 0.5,
        retention: float = 3600.0,
        observe: Observe | None = None,
    ) -> None:
        self._pool = pool
        self._publish = publish
        self._batch = batch
        self._interval = interval
        self._retention = retention
        self._observe = observe
        self._wakeup = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._pruned_at = 0.0

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="spine-outbox-relay", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Look at the outbox now (a handler just committed rows)."""
        self._wakeup.set()

    def stop(self, timeout: float) -> None:
        """Finish the batch in flight (within ``timeout`` seconds) and stop."""
        self._stopping.set()
        self._wakeup.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run(self) -> None:
        """Relay until ``stop``: batches back to back while rows are waiting, else every
        ``interval`` or when woken; after a failure, back off up to 5 s."""
        delay = self._interval
        while not self._stopping.is_set():
            try:
                published = self.relay_batch()
                self._prune()
                delay = self._interval
            except Exception as e:
                log.warning("outbox relay failed: %s: %s; retrying in %.1fs", type(e).__name__, e, delay)
                self._stopping.wait(delay)
                delay = min(delay * 2, MAX_BACKOFF)
                continue
            if published < self._batch:
                self._wakeup.wait(self._interval)
                self._wakeup.clear()

    def relay_batch(self) -> int:
        """Publish one batch; the number of rows published (raises if the broker refused)."""
        with self._pool.connection() as connection, connection.transaction():
            claimed = outbox.claim(connection, self._batch)
            if not claimed.ids:
                return 0
            started = perf_counter()
            try:
                self._publish(claimed.messages)
            except Exception:
                self._count(claimed.messages, False, started)
                raise
            self._count(claimed.messages, True, started)
            outbox.mark_published(connection, claimed.ids)
        return len(claimed.ids)

    def _count(self, messages: Sequence[OutgoingMessage], ok: bool, started: float) -> None:
        if self._observe is not None:
            self._observe(messages, ok, perf_counter() - started)

    def _prune(self) -> None:
        if monotonic() - self._pruned_at < PRUNE_EVERY:
            return
        with self._pool.connection() as connection:
            deleted = outbox.prune(connection, self._retention)
        self._pruned_at = monotonic()
        if deleted:
            log.info("deleted %d outbox row(s) published over %.0fs ago", deleted, self._retention)
