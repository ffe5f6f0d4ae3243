"""``python -m apps``: both services in one process on the in-memory broker, no Kafka needed.

The order service listens on ``SPINE_ADDRESS`` (default ``:8080``), the stock service on
the next port (``:8081``). A busy port stops it at once with one line, exit status 2.
"""

from __future__ import annotations

import logging
import os

from attrs import evolve

from spine_core import BootError, Options, Service, configure_logging, run_until_signal

from . import order_app, stock_app


def on_memory(options: Options, address: str) -> Options:
    return evolve(options, address=address, broker=evolve(options.broker, name="memory"))


def next_port(address: str) -> str:
    """``HOST:PORT`` one port up (``:0`` stays ``:0``, any free port)."""
    host, _, port = address.rpartition(":")
    return f"{host}:{int(port) + 1 if int(port) else 0}"


def main() -> None:
    address = os.environ.get("SPINE_ADDRESS", order_app.options().address)
    try:
        configure_logging()
        stock_address = next_port(address)
        run_until_signal([
            Service.of(stock_app.create_app(), on_memory(stock_app.options(), stock_address)),
            Service.of(order_app.create_app(), on_memory(order_app.options(), address)),
        ])
    except BootError as e:
        logging.getLogger("spine").error("cannot start: %s", e)
        raise SystemExit(2) from None


main()
