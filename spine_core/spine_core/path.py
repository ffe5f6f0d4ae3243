"""Path parameter types, matched in order to a route's ``:name`` segments."""

from __future__ import annotations

from typing import ClassVar

from attrs import frozen

from .decoding import WrongType, parse_bool, parse_float, parse_int
from .errors import BadRequest


@frozen
class Int:
    """An integer path segment: ``/orders/:order_id`` → ``Int(12345)``. Digits with an optional sign."""

    value: int
    source: ClassVar[str] = "path"

    @classmethod
    def parse(cls, name: str, raw: str) -> Int:
        try:
            return cls(parse_int(raw))
        except WrongType as e:
            raise BadRequest(f"{cls.source} parameter {name!r}: {e}") from None


@frozen
class Float:
    """A number path segment: ``-1.5``, ``2``, ``1e3`` (not ``nan`` or ``inf``)."""

    value: float
    source: ClassVar[str] = "path"

    @classmethod
    def parse(cls, name: str, raw: str) -> Float:
        try:
            return cls(parse_float(raw))
        except WrongType as e:
            raise BadRequest(f"{cls.source} parameter {name!r}: {e}") from None


@frozen
class String:
    """A path segment taken as text."""

    value: str
    source: ClassVar[str] = "path"

    @classmethod
    def parse(cls, name: str, raw: str) -> String:
        return cls(raw)


@frozen
class Bool:
    """A boolean path segment: true/false, 1/0, yes/no, on/off."""

    value: bool
    source: ClassVar[str] = "path"

    @classmethod
    def parse(cls, name: str, raw: str) -> Bool:
        try:
            return cls(parse_bool(raw))
        except WrongType as e:
            raise BadRequest(f"{cls.source} parameter {name!r}: {e}") from None


PATH_TYPES: tuple[type, ...] = (Int, Float, String, Bool)
