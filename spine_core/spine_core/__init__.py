"""Spine for Python: HTTP services that publish domain events, and services that consume them."""

from . import path, publish, query
from .app import Spine
from .context import Context, MessageContext, RequestContext
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
from .http.cors import Cors
from .http.formdata import UploadedFile
from .http.forms import form
from .http.pagination import Pagination
from .http.responses import Response
from .http.results import Binary, Cookie, Redirect
from .interceptor import Interceptor
from .messages import IncomingMessage
from .options import BrokerOptions, HTTPOptions, OpsOptions, Options, ReadOptions, RetryOptions, WriteOptions
from .params import Query, RequestHeaders
from .serve import Service

__all__ = [
    "BadRequest", "Binary", "BootError", "BrokerOptions", "Conflict", "Context", "Cookie", "Cors",
    "Event", "Forbidden", "HTTPError", "HTTPOptions", "IncomingMessage", "Interceptor",
    "MessageContext", "MethodNotAllowed", "NotFound", "OpsOptions", "Options", "Pagination", "PayloadTooLarge",
    "PublishError",
    "Query", "ReadOptions", "Redirect", "RequestContext", "RequestHeaders", "Response", "RetryOptions", "Service",
    "ServiceUnavailable", "Spine", "SpineError", "TooManyRequests", "Unauthorized",
    "UnprocessableEntity", "UploadedFile", "WriteOptions", "form", "hookimpl", "path", "publish", "query",
]
