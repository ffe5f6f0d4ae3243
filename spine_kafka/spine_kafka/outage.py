"""One account of a cluster that is away, instead of librdkafka's line per refused connection.

librdkafka logs every failed connection attempt of every client (about 20 a second
with a consumer, a producer and an admin client). While the cluster is away the
plugin logs one line when it goes, a reminder at most every ``REMIND_INTERVAL``
seconds, and one line when it answers again.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

log = logging.getLogger("spine.kafka")

REMIND_INTERVAL = 30.0
SETTLE_TIME = 5.0
"""Failures this soon after the cluster answered again are the last clients' stale attempts,
not a new outage (each client retries on its own backoff)."""


class Outage:
    """Whether the cluster is away; thread-safe. ``failed`` and ``ok`` report what a client saw."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._since: float | None = None
        self._reminded = 0.0
        self._back = float("-inf")

    def failed(self, detail: str) -> None:
        now = time.monotonic()
        with self._lock:
            if self._since is None:
                if now - self._back < SETTLE_TIME:
                    return
                self._since = self._reminded = now
                log.error("kafka cluster unreachable: %s; retrying (reminder every %.0fs)", detail, REMIND_INTERVAL)
            elif now - self._reminded >= REMIND_INTERVAL:
                self._reminded = now
                log.error("kafka cluster still unreachable after %.0fs: %s", now - self._since, detail)

    def ok(self) -> None:
        with self._lock:
            if self._since is None:
                return
            self._back = time.monotonic()
            away, self._since = self._back - self._since, None
        log.warning("kafka cluster reachable again after %.1fs", away)

    def logger(self, name: str) -> ClientLog:
        """The ``logger`` for a librdkafka client: connection failures go to this outage."""
        return ClientLog(self, logging.getLogger(name))


class ClientLog:
    """What confluent-kafka calls as ``logger.log(level, "%s [%s] %s", facility, client, text)``."""

    def __init__(self, outage: Outage, logger: logging.Logger) -> None:
        self._outage = outage
        self._logger = logger

    def log(self, level: int, msg: str, *args: Any) -> None:
        if len(args) == 3 and args[0] == "FAIL" and level >= logging.ERROR:
            self._outage.failed(str(args[2]))
        else:
            self._logger.log(level, msg, *args)
