"""The steady stream of orders: ``POST /orders/N`` with N = 1, 2, 3, ... at a bounded rate,
from a few threads on keep-alive loopback connections; every answer is kept."""

from __future__ import annotations

import http.client
import threading
import time

from attrs import frozen

from .timeline import Timeline

TIMEOUT = 30.0
"""Longest wait for one answer (the order service answers 503 after its publish timeout)."""
REASON = 200
"""How much of a failed answer is kept."""


@frozen
class Answer:
    order_id: int
    sent: float
    answered: float
    status: int
    """The HTTP status; 0 when there was no answer (connection refused, reset, timed out)."""
    reason: str = ""
    """For any other status than 200: the start of the body, or the error when there was no answer."""


class OrderStream:
    """Sends orders to ``port`` at ``rate`` per second (fewer when every thread is waiting
    for an answer) until ``stop``; ``hold`` pauses it until ``resume``."""

    def __init__(self, port: int, rate: float, clock: Timeline, threads: int = 16) -> None:
        self.answers: list[Answer] = []
        self._port = port
        self._interval = 1.0 / rate
        self._clock = clock
        self._threads = [threading.Thread(target=self._send, name=f"soak-orders-{i}", daemon=True)
                         for i in range(threads)]
        self._lock = threading.Lock()
        self._next_id = 1
        self._next_at = 0.0
        self._in_flight = 0
        self._open = threading.Event()
        self._stopped = threading.Event()

    def start(self) -> None:
        self._next_at = time.monotonic()
        self._open.set()
        for thread in self._threads:
            thread.start()

    def hold(self, timeout: float) -> bool:
        """Send no new order; True once none is waiting for its answer (within ``timeout``)."""
        self._open.clear()
        deadline = time.monotonic() + timeout
        while self._in_flight and time.monotonic() < deadline:
            time.sleep(0.01)
        return not self._in_flight

    def resume(self) -> None:
        with self._lock:
            self._next_at = max(self._next_at, time.monotonic())
        self._open.set()

    def stop(self) -> None:
        """Send no more, and wait for the answers of those sent."""
        self._stopped.set()
        self._open.set()
        for thread in self._threads:
            thread.join(TIMEOUT + 5)

    def sent(self) -> int:
        return self._next_id - 1

    def _take(self) -> int | None:
        """The next order id, once it is due; None when stopped."""
        while not self._stopped.is_set():
            self._open.wait()
            with self._lock:
                if self._stopped.is_set():
                    return None
                if not self._open.is_set():
                    continue
                wait = self._next_at - time.monotonic()
                if wait <= 0:
                    order_id, self._next_id = self._next_id, self._next_id + 1
                    self._next_at += self._interval
                    self._in_flight += 1
                    return order_id
            time.sleep(min(wait, 0.05))
        return None

    def _send(self) -> None:
        conn: http.client.HTTPConnection | None = None
        while (order_id := self._take()) is not None:
            sent = self._clock.now()
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", self._port, timeout=TIMEOUT)
                conn.request("POST", f"/orders/{order_id}", body=b"")
                response = conn.getresponse()
                body = response.read()
                status = response.status
                reason = "" if status == 200 else body[:REASON].decode(errors="replace")
            except (OSError, http.client.HTTPException) as e:
                status, reason = 0, f"{type(e).__name__}: {e}"[:REASON]
                if conn is not None:
                    conn.close()
                conn = None
            answer = Answer(order_id, sent, self._clock.now(), status, reason)
            with self._lock:
                self.answers.append(answer)
                self._in_flight -= 1
        if conn is not None:
            conn.close()
