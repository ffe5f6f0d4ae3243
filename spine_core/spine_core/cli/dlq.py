"""``spine dlq list|show|replay``: the dead letters of a topic in the app's broker.

The broker and its settings come from the options as for ``spine run``: those
of ``--app MODULE`` (its ``options``) or ``--options MODULE:ATTR``, else
``Options()``, with the ``SPINE_*`` environment and ``--broker`` over them.
TOPIC is the event name (``order.created``); the topic prefix and the
dead-letter suffix of the options are added unless TOPIC already ends with it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import click
from attrs import evolve

from .. import plugins
from ..codecs.choice import builtin, by_content_type
from ..errors import BootError, SpineError
from ..messages import Headers, StoredDeadLetter
from ..options import BrokerConfig, Options, WriteOptions
from .targets import APP, Target, load_options, made, resolve, table

CLOSE_TIMEOUT = 5.0


@contextmanager
def _broker(options: Options) -> Iterator[Any]:
    """The started hook relay of the options' broker plugin, closed afterwards."""
    write = options.broker.write or WriteOptions()  # replay publishes
    config = BrokerConfig.from_options(evolve(options, broker=evolve(options.broker, write=write)))
    try:
        hook = plugins.plugin_manager(plugins.create_broker(config), config.name).hook
        if not hook.spine_dlq_list.get_hookimpls() or not hook.spine_dlq_replay.get_hookimpls():
            raise click.ClickException(f"broker plugin {config.name!r} does not implement the dead-letter hooks")
        hook.spine_broker_start()
    except BootError as e:
        raise click.ClickException(str(e)) from None
    try:
        yield hook
    finally:
        hook.spine_broker_close(timeout=CLOSE_TIMEOUT)


def _options(app: Target | None, options_ref: str | None, broker: str | None) -> Options:
    """The options as ``spine run`` resolves them, without an app unless ``--app`` names one."""
    if app is not None:
        return load_options(app, options_ref, broker=broker)
    options = Options()
    if options_ref is not None:
        try:
            module, attr, obj = resolve(options_ref, ())
            options = made(f"{module.__name__}:{attr}", obj, Options, "an Options")
        except ValueError as e:
            raise click.BadParameter(str(e), param_hint="--options") from None
    try:
        return options.with_env({**os.environ, **({"SPINE_BROKER": broker} if broker else {})})
    except BootError as e:
        raise click.ClickException(str(e)) from None


def dead_letter_topic(options: Options, topic: str) -> str:
    """``topic`` as stored: with the prefix and the dead-letter suffix (unless already there)."""
    suffix = options.broker.read.dead_letter_suffix if options.broker.read else ".dlq"
    prefix = options.broker.topic_prefix
    full = topic if topic.startswith(prefix) else prefix + topic
    return full if full.endswith(suffix) else full + suffix


def _listed(hook: Any, topic: str, options: Options) -> list[StoredDeadLetter]:
    try:
        return list(hook.spine_dlq_list(topic=topic, timeout=_timeout(options)))
    except SpineError as e:
        raise click.ClickException(f"listing {topic} failed: {e}") from None


def _timeout(options: Options) -> float:
    return (options.broker.write or WriteOptions()).publish_timeout


def _reason(letter: StoredDeadLetter) -> str:
    h = letter.headers
    text = f"{h.get(Headers.ERROR_TYPE, '?')}: {h.get(Headers.ERROR_MESSAGE, '')}".replace("\n", " ")
    return text if len(text) <= 60 else text[:57] + "..."


def _original_position(letter: StoredDeadLetter) -> str:
    prefix = "dead-letter-original-"
    return " ".join(f"{k[len(prefix):]}={v}" for k, v in letter.headers.items()
                    if k.startswith(prefix) and k != Headers.ORIGINAL_TOPIC) or "-"


def _common(f: Any) -> Any:
    f = click.option("--broker", metavar="NAME", help="Broker plugin, over SPINE_BROKER and the options.")(f)
    f = click.option("--options", "options_ref", metavar="MODULE:ATTR",
                     help="Options object or function returning one [default: the --app module's, else Options()].")(f)
    f = click.option("--app", type=APP, metavar="MODULE[:ATTR]", help="Use this app's options (prefix, broker).")(f)
    return click.argument("topic")(f)


