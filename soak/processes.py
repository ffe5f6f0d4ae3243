"""A service as its own process (``python -m <module>`` from the repository root): its log
lines, each with the soak time it arrived at, its HTTP port, its RSS, SIGKILL and SIGTERM."""

from __future__ import annotations

import contextlib
import ctypes
import re
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

from attrs import frozen

from .timeline import Timeline

ROOT = Path(__file__).resolve().parents[1]
PORT = re.compile(r"listening on http://[^:]+:(\d+)")


def _die_with_parent() -> None:
    """In the child: SIGKILL when the soak dies (Linux), so no service outlives it."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


@frozen
class Line:
    at: float
    text: str


class Service:
    """One run of a service; ``lines`` grows as it logs."""

    def __init__(self, module: str, env: dict[str, str], clock: Timeline, log: Path) -> None:
        self.module = module
        self.log = log
        """Where its output is copied, each line after the soak time it arrived at."""
        self.lines: list[Line] = []
        self._clock = clock
        self._cond = threading.Condition()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", module], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )
        self._pump = threading.Thread(target=self._read, name=f"soak-{module}", daemon=True)
        self._pump.start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _read(self) -> None:
        assert self.proc.stdout is not None
        with self.log.open("w") as copy:
            for text in self.proc.stdout:
                line = Line(self._clock.now(), text.rstrip("\n"))
                copy.write(f"[{line.at:7.2f}s] {line.text}\n")
                with self._cond:
                    self.lines.append(line)
                    self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def wait_for(self, pattern: re.Pattern[str], timeout: float) -> re.Match[str]:
        """The first logged line matching ``pattern``; RuntimeError if none within ``timeout``
        or the process ended."""
        def found() -> re.Match[str] | None:
            return next((m for line in self.lines if (m := pattern.search(line.text))), None)

        with self._cond:
            self._cond.wait_for(lambda: found() is not None or not self._pump.is_alive(), timeout)
            match = found()
        if match is None:
            tail = "\n".join(line.text for line in self.lines[-20:])
            raise RuntimeError(f"{self.module} did not log {pattern.pattern!r} within {timeout}s:\n{tail}")
        return match

    def port(self, timeout: float = 30.0) -> int:
        return int(self.wait_for(PORT, timeout).group(1))

    def ready(self) -> bool | None:
        """``GET /health/ready``: True for 200, False for 503, None when it does not answer."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port(0)}/health/ready", timeout=2) as response:
                return bool(response.status == 200)
        except urllib.error.HTTPError as e:
            return False if e.code == 503 else None
        except (OSError, RuntimeError):
            return None

    def rss_mb(self) -> float | None:
        """Resident memory in MiB (Linux), None when the process is gone."""
        try:
            status = Path(f"/proc/{self.pid}/status").read_text()
        except OSError:
            return None
        found = re.search(r"VmRSS:\s+(\d+) kB", status)
        return int(found.group(1)) / 1024 if found else None

    def kill(self) -> None:
        """SIGKILL, and wait until it is gone and its output read."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)
        self._pump.join(10)

    def terminate(self, timeout: float) -> int | None:
        """SIGTERM (graceful shutdown); the exit code, or None if it had to be killed after ``timeout``."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code: int | None = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            code = None
        self.kill()
        return code

    def errors(self) -> int:
        """How many ERROR lines it logged."""
        return sum(" ERROR " in line.text for line in list(self.lines))
