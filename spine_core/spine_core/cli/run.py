"""``spine run``: serve an app, as ``python -m`` of its module would."""

from __future__ import annotations

import logging

import click

from ..errors import BootError
from ..ops.logs import configure_logging
from ..servers.base import NAMES
from ..workers import serve
from .targets import APP, OPTIONS, Target, load_options


@click.command(short_help="Serve an app.")
@click.argument("target", type=APP, metavar="MODULE:ATTR")
@OPTIONS
@click.option("--address", metavar="HOST:PORT", help="HTTP address, over SPINE_ADDRESS and the options.")
@click.option("--broker", metavar="NAME", help="Broker plugin, over SPINE_BROKER and the options.")
@click.option("--server", type=click.Choice(NAMES), help="HTTP server, over SPINE_SERVER and the options.")
@click.option("--workers", type=click.IntRange(min=1), help="Worker processes, over SPINE_WORKERS and the options.")
def run(
    target: Target, options_ref: str | None, address: str | None, broker: str | None, server: str | None,
    workers: int | None,
) -> None:
    """Serve the app until SIGINT or SIGTERM, then shut down gracefully."""
    options = load_options(
        target, options_ref, address=address, broker=broker, server=server, workers=str(workers or ""),
    )
    try:
        configure_logging()
        serve(target.app, options)
    except (BootError, OSError) as e:  # as Spine.run: a busy port or a wiring mistake is one line, status 2
        logging.getLogger("spine").error("cannot start: %s", e)
        raise SystemExit(2) from None
