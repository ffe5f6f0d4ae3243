"""Path parameter types, matched in order to a route's ``:name`` segments."""

from __future__ import annotations

from typing import ClassVar

from attrs import frozen

from .errors import BadRequest

_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


@frozen
class Int:
    """An integer path segment: ``/orders/:order_id`` → ``Int(12345)``."""

    value: int
    kind: ClassVar[str] = "an integer"

    @classmethod
    def parse(cls, name: str, raw: str) -> Int:
        try:
            return cls(int(raw))
        except ValueError:
            raise BadRequest(f"path parameter {name!r} must be {cls.kind}, got {raw!r}") from None


@frozen
class String:
    """A path segment taken as text."""

    value: str

    @classmethod
    def parse(cls, name: str, raw: str) -> String:
        return cls(raw)


@frozen
class Bool:
    """A boolean path segment: true/false, 1/0, yes/no, on/off."""

    value: bool

    @classmethod
    def parse(cls, name: str, raw: str) -> Bool:
        word = raw.lower()
        if word in _TRUE:
            return cls(True)
        if word in _FALSE:
            return cls(False)
        raise BadRequest(f"path parameter {name!r} must be a boolean, got {raw!r}")


PATH_TYPES: tuple[type, ...] = (Int, String, Bool)
