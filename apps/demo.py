"""``./dev demo``: run the seed scenario and show it working.

Starts the services, posts ``POST /orders/12345``, prints the answer and waits
until the stock service has logged ``OrderID: 12345``; then stops them.
``memory`` runs both services in one process (``python -m apps``).
"""

from __future__ import annotations

import argparse
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.request

ORDER_ID = 12345


class Process:
    """A service subprocess whose log lines are echoed and can be waited for."""

    def __init__(self, label: str, args: list[str], env: dict[str, str]) -> None:
        self.label = label
        self.lines: queue.Queue[str] = queue.Queue()
        self.proc = subprocess.Popen(
            [sys.executable, *args], env={**os.environ, **env},
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            print(f"[{self.label}] {line}", end="", flush=True)
            self.lines.put(line)

    def wait_for(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                if text in self.lines.get(timeout=left):
                    return
            except queue.Empty:
                break
        raise SystemExit(f"demo failed: {self.label} did not log {text!r} within {timeout}s")

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=30)


def post_order(url: str, timeout: float = 15.0) -> str:
    """POST the order, retrying only while the server is not listening yet."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(urllib.request.Request(url, method="POST"), timeout=15) as resp:
                return f"{resp.status} {resp.read().decode()}"
        except urllib.error.URLError as e:
            if not isinstance(e.reason, ConnectionRefusedError) or time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def demo_memory() -> None:
    services = Process("apps", ["-m", "apps"], {})
    try:
        services.wait_for("listening on http://0.0.0.0:8080", 30)
        print(f"$ curl -X POST http://localhost:8080/orders/{ORDER_ID}")
        print(post_order(f"http://127.0.0.1:8080/orders/{ORDER_ID}"))
        services.wait_for(f"OrderID: {ORDER_ID}", 10)
    finally:
        services.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("broker", nargs="?", default="memory", choices=["memory"])
    parser.parse_args()
    demo_memory()
    print("demo: the order reached the stock service")


if __name__ == "__main__":
    main()
