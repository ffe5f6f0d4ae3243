"""``Pagination``: the ``page`` and ``size`` query values, validated."""

from __future__ import annotations

from attrs import frozen

from ..context import RequestContext
from ..errors import BadRequest
from ..params import Query
from ..pipeline.plan import Resolver

DEFAULT_PAGE = 1
DEFAULT_SIZE = 20
MAX_PAGE = 1_000_000_000
"""The largest ``page``: its offset stays a small 64-bit integer a database accepts."""


@frozen
class Pagination:
    """``?page=2&size=50`` → ``Pagination(page=2, size=50)``; defaults 1 and 20.

    A value that is not a whole number, is below 1, or is above its bound (``MAX_PAGE`` for
    ``page``, ``HTTPOptions.max_page_size`` for ``size``) is answered 400.
    """

    page: int = DEFAULT_PAGE
    size: int = DEFAULT_SIZE

    @property
    def offset(self) -> int:
        """How many items come before this page: ``(page - 1) * size``."""
        return (self.page - 1) * self.size


def _number(query: Query, name: str, default: int, most: int) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()):
        raise BadRequest(f"query parameter {name!r} must be a whole number, got {raw[:40]!r}")
    if len(raw) > len(str(most)) or int(raw) > most:  # the length first: int() of 5,000 digits raises
        raise BadRequest(f"query parameter {name!r} must be at most {most}, got {raw[:40]}")
    value = int(raw)
    if value < 1:
        raise BadRequest(f"query parameter {name!r} must be at least 1, got {value}")
    return value


def pagination_resolver(max_page_size: int) -> Resolver[RequestContext]:
    """The resolver of a ``Pagination`` parameter, ``size`` bounded by ``max_page_size``."""

    def resolve(ctx: RequestContext) -> Pagination:
        query = Query(ctx.request.params)
        page = _number(query, "page", DEFAULT_PAGE, MAX_PAGE)
        return Pagination(page, _number(query, "size", DEFAULT_SIZE, max_page_size))

    return resolve
