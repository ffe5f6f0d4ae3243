"""Handler parameters of an HTTP route, resolved by their annotation."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import attrs

from ..context import Context, RequestContext
from ..codecs.json import JSON
from ..decoding import DecodeError
from ..errors import BadRequest, BootError
from ..header import header_resolver, header_type
from ..options import HTTPOptions
from ..params import Query, RequestHeaders
from ..path import PATH_TYPES
from ..pipeline.plan import Resolver, ResolverFor
from ..query import NO_DEFAULT, query_resolver, query_type
from .formdata import UploadedFile, file_resolver, files_resolver
from .forms import form_resolver, is_form
from .media import require_json
from .pagination import Pagination, pagination_resolver


def _context(ctx: RequestContext) -> Context:
    return ctx


def _query(ctx: RequestContext) -> Query:
    return Query(ctx.request.params)


def _headers(ctx: RequestContext) -> RequestHeaders:
    return RequestHeaders(ctx.request.headers)


def _path(name: str, kind: Any) -> Resolver[RequestContext]:
    parse = kind.parse
    return lambda ctx: parse(name, ctx.params[name])


def _body(cls: type) -> Resolver[RequestContext]:
    fit: Callable[[bytes], Any] = JSON.decoder(cls)  # HTTP bodies are JSON whatever the events' codec

    def resolve(ctx: RequestContext) -> Any:
        request = ctx.request
        if not request.content_length and request.content_type is None:
            raise BadRequest(f"a JSON request body ({cls.__name__}) is required")
        require_json(request)
        raw = request.bounded_stream.read()  # Content-Length, bounded by BodyLimit
        if not raw:
            raise BadRequest(f"a JSON request body ({cls.__name__}) is required")
        try:
            return fit(raw)
        except DecodeError as e:
            raise BadRequest(f"request body {e}") from None

    return resolve


def http_resolvers(
    path_params: list[str], options: HTTPOptions | None = None, defaults: Mapping[str, Any] | None = None
) -> ResolverFor[RequestContext]:
    """A ResolverFor one route whose ``:params`` are ``path_params``, matched in order;
    ``options`` bound bodies, uploads and page sizes; ``defaults`` are the handler's parameter
    defaults (for query values)."""
    remaining: Iterator[str] = iter(path_params)
    limits = options or HTTPOptions()
    given = defaults or {}

    def resolver_for(name: str, annotation: Any) -> Resolver[RequestContext]:
        if annotation is Context:
            return _context
        if annotation in PATH_TYPES:
            segment = next(remaining, None)
            if segment is None:
                raise BootError(f"parameter {name!r} wants a path segment but the route has no more :params")
            return _path(segment, annotation)
        if annotation is Query:
            return _query
        typed = query_type(annotation)
        if typed is not None:
            kind, optional = typed
            return query_resolver(name, kind, given.get(name, None if optional else NO_DEFAULT))
        if annotation is RequestHeaders:
            return _headers
        header = header_type(annotation)
        if header is not None:
            kind, optional = header
            return header_resolver(name, kind, given.get(name, None if optional else NO_DEFAULT))
        if annotation is Pagination:
            return pagination_resolver(limits.max_page_size)
        if annotation == list[UploadedFile]:
            return files_resolver(limits.max_upload_size)
        if annotation is UploadedFile:
            return file_resolver(name, limits.max_upload_size)
        if is_form(annotation):
            return form_resolver(annotation, limits.max_upload_size)
        if attrs.has(annotation):
            return _body(annotation)
        raise BootError(f"cannot resolve parameter {name!r} of type {annotation!r} for an HTTP route")

    return resolver_for
