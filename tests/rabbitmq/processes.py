"""Service processes for the end-to-end tests: ``python -m <module>`` from the repository root,
with their log lines collected and waited on."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class ServiceProcess:
    """A running service; ``lines`` holds everything it logged so far."""

    def __init__(self, module: str, env: dict[str, str]) -> None:
        self.module = module
        self.lines: list[str] = []
        self._cond = threading.Condition()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", module], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), **env},
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        self._pump = threading.Thread(target=self._read, daemon=True)
        self._pump.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._cond:
                self.lines.append(line.rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def wait_for(self, pattern: str, timeout: float) -> re.Match[str]:
        """The first logged line matching ``pattern``; fails if none within ``timeout`` or the process ended."""
        regex = re.compile(pattern)

        def found() -> re.Match[str] | None:
            return next((m for line in self.lines if (m := regex.search(line))), None)

        with self._cond:
            self._cond.wait_for(lambda: found() is not None or not self._pump.is_alive(), timeout)
            match = found()
        if match is None:
            tail = "\n".join(self.lines[-20:])
            raise AssertionError(f"{self.module} did not log {pattern!r} within {timeout}s:\n{tail}")
        return match

    def wait_lines(self, predicate: Callable[[list[str]], bool], timeout: float) -> bool:
        """Wait until ``predicate(lines)`` holds (True) or ``timeout`` passed or the process ended."""
        with self._cond:
            return self._cond.wait_for(lambda: predicate(self.lines) or not self._pump.is_alive(), timeout) \
                and predicate(self.lines)

    def port(self, timeout: float = 30.0) -> int:
        return int(self.wait_for(r"listening on http://[^:]+:(\d+)", timeout).group(1))

    def terminate(self, timeout: float = 20.0) -> int:
        """SIGTERM and the exit code (graceful shutdown)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(10)
        self._pump.join(10)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.kill()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
