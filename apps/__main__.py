"""``python -m apps``: both services in one process on the in-memory broker, no Kafka needed."""

from __future__ import annotations

from attrs import evolve

from spine_core import Options
from spine_core.logs import configure_logging
from spine_core.runtime import Runtime
from spine_core.serve import Service, run_until_signal

from . import order_app, stock_app


def on_memory(options: Options) -> Options:
    return evolve(options, broker=evolve(options.broker, name="memory"))


configure_logging()
run_until_signal([
    Service(Runtime(stock_app.create_app(), on_memory(stock_app.options()))),
    Service(Runtime(order_app.create_app(), on_memory(order_app.options()))),
])
