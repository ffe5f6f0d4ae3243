"""An app's OpenAPI 3.1 document, from what it registers: each route's signature is its contract.

Per route an operation: its id and tag from the handler (``OrderController.create``, tag
``OrderController``), summary and description from its docstring, a parameter per path, query and
header value (types, ``int64`` bounds, defaults, required), the request body of an attrs class (JSON),
a ``@form`` class (both form types) or uploads (multipart), and every answer it can give: from the
return type (or the route's ``responses=`` where a ``Response`` says too little), the ones its
interceptors declare, CORS preflight, and Spine's own (400, 404, 405, 413, 415, 503, 500). Schemas of
classes come from :mod:`.schema`, as in the AsyncAPI document.
"""

from __future__ import annotations

import inspect
import re
import typing
from collections.abc import Iterable, Mapping, Sequence
from types import NoneType, UnionType
from typing import Any, Union

import attrs

from ..blueprint import Blueprint
from ..context import Context
from ..decoding import INT64_MAX, INT64_MIN
from ..header import header_name, header_type
from ..http.cors import Cors
from ..http.formdata import UploadedFile
from ..http.forms import is_form
from ..http.media import FORM_TYPES
from ..http.pagination import DEFAULT_PAGE, DEFAULT_SIZE, MAX_PAGE, Pagination
from ..http.responses import Response
from ..http.results import Binary, Redirect
from ..http.routes import Route, falcon_template
from ..options import Address, Options
from ..path import PATH_TYPES
from ..query import query_type
from .schema import Schema, payload_schema, type_schema

OPENAPI_VERSION = "3.1.0"

ERROR: Schema = {
    "type": "object", "title": "Error", "properties": {"message": {"type": "string"}}, "required": ["message"],
}
"""The body of every error Spine answers."""

SPINE_ANSWERS: dict[str, tuple[str, str]] = {
    "400": ("BadRequest", "A value is missing, of the wrong type or out of range; the message names it."),
    "404": ("NotFound", "Nothing is routed at this path, or the handler found nothing."),
    "405": ("MethodNotAllowed", "The path is routed, but not for this method (other methods in Allow)."),
    "413": ("PayloadTooLarge", "The body is over HTTPOptions.max_body_size (max_upload_size for a form)."),
    "415": ("UnsupportedMediaType", "The body's Content-Type, or a body without one, is not accepted here; "
                                    "the message names the types that are."),
    "503": ("ServiceUnavailable", "An event the handler published was not confirmed by the broker in time: "
                                  "nothing was answered OK for a lost event."),
    "500": ("InternalServerError", "An unexpected error (logged by the service)."),
}
"""Spine's own answers: status → (component name, when)."""

_SEGMENT = re.compile(r"{([^}]+)}")
_BINARY: Schema = {"type": "string", "format": "binary"}
_TEXT = {"text/plain": {"schema": {"type": "string"}}}


def document(app: Blueprint, options: Options, title: str, *, served: bool = False) -> dict[str, Any]:
    """The OpenAPI document of ``app`` under ``options``, titled ``app.title`` or else ``title``;
    ``served``: its server is the address it is fetched from (relative URL), not ``options.address``."""
    prefix = options.http.global_prefix.rstrip("/") if options.http is not None else ""
    global_interceptors = list(app.interceptors)
    paths: dict[str, dict[str, Any]] = {}
    schemes: dict[str, Any] = {}
    tags: dict[str, str] = {}
    ids: set[str] = set()
    for route in app.routes:
        interceptors = [*global_interceptors, *route.interceptors]
        for i in interceptors:
            schemes.update(getattr(i, "security", {}))
        operation = _operation(route, options, interceptors, ids)
        tag = operation["tags"][0]
        tags.setdefault(tag, _doc(_owner(route.handler)) or f"Routes of {tag}.")
        paths.setdefault(falcon_template(route.path), {})[route.method.lower()] = operation
    cors = next((i for i in global_interceptors if isinstance(i, Cors)), None)
    if cors is not None:
        for template, item in paths.items():
            segments = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                        for name in _SEGMENT.findall(template)]  # a preflight reads none of them
            preflight = _preflight(cors, template, [m.upper() for m in item])
            preflight["parameters"] = [*segments, *preflight["parameters"]]
            item.setdefault("options", preflight)
    components: dict[str, Any] = {
        "schemas": {"Error": ERROR},
        "responses": {name: {"description": when, "content": {"application/json": {"schema": {
            "$ref": "#/components/schemas/Error"}}}} for name, when in SPINE_ANSWERS.values()},
    }
    if schemes:
        components["securitySchemes"] = schemes
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": app.title or title, "version": app.version,
                 "description": f"HTTP API of {app.title or title}, generated by Spine from its handlers."},
        "servers": [{"url": prefix or "/"}] if served else [_server(options, prefix)],
        "tags": [{"name": name, "description": text} for name, text in tags.items()],
        "paths": paths,
        "components": components,
    }


