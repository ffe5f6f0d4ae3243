"""Worker processes on Kafka: each worker is a member of the consumer group; SIGTERM stops all, exit 0."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

from broker_checks import ServiceProcess
from confluent_kafka import Producer

from spine_core.event import encode
from spine_core.testing import wait_until

from .support import kafka_env, ticks, unique

STREAM = 600

SERVICE = textwrap.dedent("""
    import os, sys, time
    sys.path.insert(0, os.path.join(os.getcwd(), "tests", "kafka"))
    from support import Tick
    from spine_core import BrokerOptions, Options, ReadOptions, Spine

    record = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND | os.O_CREAT)

    def on_tick(event: Tick) -> None:
        time.sleep(0.01)
        os.write(record, f"{event.n} {os.getpid()}\\n".encode())

    app = Spine()
    app.consumers().register("tick", on_tick)
    app.run(Options(http=None, broker=BrokerOptions(name="kafka", read=ReadOptions(group_id="ticks"))))
""")


def test_two_workers_are_two_group_members_and_stop_gracefully(kafka_bootstrap_servers: str, tmp_path: Path) -> None:
    """SPINE_WORKERS=2: both processes consume a share of one stream, every tick is handled;
    SIGTERM under load: the supervisor and both workers exit 0, and what was handled is not lost."""
    script, record = tmp_path / "service.py", tmp_path / "handled.txt"
    script.write_text(SERVICE)
    prefix = unique("workers") + "."
    env = kafka_env(kafka_bootstrap_servers, SPINE_KAFKA_TOPIC_PREFIX=prefix, SPINE_KAFKA_GROUP_ID=unique("ticks"),
                    SPINE_WORKERS="2")
    service = ServiceProcess([str(script), str(record)], env)
    try:
        every = {f"{prefix}tick[{p}]" for p in range(3)}

        def split() -> bool:
            """The last two assignments logged (one per worker) are disjoint and hold every partition."""
            held = [set(p.split(", ")) for p in re.findall(r"kafka group \S+: assigned (.*)", service.output)]
            return len(held) >= 2 and not held[-1] & held[-2] and held[-1] | held[-2] == every

        wait_until(split, 30, "the partitions to be split between both workers")

        def handled() -> list[tuple[int, int]]:
            lines = record.read_text().splitlines() if record.exists() else []
            return [(int(n), int(pid)) for n, pid in (line.split() for line in lines)]

        producer = Producer({"bootstrap.servers": kafka_bootstrap_servers, "enable.idempotence": True})
        for tick in ticks(STREAM):
            producer.produce(prefix + "tick", encode(tick), key=tick.key_.encode(), headers=[("event-name", b"tick")])
        assert producer.flush(30) == 0
        wait_until(lambda: {n for n, _ in handled()} == set(range(STREAM)), 60, "every tick handled")
        assert len({pid for _, pid in handled()}) == 2, "both workers consumed a share"
        assert service.terminate(timeout=30) == 0
        assert len(re.findall(r"spine: stopped", service.output)) == 3, "two workers and the supervisor"
    finally:
        service.kill()