@click.group()
def dlq() -> None:
    """List, show and replay dead letters.

    TOPIC is the event name (order.created); the options' topic prefix and
    dead-letter suffix are added."""


@dlq.command(name="list", short_help="List a topic's dead letters.")
@_common
def list_command(topic: str, app: Target | None, options_ref: str | None, broker: str | None) -> None:
    """Print how many dead letters TOPIC has and, for each: event id, key, reason, attempts,
    original position, and when it was dead-lettered."""
    options = _options(app, options_ref, broker)
    dead = dead_letter_topic(options, topic)
    with _broker(options) as hook:
        letters = _listed(hook, dead, options)
    click.echo(f"{dead}: {len(letters)} dead letter(s)")
    if letters:
        table(["EVENT ID", "KEY", "REASON", "ATTEMPTS", "ORIGINAL POSITION", "DEAD-LETTERED AT"], [
            [d.event_id or "-", d.key or "-", _reason(d), d.headers.get(Headers.ATTEMPTS, "-"),
             _original_position(d), d.headers.get(Headers.DEAD_LETTERED_AT, "-")] for d in letters
        ])


@dlq.command(short_help="Show one dead letter with its payload.")
@_common
@click.argument("event_id")
def show(topic: str, event_id: str, app: Target | None, options_ref: str | None, broker: str | None) -> None:
    """Print the dead letter(s) of TOPIC with EVENT_ID: position, key, headers and payload."""
    options = _options(app, options_ref, broker)
    dead = dead_letter_topic(options, topic)
    with _broker(options) as hook:
        found = [d for d in _listed(hook, dead, options) if d.event_id == event_id]
    if not found:
        raise click.ClickException(f"no dead letter with event id {event_id!r} on {dead}")
    for letter in found:
        click.echo(f"event id: {letter.event_id}")
        click.echo(f"topic:    {letter.topic} ({' '.join(f'{k}={v}' for k, v in letter.position.items())})")
        click.echo(f"key:      {letter.key if letter.key is not None else '-'}")
        click.echo("headers:")
        for name, value in letter.headers.items():
            click.echo(f"  {name}: {value}")
        click.echo("payload:")
        click.echo("  " + payload_text(letter.value, letter.headers.get(Headers.CONTENT_TYPE)).replace("\n", "\n  "))


def payload_text(value: bytes, content_type: str | None) -> str:
    """A payload as indented JSON, whatever codec its ``content_type`` names (none: JSON); the bytes
    as they are when no codec reads them."""
    codec = by_content_type(content_type, {c.content_type: c for c in builtin()})
    if codec is None:
        return f"({content_type}, no codec) {value!r}"
    try:
        return json.dumps(codec.loads(value), indent=2, ensure_ascii=False, default=str)
    except ValueError:
        return repr(value)


@dlq.command(short_help="Publish dead letters back to their topic.")
@_common
@click.option("--event-id", "event_ids", multiple=True, metavar="ID", help="Replay this dead letter (repeatable).")
@click.option("--all", "replay_all", is_flag=True, help="Replay every dead letter of TOPIC.")
def replay(
    topic: str, app: Target | None, options_ref: str | None, broker: str | None,
    event_ids: Sequence[str], replay_all: bool,
) -> None:
    """Publish dead letters back to their original topic (dead-letter headers removed), each
    removed from the dead letters only once the broker confirmed it."""
    if bool(event_ids) == replay_all:
        raise click.UsageError("give --event-id ID (one or more) or --all")
    options = _options(app, options_ref, broker)
    dead = dead_letter_topic(options, topic)
    with _broker(options) as hook:
        if event_ids:
            listed = {d.event_id for d in _listed(hook, dead, options)}
            missing = [i for i in event_ids if i not in listed]
            if missing:
                raise click.ClickException(f"no dead letter with event id {', '.join(missing)} on {dead}")
        try:
            done = hook.spine_dlq_replay(topic=dead, event_ids=list(event_ids) or None, timeout=_timeout(options))
        except (SpineError, ValueError) as e:
            raise click.ClickException(f"replay stopped: {e}; what was not replayed is still listed") from None
    targets = sorted({d.headers.get(Headers.ORIGINAL_TOPIC, "?") for d in done})
    click.echo(f"replayed {len(done)} dead letter(s) to {', '.join(targets) or '-'}")
    for letter in done:
        click.echo(f"  {letter.event_id}")
