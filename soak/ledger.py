"""What the stock service handled: the order ids of its ``OrderID: N`` lines, across all its runs."""

from __future__ import annotations

import re
import threading
from collections import Counter
from typing import Protocol

from .processes import Line

ORDER_ID = re.compile(r"OrderID: (\d+)")


class Logged(Protocol):
    """A service run's log lines so far (a :class:`~soak.processes.Service`)."""

    @property
    def lines(self) -> list[Line]: ...


class Handled:
    """Order ids logged by the stock service's runs, with the soak time each was first seen."""

    def __init__(self) -> None:
        self.first_seen: dict[int, float] = {}
        self.times: list[tuple[float, int, int]] = []
        """(soak time, order id, run) of every handling, duplicates included; runs count from 1."""
        self.counts: Counter[int] = Counter()
        self.runs: list[Logged] = []
        self._read: dict[int, int] = {}
        self._lock = threading.Lock()

    def add_run(self, service: Logged) -> None:
        with self._lock:
            self.runs.append(service)
            self._read[id(service)] = 0

    def update(self) -> None:
        """Read the lines logged since the last call."""
        with self._lock:
            for number, run in enumerate(self.runs, 1):
                lines = run.lines[self._read[id(run)]:]
                self._read[id(run)] += len(lines)
                for line in lines:
                    if (m := ORDER_ID.search(line.text)) is None:
                        continue
                    order_id = int(m.group(1))
                    self.counts[order_id] += 1
                    self.times.append((line.at, order_id, number))
                    self.first_seen.setdefault(order_id, line.at)

    def missing(self, ids: set[int]) -> set[int]:
        """Those of ``ids`` not handled yet."""
        self.update()
        with self._lock:
            return ids - self.first_seen.keys()
