"""The brokers a soak runs over, each with a way to take it away and bring it back.

- ``kafka``: a private Tansu broker (in memory) on a free loopback port, stopped and started
  again on the same port; it comes back empty (no topics, no offsets).
- ``rabbitmq``: the machine's shared server, never stopped: the services reach it through a
  TCP proxy of the soak's own, which is cut (every connection closed, nothing listening) and
  restored. The server keeps its queues meanwhile.
- ``nats``: a private ``nats-server -js`` on a free loopback port, its streams on disk in a folder
  of the soak's own, stopped (SIGTERM) and started again on the same port and store: it comes back
  with its streams and consumers.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from typing import Protocol

import pika

from spine_kafka.tansu import TANSU_CONSUMER_SETTINGS, Tansu, TansuUnavailable, free_port
from spine_rabbitmq.config import DEFAULT_URL, queue_name

from .proxy import Proxy

TOPIC = "order.created"


class Broker(Protocol):
    name: str
    outage: str
    """How the broker is taken away, said in the soak's output."""
    keeps_messages: bool
    """False when what the broker holds is gone after it comes back (in-memory Tansu)."""

    def env(self) -> dict[str, str]:
        """``SPINE_*`` variables that put the seed's unchanged services on this broker."""

    def away(self) -> None:
        """Take the broker away from the services."""

    def back(self) -> None:
        """Bring it back."""

    def close(self) -> None:
        """Stop what the soak started and delete what it declared."""


def _names() -> tuple[str, str]:
    run = uuid.uuid4().hex[:8]
    return f"soak{run}.", f"soak{run}-stock"


class Kafka:
    """A private in-memory Tansu broker; ``away`` stops it, ``back`` starts a new one on the same port."""

    name = "kafka"
    outage = "Tansu stopped and started again on the same port (in memory: it comes back without topics)"
    keeps_messages = False

    def __init__(self) -> None:
        self.prefix, self.group = _names()
        self.port = free_port()
        self._tansu: Tansu | None = Tansu.start(port=self.port)

    def env(self) -> dict[str, str]:
        env = {"SPINE_BROKER": "kafka", "SPINE_KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{self.port}",
               "SPINE_KAFKA_TOPIC_PREFIX": self.prefix, "SPINE_KAFKA_GROUP_ID": self.group}
        for key, value in TANSU_CONSUMER_SETTINGS.items():
            env["SPINE_KAFKA_" + key.upper().replace(".", "_")] = value
        return env

    def away(self) -> None:
        if self._tansu is not None:
            self._tansu.stop()
            self._tansu = None

    def back(self) -> None:
        deadline = time.monotonic() + 30
        while True:  # the port may linger for a moment after the old broker ended
            try:
                self._tansu = Tansu.start(port=self.port)
                return
            except TansuUnavailable:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def close(self) -> None:
        self.away()


class RabbitMQ:
    """The shared server behind a proxy of the soak's own; a fresh exchange, prefix and group."""

    name = "rabbitmq"
    outage = ("the shared RabbitMQ server stays up; the soak's TCP proxy in front of it is cut "
              "(connections closed, port not listening) and restored")
    keeps_messages = True

    def __init__(self) -> None:
        self.url = os.environ.get("SPINE_TEST_RABBITMQ_URL", DEFAULT_URL)
        self.prefix, self.group = _names()
        self.exchange = f"{self.prefix}orders"
        params = pika.URLParameters(self.url)
        self.credentials = f"{params.credentials.username}:{params.credentials.password}"
        pika.BlockingConnection(params).close()  # fail early, clearly, without a server
        self.proxy = Proxy((params.host, params.port))

    def env(self) -> dict[str, str]:
        return {"SPINE_BROKER": "rabbitmq", "SPINE_RABBITMQ_URL": self.proxy.url(self.credentials),
                "SPINE_RABBITMQ_EXCHANGE": self.exchange, "SPINE_RABBITMQ_TOPIC_PREFIX": self.prefix,
                "SPINE_RABBITMQ_GROUP_ID": self.group}

    def away(self) -> None:
        self.proxy.cut()

    def back(self) -> None:
        self.proxy.restore()

    def close(self) -> None:
        self.proxy.cut()
        connection = pika.BlockingConnection(pika.URLParameters(self.url))
        try:
            channel = connection.channel()
            topic = self.prefix + TOPIC
            for queue in (queue_name(self.group, topic), topic + ".dlq"):
                channel.queue_delete(queue)
            channel.exchange_delete(self.exchange)
        finally:
            connection.close()


class Nats:
    """A private ``nats-server -js`` storing on disk; ``away`` stops it, ``back`` starts it again on the
    same port and store."""

    name = "nats"
    outage = "a private nats-server -js stopped and started again on the same port and store (file storage)"
    keeps_messages = True
    SERVER = os.environ.get("SPINE_SOAK_NATS_SERVER", "nats-server")

    def __init__(self) -> None:
        if shutil.which(self.SERVER) is None:
            raise RuntimeError(f"{self.SERVER} is not installed (Debian: apt-get install nats-server)")
        self.prefix, self.group = _names()
        self.port = free_port()
        self.store = tempfile.mkdtemp(prefix="soak-nats-")
        self._proc: subprocess.Popen[bytes] | None = None
        self.back()

    def env(self) -> dict[str, str]:
        return {"SPINE_BROKER": "nats", "SPINE_NATS_URL": f"nats://127.0.0.1:{self.port}",
                "SPINE_NATS_TOPIC_PREFIX": self.prefix, "SPINE_NATS_GROUP_ID": self.group,
                "SPINE_NATS_ACK_WAIT": "5"}  # a killed stock service's messages go to the next one after 5 s

    def away(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            proc.terminate()
            proc.wait(30)

    def back(self) -> None:
        self._proc = subprocess.Popen([self.SERVER, "-js", "-a", "127.0.0.1", "-p", str(self.port), "-sd", self.store],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                if self._proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"nats-server did not start on port {self.port}") from None
                time.sleep(0.05)

    def close(self) -> None:
        self.away()
        shutil.rmtree(self.store, ignore_errors=True)


def open_broker(name: str) -> Broker:
    """The broker ``name`` (``kafka``, ``rabbitmq`` or ``nats``), started or connected."""
    if name == "kafka":
        return Kafka()
    if name == "rabbitmq":
        return RabbitMQ()
    if name == "nats":
        return Nats()
    raise ValueError(f"unknown broker {name!r}: use kafka, rabbitmq or nats")
