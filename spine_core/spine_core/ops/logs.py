"""Process logging: readable lines or JSON objects on stderr, carrying the current request's or message's ids.

``SPINE_LOG_FORMAT`` is ``text`` (default) or ``json``; ``SPINE_LOG_LEVEL`` sets
the level. Each record carries the ids of the request or message handled on
its thread (:data:`spine_core.context.current`, set when its context is made),
so the handler's own log calls carry its route or topic, event id, correlation
id and trace id.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Mapping
from typing import Any, Final

from ..context import Context, current
from ..errors import BootError
from ..messages import Headers

FIELDS: Final = ("route", "topic", "event_id", "correlation_id", "trace_id", "span_id")
TEXT_FORMAT: Final = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def context_fields(ctx: Context) -> dict[str, str]:
    """The log fields known for ``ctx``."""
    fields = {"correlation_id": ctx.correlation_id}
    if ctx.request is not None:
        fields["route"] = ctx.route
    if ctx.message is not None:
        fields["topic"] = ctx.message.topic
        event_id = ctx.message.headers.get(Headers.EVENT_ID)
        if event_id:
            fields["event_id"] = event_id
    if ctx.trace is not None:
        fields["trace_id"] = ctx.trace.trace_id
        fields["span_id"] = ctx.trace.span_id
    return fields


class ContextFilter(logging.Filter):
    """Copies the current context's fields onto each record (``record.correlation_id``, ...),
    in the thread that logs it."""

    def filter(self, record: logging.LogRecord) -> bool:
        ctx = current.get()
        if ctx is not None and not hasattr(record, "spine"):
            record.spine = context_fields(ctx)
        return True


class JSONFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, then the context's fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _iso(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields: Mapping[str, str] | None = getattr(record, "spine", None)
        if fields:
            entry.update(fields)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def _iso(created: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created)) + f".{int(created % 1 * 1000):03d}Z"


def handler(log_format: str, stream: Any = None) -> logging.Handler:
    """A stream handler (stderr by default) for ``log_format`` ``text`` or ``json``."""
    if log_format not in ("text", "json"):
        raise BootError(f"SPINE_LOG_FORMAT={log_format!r}: use 'text' or 'json'")
    h = logging.StreamHandler(stream if stream is not None else sys.stderr)
    h.setFormatter(JSONFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    h.addFilter(ContextFilter())
    return h


def configure_logging(environ: Mapping[str, str] | None = None) -> None:
    """Configure the root logger from ``SPINE_LOG_FORMAT`` and ``SPINE_LOG_LEVEL``, unless
    the application already configured it."""
    env = os.environ if environ is None else environ
    level = env.get("SPINE_LOG_LEVEL", "INFO").upper()
    if not isinstance(logging.getLevelName(level), int):
        raise BootError(f"SPINE_LOG_LEVEL={level!r}: use DEBUG, INFO, WARNING, ERROR or CRITICAL")
    logging.basicConfig(level=level, handlers=[handler(env.get("SPINE_LOG_FORMAT", "text").lower())])
