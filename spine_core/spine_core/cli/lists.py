"""``spine routes``, ``spine consumers`` and ``spine plugins``: what an app and this installation hold."""

from __future__ import annotations

import click

from .. import plugins
from .targets import APP, OPTIONS, Target, load_options, name_of, table


@click.command(short_help="List HTTP routes.")
@click.argument("target", type=APP, metavar="MODULE:ATTR")
@OPTIONS
def routes(target: Target, options_ref: str | None) -> None:
    """Print the HTTP routes: method, path, handler, interceptors."""
    http = load_options(target, options_ref).http
    if http is None:
        click.echo("no HTTP: the options' http is None", err=True)
        return
    shared = target.app.interceptors
    rows = [
        [r.method, r.template(http.global_prefix), name_of(r.handler),
         ", ".join(name_of(i) for i in [*shared, *r.interceptors]) or "-"]
        for r in target.app.routes
    ]
    table(["METHOD", "PATH", "HANDLER", "INTERCEPTORS"], rows)


@click.command(short_help="List consumed topics.")
@click.argument("target", type=APP, metavar="MODULE:ATTR")
@OPTIONS
def consumers(target: Target, options_ref: str | None) -> None:
    """Print the consumed topics (with the topic prefix): group, handler, interceptors."""
    broker = load_options(target, options_ref).broker
    group = broker.read.group_id if broker.read is not None else "- (no read options)"
    registry = target.app.consumer_registry
    rows = [
        [broker.topic_prefix + reg.topic, group, name_of(reg.handler),
         ", ".join(name_of(i) for i in [*registry.interceptors, *reg.interceptors]) or "-"]
        for reg in registry.registrations.values()
    ]
    table(["TOPIC", "GROUP", "HANDLER", "INTERCEPTORS"], rows)


@click.command(name="plugins", short_help="List broker plugins.")
def list_plugins() -> None:
    """Print the installed broker plugins (entry points of group 'spine')."""
    rows = []
    for name, ep in sorted(plugins.installed().items()):
        dist = ep.dist
        rows.append([name, dist.name if dist else "?", dist.version if dist else "?", ep.value])
    table(["NAME", "DISTRIBUTION", "VERSION", "OBJECT"], rows)
