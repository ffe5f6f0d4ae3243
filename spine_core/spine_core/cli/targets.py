"""What the commands share: ``MODULE:ATTR`` targets, the options they name, and tables.

``MODULE:ATTR`` names a :class:`~spine_core.Spine` app or a function returning
one (``apps.order_app:create_app``); a bare ``MODULE`` means its ``app`` or
``create_app``. The options are ``--options MODULE:ATTR`` (an ``Options`` or a
function returning one) or else the target module's own ``options`` attribute,
else ``Options()``; the ``SPINE_*`` environment is applied over them, and
command-line overrides over that.
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any

import click
from attrs import frozen

from ..blueprint import Blueprint
from ..errors import BootError
from ..options import Options

_MISSING = object()


@frozen
class Target:
    """A resolved ``MODULE:ATTR``: the module and the app it names."""

    module: ModuleType
    app: Blueprint


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


def resolve(text: str, defaults: Sequence[str]) -> tuple[ModuleType, str, Any]:
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


def made(ref: str, factory: Any, kind: type, label: str) -> Any:
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
            module, attr, obj = resolve(value, ("app", "create_app"))
            return Target(module, made(f"{module.__name__}:{attr}", obj, Blueprint, "a Spine app"))
        except ValueError as e:
            self.fail(str(e), param, ctx)


def load_options(target: Target, ref: str | None, **overrides: str | None) -> Options:
    """The options for ``target`` (see the module docstring), environment and overrides applied."""
    try:
        if ref is not None:
            module, attr, obj = resolve(ref, ())
        else:
            module, attr, obj = target.module, "options", getattr(target.module, "options", Options())
        options = made(f"{module.__name__}:{attr}", obj, Options, "an Options")
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--options") from None
    env = dict(os.environ)
    env.update({f"SPINE_{k.upper()}": v for k, v in overrides.items() if v})
    try:
        return options.with_env(env)  # type: ignore[no-any-return]
    except BootError as e:
        raise click.ClickException(str(e)) from None


def name_of(obj: Any) -> str:
    """A handler's or interceptor's name: ``OrderController.create``, ``Cors``."""
    if not (inspect.isroutine(obj) or inspect.isclass(obj)):
        obj = type(obj)
    return str(getattr(obj, "__qualname__", repr(obj)))


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())


APP = AppTarget()
"""The ``MODULE:ATTR`` argument type of every command that takes an app."""
OPTIONS = click.option(
    "--options", "options_ref", metavar="MODULE:ATTR",
    help="Options object or function returning one [default: the target module's 'options', else Options()].",
)
"""The ``--options MODULE:ATTR`` option of every command that takes an app."""
