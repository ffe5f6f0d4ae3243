"""``Pagination``: the ``page`` and ``size`` query values, validated."""

from __future__ import annotations

from attrs import frozen

from ..context import Context
from ..errors import BadRequest
from ..params import Query
from ..pipeline.plan import Resolver

DEFAULT_PAGE = 1
DEFAULT_SIZE = 20


@frozen
class Pagination:
    """``?page=2&size=50`` → ``Pagination(page=2, size=50)``; defaults 1 and 20.

    A value that is not a whole number, is below 1, or (for ``size``) is above
    ``HTTPOptions.max_page_size`` is answered 400.
    """

    page: int = DEFAULT_PAGE
    size: int = DEFAULT_SIZE

    @property
    def offset(self) -> int:
        """How many items come before this page: ``(page - 1) * size``."""
        return (self.page - 1) * self.size


def _number(query: Query, name: str, default: int, most: int | None) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()):
        raise BadRequest(f"query parameter {name!r} must be a whole number, got {raw!r}")
    value = int(raw)
    if value < 1:
        raise BadRequest(f"query parameter {name!r} must be at least 1, got {value}")
    if most is not None and value > most:
        raise BadRequest(f"query parameter {name!r} must be at most {most}, got {value}")
    return value


def pagination_resolver(max_page_size: int) -> Resolver:
    """The resolver of a ``Pagination`` parameter, ``size`` bounded by ``max_page_size``."""

    def resolve(ctx: Context) -> Pagination:
        query = Query(ctx.request.params)  # type: ignore[union-attr]
        page = _number(query, "page", DEFAULT_PAGE, None)
        return Pagination(page, _number(query, "size", DEFAULT_SIZE, max_page_size))

    return resolve
