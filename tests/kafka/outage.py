"""A private Tansu that a test stops and starts again on the same port (an outage of its own)."""

from __future__ import annotations

from attrs import evolve

from spine_core.options import BrokerConfig
from spine_kafka import KafkaPlugin
from spine_kafka.tansu import TANSU_CONSUMER_SETTINGS, Tansu


class TansuOutage:
    """A private Tansu on a fixed port, stopped and started again there (it comes back empty:
    Tansu keeps its topics in memory)."""

    def __init__(self) -> None:
        self.tansu: Tansu | None = Tansu.start()
        self.port = self.tansu.port

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    def make_broker(self, config: BrokerConfig) -> KafkaPlugin:
        settings = {"bootstrap.servers": self.bootstrap_servers, **TANSU_CONSUMER_SETTINGS}
        return KafkaPlugin(evolve(config, settings=settings))

    def down(self) -> None:
        if self.tansu is not None:
            self.tansu.stop()
            self.tansu = None

    def up(self) -> None:
        if self.tansu is None:
            self.tansu = Tansu.start(port=self.port)
