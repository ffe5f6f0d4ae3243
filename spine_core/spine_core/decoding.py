"""Strict decoding: a JSON value of the wrong type, or text that is not the number asked for, is
refused with the field's name, never converted (cattrs hooks for the JSON converter and for forms)."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from contextvars import ContextVar
from datetime import date, datetime
from types import UnionType
from typing import Any, NewType, TypeVar, Union, get_origin

import attrs
import cattrs
from cattrs.cols import is_any_set, is_mapping, is_sequence
from cattrs.v import format_exception, transform_error

_INT = re.compile(r"[+-]?[0-9]+")
_FLOAT = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})
_JSON_TYPES = {str: "a string", int: "an integer", float: "a fraction", bool: "a boolean",
               type(None): "null", list: "an array", dict: "an object"}
_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "a boolean", type(None): "null"}
"""What a field of each plain type expects."""
T = TypeVar("T")
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
"""The range of an ``int`` field, path or query value: a database's ``bigint``, JSON Schema's ``int64``."""
BigInt = NewType("BigInt", int)
"""An integer field that may hold more than 64 bits: ``balance: BigInt`` (its schema has no ``int64``)."""
_unguarded: ContextVar[frozenset[Any]] = ContextVar("spine_unguarded", default=frozenset())


class DecodeError(ValueError):
    """A payload that does not decode into its class; the message names the field, for the client."""


class WrongType(ValueError):
    """A value of the wrong JSON type (or text that is not a number) for its field."""


def json_type(value: Any) -> str:
    """The JSON type of a decoded value, as a client would name it: ``a string``, ``null``..."""
    return _JSON_TYPES.get(type(value), type(value).__name__)


def _exact(kind: type, what: str) -> Callable[[Any, Any], Any]:
    def structure(value: Any, _: Any) -> Any:
        if type(value) is not kind:
            raise WrongType(f"expected {what}, got {json_type(value)}")
        return value

    return structure


def _integer(value: Any, _: Any) -> int:
    """An ``int`` field: a JSON integer, or a whole number written as a fraction (``18.0``, an integer
    to JSON Schema), within 64 bits."""
    return _in_range(_whole(value, "an integer"))


def _big_integer(value: Any, _: Any) -> int:
    """A ``BigInt`` field: an integer of any size."""
    return _whole(value, "an integer")


def _whole(value: Any, what: str) -> int:
    kind = type(value)
    if kind is int:
        return int(value)
    if kind is float and math.isfinite(value) and value.is_integer():
        return int(value)
    raise WrongType(f"expected {what}, got {json_type(value)}")


def _in_range(number: int) -> int:
    if not INT64_MIN <= number <= INT64_MAX:
        raise WrongType(f"expected a 64-bit integer (from {INT64_MIN} to {INT64_MAX}), got one out of range")
    return number


def _number(value: Any, _: Any) -> float:
    if type(value) is not float and type(value) is not int:  # an integer is a number; true is not
        raise WrongType(f"expected a number, got {json_type(value)}")
    number = float(value)
    if not math.isfinite(number):  # 1e999 parses as infinity
        raise WrongType("expected a number, got one out of range")
    return number


def _is_plain_union(kind: Any) -> bool:
    args = getattr(kind, "__args__", ())
    return get_origin(kind) in (Union, UnionType) and all(a in _NAMES for a in args)


def _plain_union(kind: Any) -> Callable[[Any, Any], Any]:
    """``int | str``, ``float | None``...: the value's own JSON type must be one of the union's
    (an integer counts as a number for ``float``; ``true`` is not an integer)."""
    members = set(kind.__args__)
    accepted = members | ({int} if float in members else set())
    what = " or ".join(_NAMES[m] for m in kind.__args__)

    def structure(value: Any, _: Any) -> Any:
        kind_of = type(value)
        if kind_of is float and int in members and float not in members and value.is_integer():
            return _in_range(int(value))  # 18.0 is an integer
        if kind_of not in accepted:
            raise WrongType(f"expected {what}, got {json_type(value)}")
        if kind_of is int:
            return float(value) if int not in members else _in_range(value)
        return value

    return structure


def _iso(kind: type[date]) -> Callable[[Any, Any], Any]:
    def structure(value: Any, _: Any) -> Any:
        if type(value) is not str:
            raise WrongType(f"expected an ISO-8601 {kind.__name__} string, got {json_type(value)}")
        if value.endswith(("Z", "z")):  # RFC 3339's UTC, which fromisoformat reads from Python 3.11 only
            value = value[:-1] + "+00:00"
        return kind.fromisoformat(value)

    return structure


def _shaped(shape: type, what: str) -> Callable[..., Any]:
    """A hook factory that puts a check of the JSON value's ``shape`` before the hook cattrs makes for
    the type (which would iterate a string's characters into a list, or read an array as a class)."""

    def factory(kind: Any, converter: cattrs.Converter) -> Callable[[Any, Any], Any]:
        token = _unguarded.set(_unguarded.get() | {kind})
        try:
            inner = converter.get_structure_hook(kind, cache_result=False)  # cattrs's own hook for kind
        finally:
            _unguarded.reset(token)

        def structure(value: Any, cls: Any) -> Any:
            if type(value) is not shape:
                raise WrongType(f"expected {what}, got {json_type(value)}")
            return inner(value, cls)

        return structure

    return factory


def _is_array(kind: Any) -> bool:
    return (is_sequence(kind) or is_any_set(kind) or _is_tuple(kind)) and kind not in _unguarded.get()


def _is_tuple(kind: Any) -> bool:
    return getattr(kind, "__origin__", None) is tuple


def _is_object(kind: Any) -> bool:
    return (is_mapping(kind) or attrs.has(kind)) and kind not in _unguarded.get()


def strict_json(converter: cattrs.Converter) -> cattrs.Converter:
    """Make ``converter`` take JSON values only of the field's own type (see docs/guides/bad-input.md):
    ``str`` a string, ``int`` a 64-bit integer (``18.0`` is one; not ``1.7``, ``"12"`` or ``true``;
    :data:`BigInt` any integer), ``float`` a number,
    ``bool`` true or false, lists, tuples and sets an array, dicts and attrs classes an object;
    null only where the field is ``Optional``. Keys a class does not know are ignored."""
    for kind, what in ((str, "a string"), (bool, "a boolean")):
        converter.register_structure_hook(kind, _exact(kind, what))
    converter.register_structure_hook(int, _integer)
    converter.register_structure_hook(BigInt, _big_integer)
    converter.register_structure_hook(float, _number)
    for moment in (datetime, date):
        converter.register_structure_hook(moment, _iso(moment))
    converter.register_structure_hook_factory(_is_plain_union, _plain_union)
    converter.register_structure_hook_factory(_is_array, _shaped(list, "an array"))
    converter.register_structure_hook_factory(_is_object, _shaped(dict, "an object"))
    return converter


def parse_int(text: str) -> int:
    """Decimal digits with an optional sign, within 64 bits; no spaces, underscores or fractions."""
    if len(text) < 19 and text.isascii() and text.isdigit():  # PERF: the common case, with no regex
        return int(text)  # at most 18 digits: within 64 bits
    return _in_range(parse_big_int(text))


def parse_big_int(text: str) -> int:
    """Decimal digits with an optional sign, of any size up to 4,300 digits."""
    if not _INT.fullmatch(text):
        raise WrongType(f"expected an integer, got {text[:40]!r}")
    try:
        return int(text)
    except ValueError:  # more digits than Python converts (4,300)
        raise WrongType(f"expected an integer, got one of {len(text)} digits") from None


def parse_float(text: str) -> float:
    """A decimal number such as ``-1.5`` or ``2e3``; no ``nan`` or ``inf``."""
    if not _FLOAT.fullmatch(text):
        raise WrongType(f"expected a number, got {text[:40]!r}")
    return float(text)


def parse_bool(text: str) -> bool:
    """true/false, 1/0, yes/no, on/off, in any case."""
    word = text.lower()
    if word in _TRUE or word in _FALSE:
        return word in _TRUE
    raise WrongType(f"expected a boolean (true/false, on/off, 1/0, yes/no), got {text[:40]!r}")


def _text(text: str) -> str:
    return text


_PARSE: dict[Any, Callable[[str], Any]] = {
    int: parse_int, BigInt: parse_big_int, float: parse_float, bool: parse_bool, str: _text,
}


def strict_text(converter: cattrs.Converter) -> cattrs.Converter:
    """Make ``converter`` parse text values (forms): ``int``, ``float`` and ``bool`` as
    :func:`parse_int`, :func:`parse_float` and :func:`parse_bool` do; a union such as ``int | None``
    as the first of its types that parses (None is an absent field)."""
    for kind in (int, BigInt, float, bool):
        converter.register_structure_hook(kind, _from_text(kind))
    converter.register_structure_hook_factory(_is_plain_union, _from_text)
    return converter


def _from_text(kind: Any) -> Callable[[Any, Any], Any]:
    parsers = [_PARSE[m] for m in getattr(kind, "__args__", (kind,)) if m is not type(None)]

    def structure(value: Any, _: Any) -> Any:
        if type(value) is not str:
            raise WrongType(f"expected text, got {json_type(value)}")
        for parse in parsers[:-1]:
            try:
                return parse(value)
            except WrongType:
                pass
        return parsers[-1](value)

    return structure


def load_json(payload: bytes | str) -> Any:
    """Parse JSON (bytes must be UTF-8, RFC 8259), with every failure a :class:`DecodeError`: not
    UTF-8, not JSON (``NaN`` and ``Infinity`` are not), or nested too deeply for the decoder."""
    try:
        return _json.decode(payload.decode() if isinstance(payload, bytes) else payload)
    except RecursionError:
        raise DecodeError("is nested too deeply") from None
    except ValueError as e:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise DecodeError(f"is not valid JSON: {e}") from None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


_json = json.JSONDecoder(parse_constant=_refuse_constant)  # json.loads(..., parse_constant=) builds one per call


def structurer(converter: cattrs.Converter, cls: type[T]) -> Callable[[Any], T]:
    """``converter.structure(data, cls)`` with the hook looked up once, and every failure a
    :class:`DecodeError` naming the field (``does not fit Item: field 'qty': ...``)."""
    hook = converter.get_structure_hook(cls)

    def structure(data: Any) -> T:
        try:
            value: T = hook(data, cls)
        except RecursionError:
            raise DecodeError("is nested too deeply") from None
        except cattrs.BaseValidationError as e:
            raise DecodeError(f"does not fit {cls.__name__}: {describe(e)}") from None
        except (ValueError, TypeError, AttributeError) as e:
            raise DecodeError(f"does not fit {cls.__name__}: {e}") from None
        return value

    return structure


def describe(error: cattrs.BaseValidationError) -> str:
    """``field 'lines[0].qty': expected an integer, got a string``, one part per wrong field."""
    described = []
    for line in transform_error(error, format_exception=_format):
        message, _, where = line.rpartition(" @ $")
        described.append(f"field {where.lstrip('.')!r}: {message}" if message and where else line)
    return "; ".join(described)


def _format(exc: BaseException, kind: Any) -> str:
    return str(exc) if isinstance(exc, WrongType) else format_exception(exc, kind)
