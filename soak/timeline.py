"""The soak's clock and its record of what happened when."""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO

from attrs import frozen


@frozen
class Entry:
    at: float
    """Seconds since the soak started."""
    text: str


class Timeline:
    """Timestamped events, printed as they happen (to ``out``) and kept for the report."""

    def __init__(self, out: TextIO | None = sys.stdout) -> None:
        self.started = time.monotonic()
        self.entries: list[Entry] = []
        self._out = out
        self._lock = threading.Lock()

    def now(self) -> float:
        """Seconds since the soak started."""
        return time.monotonic() - self.started

    def note(self, text: str, at: float | None = None) -> float:
        """Record ``text`` at ``at`` (now by default); returns that time."""
        entry = Entry(self.now() if at is None else at, text)
        with self._lock:
            self.entries.append(entry)
            if self._out is not None:
                print(f"[{entry.at:7.2f}s] {text}", file=self._out, flush=True)
        return entry.at

    def render(self) -> str:
        with self._lock:
            entries = sorted(self.entries, key=lambda e: e.at)
        return "\n".join(f"  {e.at:7.2f}s  {e.text}" for e in entries)
