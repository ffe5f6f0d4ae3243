"""Reading a plugin's settings: typed values, and a BootError naming the setting and the bad value.

A broker's settings come as text (``SPINE_<BROKER>_<KEY>`` becomes ``<key>`` in
``BrokerConfig.settings``); its ``<X>Settings.from_settings`` reads them with a
:class:`SettingsReader`. Every refusal names ``<broker> <key>`` (or the
environment variable, for :meth:`SettingsReader.from_env`) and the value given::

    read = SettingsReader("redis", settings)
    read.check_known({"url", "batch", "claim.idle"})
    batch = read.integer("batch", 100, minimum=1)   # "redis batch must be an integer of at least 1, got 'x'"
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import NoReturn, TypeVar

from ..errors import BootError
from .redact import is_secret, remember, secrets_in

TRUE = frozenset({"true", "1", "yes", "on"})
FALSE = frozenset({"false", "0", "no", "off"})
T = TypeVar("T")


FILE_SUFFIX = "_FILE"


def with_secret_files(environ: Mapping[str, str], prefix: str = "SPINE_") -> Mapping[str, str]:
    """``environ`` with each ``<prefix><NAME>_FILE`` read into ``<prefix><NAME>`` (a secret mounted as a
    file, e.g. ``SPINE_RABBITMQ_URL_FILE=/run/secrets/amqp``; one trailing newline dropped); the secret
    it holds (the whole content, or a URL's password) is remembered (:mod:`.redact`). Both forms set, or a
    file that cannot be read, is a BootError."""
    files = [var for var in environ if var.startswith(prefix) and var.endswith(FILE_SUFFIX)]
    if not files:
        return environ
    out = dict(environ)
    for var in files:
        name = var[:-len(FILE_SUFFIX)]
        if name in environ:
            raise BootError(f"{name} and {var} are both set; use one")
        try:
            with open(environ[var], encoding="utf-8") as f:
                value = f.read()
        except OSError as e:
            raise BootError(f"{var}: cannot read {environ[var]!r}: {e.strerror}") from None
        value = value[:-1] if value.endswith("\n") else value
        value = value[:-1] if value.endswith("\r") else value
        key = name.lower()
        remember(secrets_in({key: value}) if is_secret(key) else [value])
        del out[var]
        out[name] = value
    return out


class SettingsReader:
    """Typed reads of ``values`` (text by key); a key that is absent gives the default."""

    def __init__(self, owner: str, values: Mapping[str, str], *, name: Callable[[str], str] | None = None) -> None:
        self.owner = owner
        self.values = values
        self._name = name or (lambda key: f"{owner} {key}")

    @classmethod
    def from_env(cls, prefix: str, environ: Mapping[str, str]) -> SettingsReader:
        """Read the variables ``<prefix><KEY>`` of ``environ`` as keys ``<key>`` (lower case);
        errors name the variable (``SPINE_POSTGRES_POOL_SIZE``)."""
        environ = with_secret_files(environ)
        values = {var[len(prefix):].lower(): value for var, value in environ.items() if var.startswith(prefix)}
        return cls(prefix.strip("_").lower(), values, name=lambda key: prefix + key.upper())

    def name(self, key: str) -> str:
        """How errors call ``key``: ``<owner> <key>``, or the environment variable."""
        return self._name(key)

    def check_known(self, known: Collection[str]) -> None:
        """Refuse keys not in ``known`` (a typo would otherwise be ignored)."""
        unknown = sorted(set(self.values) - set(known))
        if unknown:
            raise BootError(f"unknown {self.owner} setting(s) {unknown}; known: {sorted(known)}")

    def text(self, key: str, default: str) -> str:
        """The value as given."""
        return self.values.get(key, default)

    def integer(self, key: str, default: int, *, minimum: int | None = None) -> int:
        """A whole number, at least ``minimum``."""
        def parse(raw: str) -> int | None:
            try:
                number = int(raw)
            except ValueError:
                return None
            return number if minimum is None or number >= minimum else None

        return self._read(key, default, parse, "an integer" + ("" if minimum is None else f" of at least {minimum}"))

    def flag(self, key: str, default: bool) -> bool:
        """``true``/``false``, ``1``/``0``, ``yes``/``no`` or ``on``/``off``, in any case."""
        def parse(raw: str) -> bool | None:
            word = raw.strip().lower()
            return True if word in TRUE else False if word in FALSE else None

        return self._read(key, default, parse, "true or false (or 1/0, yes/no, on/off)")

    def seconds(self, key: str, default: float, *, positive: bool = False) -> float:
        """A finite number of seconds, not negative (above 0 if ``positive``)."""
        def parse(raw: str) -> float | None:
            try:
                seconds = float(raw)
            except ValueError:
                return None
            return seconds if math.isfinite(seconds) and seconds >= 0 and (seconds or not positive) else None

        return self._read(key, default, parse, "a positive number of seconds" if positive else "a number of seconds")

    def choice(self, key: str, default: str, choices: Sequence[str]) -> str:
        """One of ``choices``."""
        return self._read(key, default, lambda raw: raw if raw in choices else None, f"one of {list(choices)}")

    def _read(self, key: str, default: T, parse: Callable[[str], T | None], expected: str) -> T:
        """``key`` parsed, the default if it is absent; refused (:meth:`refuse`) where ``parse`` gives None."""
        raw = self.values.get(key)
        if raw is None:
            return default
        value = parse(raw)
        if value is None:
            self.refuse(key, expected)
        return value

    def refuse(self, key: str, expected: str) -> NoReturn:
        """Raise the BootError for a bad ``key``: ``<name> must be <expected>, got <value>``."""
        raise BootError(f"{self.name(key)} must be {expected}, got {self.values.get(key)!r}")