def _server(options: Options, prefix: str) -> dict[str, str]:
    address = Address.parse(options.address)
    every = address.host in ("0.0.0.0", "::", "")  # nosec B104 # a comparison: nothing is bound here
    host = "localhost" if every else address.host
    host = f"[{host}]" if ":" in host else host
    return {"url": f"http://{host}:{address.port}{prefix}", "description": "Options.address"}


def _operation(route: Route, options: Options, interceptors: Sequence[Any], ids: set[str]) -> dict[str, Any]:
    handler = route.handler
    owner = _owner(handler)
    name = getattr(handler, "__name__", "handler")
    tag = owner.__qualname__ if owner is not None else handler.__module__
    operation_id = f"{tag}.{name}"
    if operation_id in ids:
        operation_id = f"{operation_id}.{route.method.lower()}{falcon_template(route.path)}"
    ids.add(operation_id)
    summary, _, description = (inspect.getdoc(handler) or "").partition("\n")
    operation: dict[str, Any] = {"operationId": operation_id, "tags": [tag],
                                 "summary": summary.strip() or f"{route.method} {route.path}"}
    if description.strip():
        operation["description"] = description.strip()
    hints = typing.get_type_hints(handler)
    parameters, body = _inputs(route, hints, options, inspect.signature(handler).parameters)
    if parameters:
        operation["parameters"] = parameters
    if body is not None:
        operation["requestBody"] = body
    responses = _returns(hints.get("return", Any))
    for status, declared in route.responses.items():
        responses[str(status)] = _declared(declared)
    if not responses:
        responses["default"] = {"description": "The handler's Response (declare its statuses with responses=)."}
    for i in interceptors:
        for status, when in getattr(i, "responses", {}).items():
            responses.setdefault(str(status), {"description": when, "content": _ERROR_CONTENT})
    spine = ["404", "405", "503", "500"]
    if parameters or body is not None:
        spine.append("400")
    if body is not None:
        spine += ["413", "415"]
    for status in spine:
        responses.setdefault(status, {"$ref": f"#/components/responses/{SPINE_ANSWERS[status][0]}"})
    operation["responses"] = dict(sorted(responses.items()))
    security: list[dict[str, list[str]]] = [{scheme: []} for i in interceptors for scheme in getattr(i, "security", {})]
    if security:
        operation["security"] = security
    return operation


_ERROR_CONTENT = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}


