"""The fast engine behind the codecs: msgspec encodes and decodes the classes it reads exactly as
Spine's strict cattrs converter does; everything else, and every refusal, goes through the converter.

PERF: ``python -m bench.codecs`` (2026-12-07, a shared 2-core machine): the seed's ``OrderCreated``
takes 0.19 µs to encode and 0.21 µs to decode with msgspec against 2.57 and 2.52 µs with cattrs and
the standard ``json``; an order with ten lines 1.5 and 2.0 µs against 9.5 and 18.6 µs. The price is
the rule below of which classes take the fast path, and a second decode of any payload it refuses
(a bad payload is refused by the converter, which names the field as before).
"""

from __future__ import annotations

import sys
import typing
from collections.abc import Callable
from datetime import date, datetime
from functools import lru_cache
from types import UnionType
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

import attrs
import msgspec

from ..decoding import INT64_MAX, INT64_MIN, BigInt

T = TypeVar("T")
_LEAVES: frozenset[Any] = frozenset({str, int, float, bool, type(None), datetime, date, BigInt})
_ARRAYS = (list, set, frozenset)


def fast(kind: Any) -> bool:
    """Whether msgspec reads and writes ``kind`` as the converter does: plain values, datetimes,
    arrays, string-keyed objects, unions of them, and attrs classes of such fields whose ``__init__``
    takes each field by its name (no converter, no private or aliased field)."""
    try:
        return _cached(kind)
    except TypeError:  # an unhashable annotation
        return _fast(kind, set())


@lru_cache(maxsize=1024)
def _cached(kind: Any) -> bool:
    return _fast(kind, set())


def _fast(kind: Any, seen: set[type]) -> bool:
    if kind in _LEAVES:
        return True
    if isinstance(kind, type) and attrs.has(kind):
        if kind in seen:  # a recursive class: decided by its other fields
            return True
        seen.add(kind)
        try:
            hints = typing.get_type_hints(kind)
        except Exception:  # an annotation that does not resolve: the converter reports it
            return False
        return all(a.init and a.converter is None and a.alias == a.name and not a.name.startswith("_")
                   and _fast(hints.get(a.name, a.type), seen) for a in attrs.fields(kind))
    origin, args = get_origin(kind), get_args(kind)
    if origin in _ARRAYS:
        return len(args) == 1 and _fast(args[0], seen)
    if origin is tuple:
        return bool(args) and all(a is Ellipsis or _fast(a, seen) for a in args)
    if origin is dict:
        return len(args) == 2 and args[0] is str and _fast(args[1], seen)
    if origin in (Union, UnionType):
        return all(_fast(a, seen) for a in args)
    return False


_instances: dict[type, bool] = {}
"""Whether instances of a type are :func:`fast` attrs instances. PERF: a dict lookup; ``attrs.has``
and the cached :func:`fast` took 0.35 µs of the 0.56 µs an event's encoding took."""


def fast_value(value: Any) -> bool:
    """Whether msgspec encodes ``value`` as the converter would: an attrs instance of a
    :func:`fast` class, or a list of them."""
    kind = type(value)
    if kind is list:
        return all(_fast_instance(type(v)) for v in value)
    return _fast_instance(kind)


def _fast_instance(kind: type) -> bool:
    known = _instances.get(kind)
    if known is None:
        known = _instances[kind] = attrs.has(kind) and fast(kind)
    return known


def typed(make: Callable[[Any], Callable[[bytes], T]], cls: type[T]) -> Callable[[bytes], T] | None:
    """msgspec's decoder of ``cls`` made by ``make`` (``lambda c: msgspec.json.Decoder(c).decode``),
    or None when ``cls`` is not :func:`fast` or msgspec does not take it (a union of two classes)."""
    if not fast(cls):
        return None
    try:
        return make(cls)
    except (TypeError, ValueError):
        return None


_INT64 = Annotated[int, msgspec.Meta(ge=INT64_MIN, le=INT64_MAX)]
_FINITE = Annotated[float, msgspec.Meta(ge=-sys.float_info.max, le=sys.float_info.max)]  # NaN fails both


def bounds(kind: Any) -> Any:
    """A type msgspec checks the bounds of ``kind`` with, which it does not by itself: every ``int``
    within 64 bits and every ``float`` finite (attrs classes become msgspec Structs of the same
    fields); None for a recursive class. Decoding into it only validates."""
    try:
        return _bounds(kind, set())
    except RecursionError:
        return None


def _bounds(kind: Any, seen: set[type]) -> Any:
    if kind is int:
        return _INT64
    if kind is float:
        return _FINITE
    if kind is BigInt:
        return int
    if kind in _LEAVES:
        return kind
    if isinstance(kind, type) and attrs.has(kind):
        if kind in seen:
            raise RecursionError(kind.__qualname__)
        seen = seen | {kind}
        hints = typing.get_type_hints(kind)
        fields = [(a.name, _bounds(hints.get(a.name, a.type), seen))
                  if a.default is attrs.NOTHING else (a.name, _bounds(hints.get(a.name, a.type), seen), None)
                  for a in attrs.fields(kind)]
        return msgspec.defstruct(kind.__name__, fields, kw_only=True)
    origin, args = get_origin(kind), get_args(kind)
    mirrored = tuple(a if a is Ellipsis else _bounds(a, seen) for a in args)
    if origin in (Union, UnionType):
        return Union[mirrored]
    return origin[mirrored]
