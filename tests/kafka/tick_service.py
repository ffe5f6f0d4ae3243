"""A consumer service for the Kafka process tests: ``python tests/kafka/tick_service.py RECORD``.

Consumes ``tick`` (group and broker from ``SPINE_*``), sleeps ``TICK_DELAY`` seconds per
event, then appends ``<n>`` to the RECORD file: a line means the handler finished.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from support import Tick  # type: ignore[import-not-found]  # noqa: E402

from spine_core import BrokerOptions, Options, ReadOptions, Spine  # noqa: E402

RECORD = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND | os.O_CREAT)
DELAY = float(os.environ.get("TICK_DELAY", "0"))


def on_tick(event: Tick) -> None:
    time.sleep(DELAY)
    os.write(RECORD, f"{event.n}\n".encode())


app = Spine()
app.consumers().register("tick", on_tick)
app.run(Options(http=None, broker=BrokerOptions(name="kafka", read=ReadOptions(group_id="ticks"))))
