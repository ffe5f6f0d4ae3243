"""The ``spine`` group: Spine's own commands, then those plugins add (the ``spine.commands`` entry points)."""

from __future__ import annotations

from importlib.metadata import entry_points

from typing import Any

import click

from ..toolkit.redact import redact
from .contracts import asyncapi, contracts, openapi
from .dlq import dlq
from .lists import consumers, list_plugins, routes
from .run import run


class SpineGroup(click.Group):
    """The ``spine`` group: every error a command reports is shown with its secrets masked."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.ClickException as e:
            setattr(e, "message", redact(e.message))  # noqa: B010 (click types it Final; it is what is shown)
            raise


@click.group(name="spine", cls=SpineGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="spine-core", prog_name="spine")
def cli() -> None:
    """Run and inspect Spine apps. MODULE:ATTR names an app or a function returning one."""


for _command in (run, routes, consumers, list_plugins, asyncapi, openapi, contracts, dlq):
    cli.add_command(_command)


def main() -> None:
    """Entry point of the ``spine`` console script; plugins add commands (click commands
    named in the ``spine.commands`` entry-point group)."""
    for ep in entry_points(group="spine.commands"):
        try:
            cli.add_command(ep.load(), ep.name)
        except Exception as e:  # a broken plugin costs its own command, not the others
            text = f"spine: command {ep.name!r} of {ep.value} not loaded: {type(e).__name__}: {e}"
            click.echo(redact(text), err=True)
    cli(prog_name="spine")
