"""One account of a server that is away, instead of a line per failed attempt.

Client libraries reconnect by themselves and often log every attempt (librdkafka about
20 lines a second, pika eight per attempt). A plugin reports what its clients see to
an :class:`Outage` instead: one line when the server goes, a reminder at most every
``REMIND_EVERY`` seconds while it stays away, one line when it is back, and the last
error as text for the plugin's health.
"""

from __future__ import annotations

import logging
import threading
import time

from .redact import redact

REMIND_EVERY = 30.0
"""Seconds between two reminders that the server is still away."""


def error_text(error: BaseException | str) -> str:
    """An error in one line, with its type (many client errors have an empty ``str``), secrets
    masked (:func:`~spine_core.toolkit.redact.redact`)."""
    if isinstance(error, str):
        return redact(error)
    text = str(error) or repr(error)
    name = type(error).__name__
    return redact(text if name in text else f"{name}: {text}")


class Outage:
    """Whether ``server`` is away, as the plugin's clients report it; thread-safe.

    ``who`` starts each line (a connection or a consumer group; empty: nothing). Lines
    go to ``log``: the start and the reminders at ``level``, the end at WARNING.
    Failures within ``settle`` seconds after the server came back are ignored: they
    are the last stale attempts of clients that retry on their own backoff.
    """

    def __init__(self, server: str, log: logging.Logger, *, who: str = "", level: int = logging.WARNING,
                 settle: float = 0.0) -> None:
        self.server = server
        self.error = ""
        """Why the server is away (empty while it is not): for the plugin's health."""
        self._log = log
        self._prefix = f"{who}: " if who else ""
        self._level = level
        self._settle = settle
        self._lock = threading.Lock()
        self._since: float | None = None
        self._reminded = 0.0
        self._back = float("-inf")

    @property
    def away(self) -> bool:
        """Whether an outage is going on."""
        return self._since is not None

    def down(self, error: BaseException | str) -> None:
        """A client could not reach the server: the first report logs that it is away, later
        ones a reminder at most every ``REMIND_EVERY`` seconds."""
        detail, now = error_text(error), time.monotonic()
        with self._lock:
            since = self._since
            if since is None:
                if now - self._back < self._settle:
                    return
                self._since = self._reminded = now
            elif now - self._reminded >= REMIND_EVERY:
                self._reminded = now
            else:
                self.error = detail
                return
            self.error = detail
        if since is None:
            self._log.log(self._level, "%s%s unreachable (%s); retrying, a reminder every %.0fs",
                          self._prefix, self.server, detail, REMIND_EVERY)
        else:
            self._log.log(self._level, "%s%s still unreachable after %.0fs (%s)",
                          self._prefix, self.server, now - since, detail)

    def lost(self, error: BaseException | str) -> None:
        """A connection that was open broke: logged at once, and the outage begins (a reconnection
        that fails is a reminder, one that succeeds ends it)."""
        detail, now = error_text(error), time.monotonic()
        with self._lock:
            if self._since is not None:
                return
            self._since = self._reminded = now
            self.error = detail
        self._log.warning("%sconnection to %s lost (%s); reconnecting", self._prefix, self.server, detail)

    def up(self) -> None:
        """A client reached the server: the end of the outage is logged, if there was one."""
        if self._since is not None:  # PERF: called after every confirmed publish; no lock when nothing is away
            self._back_again()

    def _back_again(self) -> None:
        with self._lock:
            if self._since is None:  # another thread logged the return meanwhile
                return
            self._back = time.monotonic()
            away, self._since, self.error = self._back - self._since, None, ""
        self._log.warning("%s%s reachable again after %.1fs", self._prefix, self.server, away)
