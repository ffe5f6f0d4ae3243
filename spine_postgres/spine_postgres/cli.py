"""``spine db init MODULE`` and ``spine relay MODULE``: commands the distribution adds to ``spine``."""

from __future__ import annotations

import logging

import click

from spine_core import BootError
from spine_core.broker import BrokerConfig
from spine_core.extension import (
    AppTarget, Target, configure_logging, create_broker, load_options, plugin_manager, wait_for_signal,
)

from .listen import Listener
from .plugin import Postgres, open_pool
from .relay import Relay

log = logging.getLogger("spine.postgres")
_APP = AppTarget()


def _extension(target: Target) -> Postgres:
    found = [e for e in target.app.extensions if isinstance(e, Postgres)]
    if not found:
        raise click.ClickException(
            f"{target.module.__name__}: the app has no Postgres extension (app.extend(Postgres(...)); "
            "the seed's apps add it when SPINE_POSTGRES_DSN is set)"
        )
    return found[0]


@click.group(short_help="PostgreSQL tables of an app.")
def db() -> None:
    """The tables of an app's Postgres extension."""


@db.command(short_help="Create the tables.")
@click.argument("target", type=_APP, metavar="MODULE:ATTR")
def init(target: Target) -> None:
    """Create spine_outbox, spine_inbox and the app's own tables if missing."""
    postgres = _extension(target)
    try:
        pool = open_pool(postgres.options, "spine-db-init")
    except BootError as e:
        raise click.ClickException(str(e)) from None
    try:
        postgres.create_tables(pool)
    finally:
        pool.close()
    click.echo(f"tables ready: spine_outbox, spine_inbox and {len(postgres.schema)} statement(s) of the app")


@click.command(short_help="Publish an app's outbox.")
@click.argument("target", type=_APP, metavar="MODULE:ATTR")
@click.option("--options", "options_ref", metavar="MODULE:ATTR",
              help="Options object or function returning one [default: the target module's 'options'].")
def relay(target: Target, options_ref: str | None) -> None:
    """Publish the app's outbox rows through its broker until SIGINT or SIGTERM.

    Run as many as you like: they share the rows. Set SPINE_POSTGRES_RELAY=0 on the
    service so that it does not run its own; it then notifies the relays at each commit
    that wrote rows (they also poll every relay_interval)."""
    postgres = _extension(target)
    options = load_options(target, options_ref)
    config = BrokerConfig.from_options(options)
    if config.write is None:
        raise click.ClickException("the app's broker options have no write options: it publishes nothing")
    configure_logging()
    try:
        hook = plugin_manager(create_broker(config), config.name).hook
        pool = open_pool(postgres.options, "spine-relay")
    except BootError as e:
        raise click.ClickException(str(e)) from None
    timeout = config.write.publish_timeout
    worker = Relay(
        pool, lambda messages: hook.spine_publish(messages=messages, timeout=timeout),
        batch=postgres.options.relay_batch, interval=postgres.options.relay_interval,
        retention=postgres.options.retention,
    )
    listener = Listener(postgres.options.dsn, worker.wake)
    try:
        hook.spine_broker_start()
        worker.start()
        listener.start()
        log.info("relaying the outbox through %s", config.name)
        wait_for_signal()
        listener.stop()
        worker.stop(options.shutdown_timeout)
    finally:
        hook.spine_broker_close(timeout=options.shutdown_timeout)
        pool.close()
    log.info("stopped")
