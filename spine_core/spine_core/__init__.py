"""Spine for Python: HTTP services that publish domain events, and services that consume them."""

from . import path, publish
from .app import Spine
from .context import Context
from .errors import (
    BadRequest,
    BootError,
    Conflict,
    Forbidden,
    HTTPError,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    PublishError,
    ServiceUnavailable,
    SpineError,
    TooManyRequests,
    Unauthorized,
    UnprocessableEntity,
)
from .event import Event
from .hookspecs import hookimpl
from .http.responses import Response
from .interceptor import Interceptor
from .messages import IncomingMessage
from .options import BrokerOptions, HTTPOptions, Options, ReadOptions, RetryOptions, WriteOptions
from .params import Query, RequestHeaders
from .serve import Service

__all__ = [
    "BadRequest", "BootError", "BrokerOptions", "Conflict", "Context", "Event", "Forbidden",
    "HTTPError", "HTTPOptions", "IncomingMessage", "Interceptor", "MethodNotAllowed", "NotFound",
    "Options", "PayloadTooLarge", "PublishError", "Query", "ReadOptions", "RequestHeaders",
    "Response", "RetryOptions", "Service", "ServiceUnavailable", "Spine", "SpineError",
    "TooManyRequests", "Unauthorized", "UnprocessableEntity", "WriteOptions", "hookimpl",
    "path", "publish",
]
