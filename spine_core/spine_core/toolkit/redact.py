"""Secrets never shown: passwords, tokens and the userinfo of URLs and DSNs masked in any text.

One helper for every broker plugin and extension. The core hands each plugin's settings
to :func:`protect` before the plugin sees them (``create_broker``), so the secrets they hold
(values of secret keys such as ``sasl.password``, the userinfo of a URL) are known; from
then on :func:`redact` masks them in any text, and so does every log record of the process
(message and traceback), whichever library wrote it. A plugin passes the text it shows
(exception messages, readiness details) through :func:`redact`, and gives its settings'
fields ``field(repr=redact)``::

    raise BootError(redact(f"cannot connect to {settings.url}: {e}"))
    # -> "cannot connect to amqp://***@rabbit:5671/: ..."
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any, Final
from urllib.parse import unquote

MASK: Final = "***"
SECRET_KEY: Final = re.compile(
    r"pass(word|wd|phrase)?$|secret|token|credential|jaas|seed|private|api[._-]?key|key\.pem|dsn$|url$", re.I)
"""Setting keys whose whole value is masked in :func:`redact_settings` (``url`` and ``dsn``
values are not masked whole: their userinfo is, and the rest is kept)."""
_WHOLE: Final = re.compile(r"url$|dsn$", re.I)
_USERINFO: Final = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s'\"<>]+@")
"""A URL's userinfo, up to the last ``@`` of its authority (a password may hold an ``@``)."""
_PAIR: Final = re.compile(
    r"(?P<key>\b[\w.-]*(?:password|passwd|secret|token)[\w.-]*)(?P<sep>['\"]?\s*[=:]\s*)"
    r"(?P<value>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|[^\s&;,'\"}]+)", re.I)
MIN_SECRET: Final = 4
"""Shorter values are not remembered as secrets (they would mask ordinary words)."""

_known: set[str] = set()
_lock = threading.Lock()
_installed = False


def redact(text: object) -> str:
    """``text`` with URL userinfo, ``password=...``-like pairs and every remembered secret masked."""
    out = text if isinstance(text, str) else str(text)
    if "@" in out:
        out = _USERINFO.sub(lambda m: m["scheme"] + MASK + "@", out)
    if "=" in out or ":" in out:
        out = _PAIR.sub(lambda m: m["key"] + m["sep"] + MASK, out)
    for secret in _known:  # PERF: a handful of values, str.__contains__ before replace
        if secret in out:
            out = out.replace(secret, MASK)
    return out


def hidden(value: object) -> str:
    """The repr of a field that is a secret whole (a password, a token): masked, however short;
    ``field(repr=hidden)``."""
    return repr(MASK) if value else "''"


def is_secret(key: str) -> bool:
    """Whether the setting ``key`` holds a secret or a URL or DSN that may carry one."""
    return SECRET_KEY.search(key) is not None


def redact_settings(settings: Mapping[str, str]) -> dict[str, str]:
    """A copy of ``settings`` fit to show: secret values masked, URLs without userinfo."""
    return {k: (redact(v) if _WHOLE.search(k) or not is_secret(k) else MASK) for k, v in settings.items()}


def shown_settings(settings: Mapping[str, str]) -> str:
    """The repr of ``settings`` with secrets masked: ``field(repr=shown_settings)`` in attrs classes."""
    return repr(redact_settings(settings))


def secrets_in(settings: Mapping[str, str]) -> list[str]:
    """The secret values ``settings`` hold: values of secret keys, passwords of URLs and DSNs."""
    found: list[str] = []
    for key, value in settings.items():
        value = str(value)
        if not is_secret(key):
            continue
        if not _WHOLE.search(key):
            found.append(value)
            continue
        for word in re.split(r"[\s,]+", value):  # URLs, valid or not: what lies before the last @
            if "@" in word:
                userinfo = word.rsplit("@", 1)[0].rsplit("/", 1)[-1]
                password = userinfo.partition(":")[2]  # a user alone is masked in URLs, not remembered
                if password:
                    found.append(password)
        found += [m["value"].strip("'\"") for m in _PAIR.finditer(value)]
    return found


def remember(values: Iterable[str]) -> None:
    """Mask ``values`` (and their URL-decoded forms) wherever :func:`redact` or a log record shows them."""
    fresh = set()
    for value in values:
        for form in (value, unquote(value)):
            if len(form) >= MIN_SECRET:
                fresh.add(form)
    if fresh:
        with _lock:
            _known.update(fresh)
    _install()


def protect(settings: Mapping[str, str]) -> dict[str, str]:
    """Remember the secrets of ``settings`` (:func:`secrets_in`, :func:`remember`); the copy fit to show."""
    remember(secrets_in(settings))
    return redact_settings(settings)


def _install() -> None:
    """Redact every log record from now on, once per process (a record factory: any handler,
    any library, caplog included)."""
    global _installed
    with _lock:
        if _installed:
            return
        _installed = True
        make = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: logging reports it when it formats
            return record
        shown = redact(message)
        if shown != message:
            record.msg, record.args = shown, None
        if record.exc_info and record.exc_info[0] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            shown = redact(text)
            if shown != text:
                record.exc_text, record.exc_info = shown, None
        return record

    logging.setLogRecordFactory(factory)
