"""Spine for Python: HTTP services that publish domain events, and services that consume them.

Everything an application needs is importable from here; each name is loaded on first use,
so that ``import spine_core.broker`` (a broker plugin's door) loads no HTTP layer.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from . import header, path, publish, query
    from .app import Spine
    from .codecs.base import Codec
    from .codecs.choice import UnknownContentType
    from .codecs.json import JSON
    from .codecs.msgpack import MSGPACK
    from .context import Context, MessageContext, RequestContext
    from .errors import (
        BadRequest, BootError, Conflict, Forbidden, HTTPError, MethodNotAllowed, NotFound, PayloadTooLarge,
        PublishError, ServiceUnavailable, SpineError, TooManyRequests, Unauthorized, UnprocessableEntity,
        UnsupportedMediaType,
    )
    from .decoding import BigInt
    from .event import Event, decode, encode
    from .hookspecs import hookimpl
    from .http.cors import Cors
    from .http.formdata import UploadedFile
    from .http.forms import form
    from .http.pagination import Pagination
    from .http.responses import Response
    from .http.results import Binary, Cookie, Redirect
    from .interceptor import Interceptor
    from .messages import ACK, NACK, Ack, DeadLetter, Deliver, IncomingMessage, Nack, Settlement
    from .ops.logs import configure_logging
    from .options import BrokerOptions, HTTPOptions, OpsOptions, Options, ReadOptions, RetryOptions, WriteOptions
    from .params import Query, RequestHeaders
    from .serve import Service, run_until_signal

_WHERE = {
    "header": "", "path": "", "publish": "", "query": "",
    "BigInt": ".decoding",
    "Spine": ".app",
    "Codec": ".codecs.base", "UnknownContentType": ".codecs.choice", "JSON": ".codecs.json",
    "MSGPACK": ".codecs.msgpack",
    "Context": ".context", "MessageContext": ".context", "RequestContext": ".context",
    **dict.fromkeys((
        "BadRequest", "BootError", "Conflict", "Forbidden", "HTTPError", "MethodNotAllowed", "NotFound",
        "PayloadTooLarge", "PublishError", "ServiceUnavailable", "SpineError", "TooManyRequests", "Unauthorized",
        "UnprocessableEntity", "UnsupportedMediaType",
    ), ".errors"),
    "Event": ".event", "decode": ".event", "encode": ".event",
    "hookimpl": ".hookspecs",
    "Cors": ".http.cors", "UploadedFile": ".http.formdata", "form": ".http.forms", "Pagination": ".http.pagination",
    "Response": ".http.responses", "Binary": ".http.results", "Cookie": ".http.results", "Redirect": ".http.results",
    "Interceptor": ".interceptor",
    **dict.fromkeys(("ACK", "NACK", "Ack", "DeadLetter", "Deliver", "IncomingMessage", "Nack", "Settlement"),
                    ".messages"),
    "configure_logging": ".ops.logs",
    **dict.fromkeys((
        "BrokerOptions", "HTTPOptions", "OpsOptions", "Options", "ReadOptions", "RetryOptions", "WriteOptions",
    ), ".options"),
    "Query": ".params", "RequestHeaders": ".params",
    "Service": ".serve", "run_until_signal": ".serve",
}
"""Each public name and the module it comes from ("": the submodule of that name)."""

__all__ = [
    "ACK", "Ack", "BadRequest", "BigInt", "Binary", "BootError", "BrokerOptions", "Codec", "Conflict",
    "Context", "Cookie", "Cors", "DeadLetter", "Deliver", "Event", "Forbidden", "HTTPError", "HTTPOptions",
    "IncomingMessage", "Interceptor", "JSON", "MSGPACK", "MessageContext", "MethodNotAllowed", "NACK", "Nack",
    "NotFound", "OpsOptions", "Options", "Pagination", "PayloadTooLarge", "PublishError", "Query",
    "ReadOptions", "Redirect", "RequestContext", "RequestHeaders", "Response", "RetryOptions", "Service",
    "ServiceUnavailable", "Settlement", "Spine", "SpineError", "TooManyRequests", "Unauthorized",
    "UnknownContentType", "UnprocessableEntity", "UnsupportedMediaType", "UploadedFile", "WriteOptions",
    "configure_logging", "decode", "encode", "form", "header", "hookimpl", "path", "publish", "query",
    "run_until_signal",
]


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = import_module(f".{name}", __name__) if not where else getattr(import_module(where, __name__), name)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
