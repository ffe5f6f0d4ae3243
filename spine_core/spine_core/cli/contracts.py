"""``spine asyncapi`` and ``spine contracts check``."""

from __future__ import annotations

import json
from typing import Any

import click

from ..contracts import openapi as http_contract
from ..contracts.asyncapi import document
from ..contracts.compat import Checked, check
from ..contracts.http_compat import breaking_changes
from .targets import APP, OPTIONS, Target, load_options


def app_document(target: Target, options_ref: str | None = None) -> dict[str, Any]:
    """The AsyncAPI document of a ``spine`` command's target, titled with its module's name."""
    options = load_options(target, options_ref)
    try:
        return document(target.app, options, target.module.__name__)
    except Exception as e:  # a BootError or SchemaError naming the class and field
        raise click.ClickException(f"{target.module.__name__}: {e}") from None


def http_document(target: Target, options_ref: str | None = None) -> dict[str, Any]:
    """The OpenAPI document of a ``spine`` command's target, titled with its module's name."""
    options = load_options(target, options_ref)
    try:
        return http_contract.document(target.app, options, target.module.__name__)
    except Exception as e:  # a SchemaError naming the class and field
        raise click.ClickException(f"{target.module.__name__}: {e}") from None


def dump(doc: dict[str, Any], fmt: str) -> str:
    """``doc`` as JSON or YAML text."""
    if fmt == "json":
        return json.dumps(doc, indent=2) + "\n"
    try:
        import yaml  # type: ignore[import-untyped]
    except ImportError:
        raise click.ClickException("--format yaml needs PyYAML: pip install 'spine-core[yaml]'") from None
    return str(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))


@click.command(short_help="Write the app's AsyncAPI document.")
@click.argument("target", type=APP, metavar="MODULE:ATTR")
@OPTIONS
@click.option("--format", "fmt", type=click.Choice(["json", "yaml"]), default="json", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, writable=True), help="Write to FILE [default: stdout].")
def asyncapi(target: Target, options_ref: str | None, fmt: str, out: str | None) -> None:
    """Write an AsyncAPI 3.0 document of the events the app sends and receives."""
    _write(dump(app_document(target, options_ref), fmt), out)


@click.command(short_help="Write the app's OpenAPI document.")
@click.argument("target", type=APP, metavar="MODULE[:ATTR]")
@OPTIONS
@click.option("--format", "fmt", type=click.Choice(["json", "yaml"]), default="json", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, writable=True), help="Write to FILE [default: stdout].")
def openapi(target: Target, options_ref: str | None, fmt: str, out: str | None) -> None:
    """Write an OpenAPI 3.1 document of the app's routes, from their signatures."""
    _write(dump(http_document(target, options_ref), fmt), out)


def _write(text: str, out: str | None) -> None:
    if out is None:
        click.echo(text, nl=False)
    else:
        with open(out, "w", encoding="utf-8") as f:
            f.write(text)


@click.group()
def contracts() -> None:
    """Check event contracts between apps, and HTTP contracts against saved documents."""


@contracts.command(name="check", short_help="Check receivers against senders, and apps against saved documents.")
@click.argument("targets", type=APP, metavar="MODULE[:ATTR]...", nargs=-1, required=True)
@click.option("--against", type=click.File("r", encoding="utf-8"), metavar="OLD.json", multiple=True,
              help="Also compare with a saved AsyncAPI or OpenAPI document (e.g. the version in production); "
                   "repeat for both.")
def check_command(targets: tuple[Target, ...], against: tuple[Any, ...]) -> None:
    """For every topic one app sends and another receives, check that each message the sender
    can produce is decoded by the receiver's event class. A saved OpenAPI document is compared
    with the current one of the app it titles (or of the only app): each breaking HTTP change is
    named. Exits 1 naming each problem."""
    docs = [app_document(t) for t in targets]
    http_problems: list[str] = []
    http_checked: list[str] = []
    for saved in against:
        try:
            old = json.load(saved)
            kind = "openapi" if "openapi" in old else "asyncapi" if "asyncapi" in old else None
            if kind is None:
                raise ValueError("neither an AsyncAPI nor an OpenAPI document")
            title = old["info"]["title"]
        except (ValueError, KeyError, TypeError) as e:
            raise click.ClickException(f"{saved.name} is not an AsyncAPI or OpenAPI document made by spine: {e}") \
                from None
        if kind == "asyncapi":
            old["info"]["title"] = f"{title} in {saved.name}"
            docs.append(old)
            continue
        current = _served_by(title, targets, saved.name)
        changes = breaking_changes(old, current)
        http_checked.append(f"{current['info']['title']} against {saved.name}")
        http_problems += [f"{current['info']['title']} (against {saved.name}): {c}" for c in changes]
    checked, problems = check(docs)
    for problem in problems:
        click.echo(str(problem), err=True)
    for change in http_problems:
        click.echo(change, err=True)
    if problems or http_problems:
        found = []
        if problems:  # named: only the pairs that disagree; the compatible ones are counted
            failed = list(dict.fromkeys(p.pair for p in problems))
            others = len(checked) - len(failed)
            rest = f"; {others} other pair(s) compatible" if others else ""
            count = f"{len(problems)} incompatibilit{'y' if len(problems) == 1 else 'ies'}"
            found.append(f"{count} in {named(failed)}{rest}")
        if http_problems:
            found.append(f"{len(http_problems)} breaking HTTP change(s) in {', '.join(http_checked)}")
        raise click.ClickException("; ".join(found))
    pairs = named(checked) or "no topic is sent by one and received by another"
    click.echo(f"contracts ok: {len(checked)} sender/receiver pair(s) compatible: {pairs}")
    if http_checked:
        click.echo(f"http ok: no breaking change in {', '.join(http_checked)}")


def named(pairs: list[Checked]) -> str:
    """``topic (sender -> receiver)`` of each pair, comma-separated."""
    return ", ".join(f"{c.topic} ({c.sender} -> {c.receiver})" for c in pairs)


def _served_by(title: str, targets: tuple[Target, ...], name: str) -> dict[str, Any]:
    """The current OpenAPI document of the target titled ``title``, else of the only target."""
    current = [http_document(t) for t in targets]
    found = [d for d in current if d["info"]["title"] == title]
    if found:
        return found[0]
    if len(current) == 1:
        return current[0]
    raise click.ClickException(f"{name} documents {title!r}, which none of the apps is; name that app alone")
