"""Typed query values, resolved by annotation like the path types, each read under the parameter's
name: ``def search(self, n: query.Int = query.Int(10), q: query.String | None = None)``.

A value that does not parse is answered 400 naming the parameter; an absent one takes the
parameter's default (None for ``query.X | None``), and without a default is answered 400.
A repeated name gives its last value (``Query.get_all`` gives every one).
"""

from __future__ import annotations

from types import UnionType
from typing import Any, ClassVar, Union, get_args, get_origin

from attrs import frozen

from . import path
from .context import RequestContext
from .errors import BadRequest
from .params import Query
from .pipeline.plan import Resolver


@frozen
class Int(path.Int):
    """An integer query value: ``?n=10`` → ``Int(10)``."""

    source: ClassVar[str] = "query"


@frozen
class Float(path.Float):
    """A number query value: ``?max=2.5`` → ``Float(2.5)``."""

    source: ClassVar[str] = "query"


@frozen
class String(path.String):
    """A query value taken as text."""

    source: ClassVar[str] = "query"


@frozen
class Bool(path.Bool):
    """A boolean query value: true/false, 1/0, yes/no, on/off."""

    source: ClassVar[str] = "query"


QUERY_TYPES: tuple[type, ...] = (Int, Float, String, Bool)


def query_type(annotation: Any) -> tuple[type, bool] | None:
    """``(type, optional)`` when ``annotation`` is a query type or ``query.X | None``."""
    return optional_of(annotation, QUERY_TYPES)


def optional_of(annotation: Any, kinds: tuple[type, ...]) -> tuple[type, bool] | None:
    """``(kind, optional)`` when ``annotation`` is one of ``kinds`` or ``kind | None``."""
    if annotation in kinds:
        return annotation, False
    args = get_args(annotation)
    if get_origin(annotation) in (Union, UnionType):
        found = [a for a in args if a is not type(None)]
        if len(found) == 1 and len(args) == 2 and found[0] in kinds:
            return found[0], True
    return None


NO_DEFAULT: Any = object()
"""The parameter has no default: it is required."""


def query_resolver(name: str, kind: Any, default: Any = NO_DEFAULT) -> Resolver[RequestContext]:
    """The resolver of a query parameter ``name`` of ``kind``; ``default`` when it is absent."""
    parse = kind.parse

    def resolve(ctx: RequestContext) -> Any:
        raw = Query(ctx.request.params).get(name)
        if raw is None:
            if default is NO_DEFAULT:
                raise BadRequest(f"query parameter {name!r} is required")
            return default
        return parse(name, raw)

    return resolve
