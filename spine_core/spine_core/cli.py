"""The ``spine`` command: run an app, list its routes and consumers, list the broker plugins.

``MODULE:ATTR`` names a :class:`~spine_core.Spine` app or a function returning
one (``apps.order_app:create_app``); a bare ``MODULE`` means its ``app`` or
``create_app``. The options are ``--options MODULE:ATTR`` (an ``Options`` or a
function returning one) or else the target module's own ``options`` attribute,
else ``Options()``; the ``SPINE_*`` environment is applied over them, and
``--address`` / ``--broker`` over that. So ``spine run apps.order_app:create_app``
serves exactly what ``python -m apps.order_app`` serves.
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys
from collections.abc import Sequence
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any

import click
from attrs import frozen

from . import plugins
from .app import Spine
from .errors import BootError
from .logs import configure_logging
from .options import Options
from .servers import NAMES
from .workers import serve

_MISSING = object()


@frozen
class Target:
    """A resolved ``MODULE:ATTR``: the module and the app it names."""

    module: ModuleType
    app: Spine


def _import(module_name: str) -> ModuleType:
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())  # as `python -m` does: apps in the working directory are found
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        if e.name and (module_name == e.name or module_name.startswith(e.name + ".")):
            raise ValueError(f"no module named {e.name!r}") from None
        raise ValueError(f"importing {module_name!r} failed: {e}") from None
    except Exception as e:
        raise ValueError(f"importing {module_name!r} failed: {type(e).__name__}: {e}") from None


def _resolve(text: str, defaults: Sequence[str]) -> tuple[ModuleType, str, Any]:
    """``MODULE:ATTR`` (or ``MODULE`` with the first of ``defaults`` it has) → module, attr, object."""
    module_name, _, attr = text.partition(":")
    if not module_name or (":" in text and not attr):
        raise ValueError(f"{text!r} is not MODULE:ATTR (e.g. 'apps.order_app:create_app')")
    module = _import(module_name)
    for name in [attr] if attr else defaults:
        obj = getattr(module, name, _MISSING)
        if obj is not _MISSING:
            return module, name, obj
    if attr:
        raise ValueError(f"module {module_name!r} has no attribute {attr!r}")
    raise ValueError(f"module {module_name!r} has none of {', '.join(defaults)}; name one as MODULE:ATTR")


def _call(ref: str, factory: Any, kind: type, label: str) -> Any:
    """``factory`` itself if it is a ``kind``, else what calling it returns, which must be one."""
    if isinstance(factory, kind):
        return factory
    if inspect.isclass(factory) and not issubclass(factory, kind):  # calling it would only fail obscurely
        raise ValueError(f"{ref} is the class {factory.__qualname__}, not {label} nor a function returning one")
    if not callable(factory):
        raise ValueError(f"{ref} is not {label} nor a function returning one (it is {type(factory).__name__})")
    try:
        made = factory()
    except Exception as e:
        raise ValueError(f"{ref}() failed: {type(e).__name__}: {e}") from None
    if not isinstance(made, kind):
        raise ValueError(f"{ref}() returned {type(made).__name__}, not {label}")
    return made


class AppTarget(click.ParamType):  # type: ignore[type-arg]
    """A ``MODULE:ATTR`` naming a Spine app or a factory of one."""

    name = "MODULE:ATTR"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Target:
        if isinstance(value, Target):
            return value
        try:
            module, attr, obj = _resolve(value, ("app", "create_app"))
            return Target(module, _call(f"{module.__name__}:{attr}", obj, Spine, "a Spine app"))
        except ValueError as e:
            self.fail(str(e), param, ctx)


def load_options(target: Target, ref: str | None, **overrides: str | None) -> Options:
    """The options for ``target`` (see the module docstring), environment and overrides applied."""
    try:
        if ref is not None:
            module, attr, obj = _resolve(ref, ())
        else:
            module, attr, obj = target.module, "options", getattr(target.module, "options", Options())
        options = _call(f"{module.__name__}:{attr}", obj, Options, "an Options")
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--options") from None
    env = dict(os.environ)
    env.update({f"SPINE_{k.upper()}": v for k, v in overrides.items() if v})
    try:
        return options.with_env(env)  # type: ignore[no-any-return]
    except BootError as e:
        raise click.ClickException(str(e)) from None


def _name(obj: Any) -> str:
    """A handler's or interceptor's name: ``OrderController.create``, ``Cors``."""
    if not (inspect.isroutine(obj) or inspect.isclass(obj)):
        obj = type(obj)
    return str(getattr(obj, "__qualname__", repr(obj)))


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())


_APP = AppTarget()
_OPTIONS = click.option(
    "--options", "options_ref", metavar="MODULE:ATTR",
    help="Options object or function returning one [default: the target module's 'options', else Options()].",
)


@click.group(name="spine", context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="spine-core", prog_name="spine")
def cli() -> None:
    """Run and inspect Spine apps. MODULE:ATTR names an app or a function returning one."""


@cli.command(short_help="Serve an app.")
@click.argument("target", type=_APP, metavar="MODULE:ATTR")
@_OPTIONS
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
    except BootError as e:
        raise click.ClickException(str(e)) from None


@cli.command(short_help="List HTTP routes.")
@click.argument("target", type=_APP, metavar="MODULE:ATTR")
@_OPTIONS
def routes(target: Target, options_ref: str | None) -> None:
    """Print the HTTP routes: method, path, handler, interceptors."""
    http = load_options(target, options_ref).http
    if http is None:
        click.echo("no HTTP: the options' http is None", err=True)
        return
    shared = target.app.interceptors
    rows = [
        [r.method, r.template(http.global_prefix), _name(r.handler),
         ", ".join(_name(i) for i in [*shared, *r.interceptors]) or "-"]
        for r in target.app.routes
    ]
    _table(["METHOD", "PATH", "HANDLER", "INTERCEPTORS"], rows)


@cli.command(short_help="List consumed topics.")
@click.argument("target", type=_APP, metavar="MODULE:ATTR")
@_OPTIONS
def consumers(target: Target, options_ref: str | None) -> None:
    """Print the consumed topics (with the topic prefix): group, handler, interceptors."""
    broker = load_options(target, options_ref).broker
    group = broker.read.group_id if broker.read is not None else "- (no read options)"
    registry = target.app.consumer_registry
    rows = [
        [broker.topic_prefix + reg.topic, group, _name(reg.handler),
         ", ".join(_name(i) for i in [*registry.interceptors, *reg.interceptors]) or "-"]
        for reg in registry.registrations.values()
    ]
    _table(["TOPIC", "GROUP", "HANDLER", "INTERCEPTORS"], rows)


@cli.command(name="plugins", short_help="List broker plugins.")
def list_plugins() -> None:
    """Print the installed broker plugins (entry points of group 'spine')."""
    rows = []
    for name, ep in sorted(plugins.installed().items()):
        dist = ep.dist
        rows.append([name, dist.name if dist else "?", dist.version if dist else "?", ep.value])
    _table(["NAME", "DISTRIBUTION", "VERSION", "OBJECT"], rows)


from .contracts import commands as _contracts  # noqa: E402,F401  (registers asyncapi, contracts)
from .dlq import commands as _dlq  # noqa: E402,F401  (registers dlq)


def main() -> None:
    """Entry point of the ``spine`` console script; plugins add commands (click commands
    named in the ``spine.commands`` entry-point group)."""
    for ep in entry_points(group="spine.commands"):
        try:
            cli.add_command(ep.load(), ep.name)
        except Exception as e:  # a broken plugin costs its own command, not the others
            click.echo(f"spine: command {ep.name!r} of {ep.value} not loaded: {type(e).__name__}: {e}", err=True)
    cli(prog_name="spine")


if __name__ == "__main__":
    main()
