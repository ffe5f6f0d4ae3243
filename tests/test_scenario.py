"""The seed end to end: ``POST /orders/12345`` on the order service reaches the stock service."""

from __future__ import annotations

import json
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from apps import order_app, stock_app
from spine_memory.pytest_plugin import SpineAppFactory

ROOT = Path(__file__).resolve().parent.parent
DEADLINE = 20.0


def test_order_reaches_stock_in_one_process(spine_app: SpineAppFactory, caplog: pytest.LogCaptureFixture) -> None:
    """On one memory broker, the order service answers OK and the stock service logs the seed's lines."""
    stock = spine_app(stock_app.create_app(), stock_app.options())
    orders = spine_app(order_app.create_app(), order_app.options())
    with caplog.at_level(logging.INFO, logger="stock"):
        result = orders.client.simulate_post("/orders/12345")
        orders.broker.drain()
    assert (result.status_code, result.text) == (200, "OK")
    [message] = stock.broker.messages("order.created")
    event = json.loads(message.value)
    assert set(event) == {"order_id", "at"} and event["order_id"] == 12345
    assert message.key == "12345"
    lines = [r.getMessage() for r in caplog.records if r.name == "stock"]
    assert lines == ["Kafka Event: order.created", "OrderID: 12345"]


def test_bad_order_id_is_a_400_and_publishes_nothing(spine_app: SpineAppFactory) -> None:
    """``POST /orders/abc`` is a 400 JSON error and no event is published."""
    orders = spine_app(order_app.create_app(), order_app.options())
    result = orders.client.simulate_post("/orders/abc")
    assert result.status_code == 400
    assert "order_id" in result.json["message"]
    assert orders.broker.messages("order.created") == []


class Output:
    """A subprocess's output lines, read in a thread so the test can wait for one with a deadline."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.text = ""
        self._lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, args=(proc,), daemon=True).start()

    def _pump(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            self._lines.put(line)

    def wait_for(self, text: str) -> None:
        deadline = time.monotonic() + DEADLINE
        while text not in self.text:
            left = deadline - time.monotonic()
            try:
                assert left > 0
                self.text += self._lines.get(timeout=left)
            except (AssertionError, queue.Empty):
                raise AssertionError(f"{text!r} not logged within {DEADLINE}s; output:\n{self.text}") from None


def test_python_m_apps_runs_the_scenario() -> None:
    """``python -m apps`` answers ``POST /orders/12345`` with OK, logs the stock lines, and exits 0 on SIGTERM."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPINE_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "apps"], cwd=ROOT, env={**env, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        output = Output(proc)
        output.wait_for("listening on http://0.0.0.0:8080")
        request = urllib.request.Request("http://127.0.0.1:8080/orders/12345", method="POST")
        with urllib.request.urlopen(request, timeout=DEADLINE) as response:
            assert (response.status, response.read()) == (200, b"OK")
        output.wait_for("Kafka Event: order.created")
        output.wait_for("OrderID: 12345")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(DEADLINE) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