def _inputs(
    route: Route, hints: Mapping[str, Any], options: Options, signature: Mapping[str, inspect.Parameter]
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """The parameters and the request body the handler's signature reads."""
    segments = iter(route.param_names())
    parameters: list[dict[str, Any]] = []
    json_body: Any = None
    form: dict[str, Any] = {"properties": {}, "required": []}
    multipart = False
    max_page = options.http.max_page_size if options.http is not None else 100
    for pname, p in signature.items():
        annotation = hints.get(pname)
        if annotation is None or (isinstance(annotation, type) and issubclass(annotation, Context)):
            continue
        default = p.default
        if annotation in PATH_TYPES:
            segment = next(segments, pname)
            parameters.append({"name": segment, "in": "path", "required": True, "schema": _value(annotation)})
        elif (typed := query_type(annotation)) is not None or (typed := header_type(annotation)) is not None:
            kind, optional = typed
            where = "query" if query_type(annotation) is not None else "header"
            schema = _value(kind)
            if default is not inspect.Parameter.empty and default is not None:
                schema["default"] = default.value
            parameters.append({"name": pname if where == "query" else header_name(pname), "in": where,
                               "required": default is inspect.Parameter.empty and not optional, "schema": schema})
        elif annotation is Pagination:
            for qname, first, most in (("page", DEFAULT_PAGE, MAX_PAGE), ("size", DEFAULT_SIZE, max_page)):
                parameters.append({"name": qname, "in": "query", "required": False, "schema": {
                    "type": "integer", "format": "int64", "minimum": 1, "maximum": most, "default": first}})
        elif annotation is UploadedFile:
            multipart = True
            form["properties"][pname] = _BINARY
            form["required"].append(pname)
        elif annotation == list[UploadedFile]:
            multipart = True
            form["properties"]["files"] = {"type": "array", "items": _BINARY,
                                           "description": "Any number of files, in fields of any name."}
        elif is_form(annotation):
            schema = payload_schema(annotation)
            form["properties"].update(schema["properties"])
            form["required"] += schema.get("required", [])
            form.setdefault("title", schema["title"])
        elif attrs.has(annotation):
            json_body = annotation
    for segment in segments:  # a :param no handler parameter reads
        parameters.append({"name": segment, "in": "path", "required": True, "schema": {"type": "string"}})
    if json_body is not None:
        return parameters, {"required": True, "content": {"application/json": {"schema": payload_schema(json_body)}},
                            "description": "JSON (application/json or application/*+json)."}
    if not form["properties"]:
        return parameters, None
    schema = {"type": "object", **{k: v for k, v in form.items() if v}}
    types = [FORM_TYPES[1]] if multipart else list(FORM_TYPES)
    return parameters, {"required": True, "content": {t: {"schema": schema} for t in types}}


def _value(kind: type) -> Schema:
    """The schema of a path, query or header type (``path.Int`` → a 64-bit integer)."""
    value = kind.__mro__[1] if kind not in PATH_TYPES else kind  # query.Int → path.Int
    name = value.__name__
    if name == "Int":
        return {"type": "integer", "format": "int64", "minimum": INT64_MIN, "maximum": INT64_MAX}
    if name == "Float":
        return {"type": "number"}
    if name == "Bool":
        return {"type": "boolean"}
    return {"type": "string", "minLength": 1, "pattern": "^[^/]+$"} if getattr(kind, "source", "") == "path" \
        else {"type": "string"}


def _returns(tp: Any) -> dict[str, Any]:
    """The answers a return type says (empty: it says too little)."""
    if tp is None or tp is NoneType:
        return {"204": {"description": "No content."}}
    if tp is Any or tp is Response or tp is object:
        return {}
    if typing.get_origin(tp) in (Union, UnionType):
        merged: dict[str, Any] = {}
        for option in typing.get_args(tp):
            found = _returns(option)
            if not found:
                return {}
            merged.update(found)
        return merged
    return {"3XX" if tp is Redirect else "200": _body(tp)}


def _declared(declared: Any) -> dict[str, Any]:
    if declared is None:
        return {"description": "No content."}
    if isinstance(declared, str):
        return {"description": declared}
    return _body(declared)


def _body(tp: Any) -> dict[str, Any]:
    """One answer whose body is ``tp``, rendered as Spine renders a returned value."""
    if tp is str:
        return {"description": "Text.", "content": _TEXT}
    if tp in (bytes, bytearray):
        return {"description": "Bytes.", "content": {"application/octet-stream": {"schema": _BINARY}}}
    if tp is Redirect:
        return {"description": "A redirect to Location.", "headers": {"Location": {"schema": {"type": "string"}}},
                "content": _TEXT}
    if tp is Binary:
        return {"description": "Bytes of the handler's content type (a download with Content-Disposition).",
                "content": {"*/*": {"schema": _BINARY}}}
    if isinstance(tp, type) and attrs.has(tp) and tp.__doc__:
        return {"description": _doc(tp), "content": {"application/json": {"schema": type_schema(tp)}}}
    return {"description": "JSON.", "content": {"application/json": {"schema": type_schema(tp)}}}


def _preflight(cors: Cors, template: str, methods: Iterable[str]) -> dict[str, Any]:
    origins = sorted(cors.allow_origins) if cors.allow_origins != "*" else None
    routed = set(methods)
    allowed = [m for m in cors.allow_methods if m in routed] or list(cors.allow_methods)
    return {
        "operationId": f"preflight {template}",
        "tags": ["CORS"],
        "summary": "CORS preflight",
        "description": "Answered by the Cors interceptor before any handler when both headers are sent; "
                       "without them Falcon answers 200 with the allowed methods in Allow.",
        "parameters": [
            {"name": "Origin", "in": "header", "required": False, "schema": {"type": "string"},
             "description": f"Allowed: {', '.join(origins) if origins else 'any'}."},
            {"name": "Access-Control-Request-Method", "in": "header", "required": False,
             "schema": {"type": "string"}, "description": f"Allowed: {', '.join(allowed)}."},
        ],
        "responses": {
            "200": {"description": "Not a preflight: the path's methods in Allow."},
            "204": {"description": "Preflight allowed: Access-Control-Allow-* headers.", "headers": {
                "Access-Control-Allow-Origin": {"schema": {"type": "string"}},
                "Access-Control-Allow-Methods": {"schema": {"type": "string"}}}},
            "403": {"description": "The origin, method or a header is not allowed.", "content": _ERROR_CONTENT},
            "500": {"$ref": "#/components/responses/InternalServerError"},
        },
    }


def _owner(handler: Any) -> type | None:
    """The class an unbound method belongs to, or a bound method's instance's class."""
    bound = getattr(handler, "__self__", None)
    if bound is not None:
        return type(bound)
    qualname = getattr(handler, "__qualname__", "")
    module = inspect.getmodule(handler)
    if "." not in qualname or "<locals>" in qualname or module is None:
        return None
    owner: Any = module
    for part in qualname.split(".")[:-1]:
        owner = getattr(owner, part, None)
    return owner if inspect.isclass(owner) else None


def _doc(obj: Any) -> str:
    return (inspect.getdoc(obj) or "").split("\n\n", 1)[0].replace("\n", " ") if obj is not None else ""
