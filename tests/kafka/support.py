"""Helpers of the Kafka tests: unique names, a raw confluent-kafka reader, service subprocesses."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from attrs import frozen
from confluent_kafka import OFFSET_BEGINNING, Consumer, Message, TopicPartition

from spine_kafka.tansu import TANSU_CONSUMER_SETTINGS

ROOT = Path(__file__).resolve().parents[2]

StartApp = Callable[..., Any]
"""The ``kafka_app`` fixture: ``kafka_app(app, options, **settings) -> Started``."""
DEADLINE = 30.0


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


@frozen
class Tick:
    """The event of the stream tests: ``n`` numbers it, ``key_`` spreads it over partitions."""

    n: int
    key_: str
    at: datetime

    def name(self) -> str:
        return "tick"

    def occurred_at(self) -> datetime:
        return self.at

    def key(self) -> str:
        return self.key_


def ticks(count: int, keys: int = 12) -> list[Tick]:
    now = datetime.now(timezone.utc)
    return [Tick(n, f"k{n % keys}", now) for n in range(count)]


def read_topic(bootstrap: str, topic: str, count: int, timeout: float = DEADLINE) -> list[Message]:
    """The first ``count`` messages of ``topic`` (all partitions), read without a consumer group."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": unique("raw"), "enable.auto.commit": False})
    try:
        deadline = time.monotonic() + timeout
        while True:
            metadata = consumer.list_topics(topic, timeout=5).topics.get(topic)
            if metadata is not None and metadata.error is None and metadata.partitions:
                break
            assert time.monotonic() < deadline, f"topic {topic} does not exist"
            time.sleep(0.1)
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in metadata.partitions])
        messages: list[Message] = []
        while len(messages) < count and time.monotonic() < deadline:
            for m in consumer.consume(count - len(messages), timeout=0.2):
                assert m.error() is None, m.error()
                messages.append(m)
        assert len(messages) >= count, f"{topic}: {len(messages)} of {count} message(s) within {timeout}s"
        return messages
    finally:
        consumer.close()


def headers_of(message: Message) -> dict[str, str]:
    raw = message.headers() or []
    items = raw.items() if isinstance(raw, dict) else raw
    return {k: v.decode() if isinstance(v, bytes) else v or "" for k, v in items}


def kafka_env(bootstrap: str, **spine: str) -> dict[str, str]:
    """The environment of a service subprocess on the test broker: ``SPINE_*`` of the test only."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPINE_")}
    env.update(PYTHONUNBUFFERED="1", SPINE_BROKER="kafka", SPINE_KAFKA_BOOTSTRAP_SERVERS=bootstrap)
    for key, value in TANSU_CONSUMER_SETTINGS.items():
        env["SPINE_KAFKA_" + key.upper().replace(".", "_")] = value
    env.update(spine)
    return env


class ServiceProcess:
    """A service subprocess whose output is collected so that a test can wait for a line."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, *args], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        self.output = ""
        self._lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line)

    def wait_for(self, pattern: str, timeout: float = DEADLINE) -> re.Match[str]:
        """The first match of the regular expression ``pattern`` in the output, waited for."""
        deadline = time.monotonic() + timeout
        while (found := re.search(pattern, self.output)) is None:
            try:
                self.output += self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"{pattern!r} not logged within {timeout}s; output:\n{self.output}") from None
        return found

    def read_output(self) -> str:
        """Everything logged so far (without waiting)."""
        while True:
            try:
                self.output += self._lines.get_nowait()
            except queue.Empty:
                return self.output

    def assignment(self) -> set[str] | None:
        """The partitions the service's consumer holds now, per its last ``assigned``/``revoked`` line."""
        events = re.findall(r"kafka group \S+: (assigned|revoked) (.*)", self.read_output())
        if not events or events[-1][0] != "assigned":
            return None
        return set(events[-1][1].split(", "))

    def http_port(self) -> int:
        return int(self.wait_for(r"listening on http://[\d.]+:(\d+)").group(1))

    def terminate(self, timeout: float = DEADLINE) -> int:
        """SIGTERM, then the exit code (killed after ``timeout``)."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        finally:
            self.kill()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``predicate()`` every 20 ms until true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out after {timeout}s waiting for {what}"
        time.sleep(0.02)
