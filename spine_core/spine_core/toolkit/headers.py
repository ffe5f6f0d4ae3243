"""Header text: what a client hands over (bytes, None, numbers; a dict or pairs) as Spine's ``str`` headers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Union

RawHeaders = Union[Mapping[Any, Any], Iterable[tuple[Any, Any]], None]
"""Headers as a client returns them: a mapping, a sequence of ``(name, value)`` pairs, or None."""


def as_text(value: bytes | str) -> str:
    """``value`` as text: bytes decoded as UTF-8, an undecodable byte replaced (never an error)."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def text_headers(raw: RawHeaders, *, skip_prefix: str | None = None) -> dict[str, str]:
    """Headers as text: names and values decoded (:func:`as_text`), None as ``""``, numbers as
    their digits. Values that are not text (AMQP tables and arrays such as RabbitMQ's
    ``x-death``) are left out, and so are names starting with ``skip_prefix`` (a broker's own
    headers, e.g. ``x-``). The last of a repeated name wins."""
    if raw is None:
        return {}
    pairs = raw.items() if isinstance(raw, Mapping) else raw
    text: dict[str, str] = {}
    for name, value in pairs:  # PERF: on every consumed message; bytes values first, one call each
        if type(value) is bytes:
            value = value.decode("utf-8", "replace")
        elif value is None:
            value = ""
        elif isinstance(value, (bytes, str)):
            value = as_text(value)
        elif isinstance(value, (int, float)):
            value = str(value)
        else:
            continue
        if type(name) is not str:
            name = as_text(name)
        if skip_prefix is None or not name.startswith(skip_prefix):
            text[name] = value
    return text
