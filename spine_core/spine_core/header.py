"""Typed header values, resolved by annotation like the query types, each read from the header named
after the parameter (``x_tenant`` → ``X-Tenant``): ``def list(self, x_tenant: header.String)``.

A value that does not parse is answered 400 naming the header; an absent one takes the parameter's
default (None for ``header.X | None``), and without a default is answered 400.
"""

from __future__ import annotations

from typing import Any, ClassVar

from attrs import frozen

from . import path
from .context import RequestContext
from .errors import BadRequest
from .pipeline.plan import Resolver
from .query import NO_DEFAULT, optional_of


@frozen
class Int(path.Int):
    """An integer header value: ``X-Version: 2`` → ``Int(2)``."""

    source: ClassVar[str] = "header"


@frozen
class Float(path.Float):
    """A number header value."""

    source: ClassVar[str] = "header"


@frozen
class String(path.String):
    """A header value taken as text."""

    source: ClassVar[str] = "header"


@frozen
class Bool(path.Bool):
    """A boolean header value: true/false, 1/0, yes/no, on/off."""

    source: ClassVar[str] = "header"


HEADER_TYPES: tuple[type, ...] = (Int, Float, String, Bool)


def header_type(annotation: Any) -> tuple[type, bool] | None:
    """``(type, optional)`` when ``annotation`` is a header type or ``header.X | None``."""
    return optional_of(annotation, HEADER_TYPES)


def header_name(parameter: str) -> str:
    """The header a parameter reads: ``x_tenant_id`` → ``X-Tenant-Id``."""
    return "-".join(part.capitalize() for part in parameter.split("_"))


def header_resolver(name: str, kind: Any, default: Any = NO_DEFAULT) -> Resolver[RequestContext]:
    """The resolver of the header read by parameter ``name``, of ``kind``; ``default`` when absent."""
    parse = kind.parse
    header = header_name(name)

    def resolve(ctx: RequestContext) -> Any:
        raw = ctx.request.get_header(header)
        if raw is None:
            if default is NO_DEFAULT:
                raise BadRequest(f"header {header!r} is required")
            return default
        return parse(header, raw)

    return resolve
