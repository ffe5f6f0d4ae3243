"""At-least-once delivery with real consumer processes: killed, shared, shut down under load."""

from __future__ import annotations

from pathlib import Path

import pytest
from broker_checks import ServiceProcess
from confluent_kafka import Producer

from spine_core.event import encode
from spine_core.testing import wait_until

from .support import assignment, kafka_env, ticks, unique

STREAM = 400


@pytest.fixture
def stream(kafka_bootstrap_servers: str, tmp_path: Path) -> Stream:
    return Stream(kafka_bootstrap_servers, tmp_path)


class Stream:
    """Tick consumers (``tick_service.py``) of one group and topic prefix, and the ticks sent to them."""

    def __init__(self, bootstrap: str, tmp_path: Path) -> None:
        self.bootstrap = bootstrap
        self.tmp_path = tmp_path
        self.prefix = unique("stream") + "."
        self.group = unique("ticks")
        self.services: list[ServiceProcess] = []

    def start(self, name: str, delay: float) -> ServiceProcess:
        """Start a consumer recording into ``<name>.txt``; return once it holds partitions."""
        env = kafka_env(self.bootstrap, SPINE_KAFKA_TOPIC_PREFIX=self.prefix, SPINE_KAFKA_GROUP_ID=self.group,
                        TICK_DELAY=str(delay))
        service = ServiceProcess([str(Path(__file__).with_name("tick_service.py")), str(self.record(name))], env)
        self.services.append(service)
        service.wait_for(r"assigned .*tick\[")
        return service

    def record(self, name: str) -> Path:
        return self.tmp_path / f"{name}.txt"

    def handled(self, *names: str) -> list[int]:
        """Every tick number recorded by the named consumers, duplicates included."""
        paths = [self.record(n) for n in names]
        return [int(line) for p in paths if p.exists() for line in p.read_text().split()]

    def publish(self, count: int) -> None:
        producer = Producer({"bootstrap.servers": self.bootstrap, "enable.idempotence": True})
        for tick in ticks(count):
            producer.produce(self.prefix + "tick", encode(tick), key=tick.key_.encode(),
                             headers=[("event-name", b"tick")])
        assert producer.flush(30) == 0

    def close(self) -> None:
        for service in self.services:
            service.kill()


def test_sigkill_mid_stream_then_restart_handles_everything(stream: Stream) -> None:
    """A consumer killed with SIGKILL in the middle of a stream loses nothing: after a restart
    every message has been handled at least once."""
    try:
        first = stream.start("first", delay=0.02)
        stream.publish(STREAM)
        wait_until(lambda: len(stream.handled("first")) >= STREAM // 4, 30, "a quarter of the stream")
        first.proc.kill()
        first.proc.wait()
        before = len(stream.handled("first"))
        assert before < STREAM, "the stream was over before the kill"
        stream.start("second", delay=0)
        wait_until(lambda: set(stream.handled("first", "second")) == set(range(STREAM)), 30, "every tick")
    finally:
        stream.close()


def test_two_instances_share_without_overlap(stream: Stream) -> None:
    """Two consumer processes of one group split a stream: none handled by both, none lost."""
    try:
        a = stream.start("a", delay=0.002)
        b = stream.start("b", delay=0.002)
        every = {f"{stream.prefix}tick[{p}]" for p in range(3)}

        def shared() -> bool:
            held_a, held_b = assignment(a), assignment(b)
            return held_a is not None and held_b is not None and not held_a & held_b and held_a | held_b == every

        wait_until(shared, 30, "the partitions to be split between both instances")
        stream.publish(STREAM)
        wait_until(lambda: len(stream.handled("a", "b")) >= STREAM, 30, "every tick")
        a_ids, b_ids = stream.handled("a"), stream.handled("b")
        assert sorted(a_ids + b_ids) == list(range(STREAM)), "a tick was lost or handled twice"
        assert a_ids and b_ids, "one instance got nothing"
    finally:
        stream.close()


def test_graceful_shutdown_under_load_loses_and_repeats_nothing(stream: Stream) -> None:
    """SIGTERM while a stream is being handled: the process finishes what it started and exits 0;
    the next consumer handles the rest, and no message is handled twice."""
    try:
        first = stream.start("first", delay=0.02)
        stream.publish(STREAM)
        wait_until(lambda: len(stream.handled("first")) >= STREAM // 4, 30, "a quarter of the stream")
        assert first.terminate(timeout=15) == 0
        assert len(stream.handled("first")) < STREAM, "the stream was over before the shutdown"
        stream.start("second", delay=0)
        wait_until(lambda: len(stream.handled("first", "second")) >= STREAM, 30, "every tick")
        assert sorted(stream.handled("first", "second")) == list(range(STREAM))
    finally:
        stream.close()
