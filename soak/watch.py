"""Readiness of the services, polled through the soak; every change goes on the timeline."""

from __future__ import annotations

import threading
from collections.abc import Callable

from .processes import Service
from .timeline import Timeline

INTERVAL = 0.5
WORDS = {True: "200 (ready)", False: "503 (not ready)", None: "no answer"}


class ReadinessWatch:
    """Polls ``GET /health/ready`` of the services ``current()`` returns (by label)."""

    def __init__(self, current: Callable[[], dict[str, Service]], clock: Timeline) -> None:
        self._current = current
        self._clock = clock
        self._last: dict[str, bool | None] = {}
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="soak-readiness", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(10)

    def _run(self) -> None:
        while not self._stopped.wait(INTERVAL):
            for label, service in self._current().items():
                state = service.ready()
                if label in self._last and self._last[label] == state:
                    continue
                self._last[label] = state
                self._clock.note(f"{label} readiness: {WORDS[state]}")
