"""JSON Schema of the JSON that Spine's cattrs converter makes of an attrs class: the one generator
behind the AsyncAPI and the OpenAPI documents, so a class has the same schema in both."""

from __future__ import annotations

import enum
import typing
import uuid
from collections.abc import Mapping, Sequence, Set
from datetime import date, datetime
from typing import Any, Literal, Union

import attrs

from ..decoding import INT64_MAX, INT64_MIN, BigInt
from ..codecs.json import converter

Schema = dict[str, Any]

_SCALARS: dict[type, Schema] = {
    bool: {"type": "boolean"},
    int: {"type": "integer", "format": "int64", "minimum": INT64_MIN, "maximum": INT64_MAX},
    float: {"type": "number"},
    str: {"type": "string"},
    datetime: {"type": "string", "format": "date-time"},
    date: {"type": "string", "format": "date"},
    uuid.UUID: {"type": "string", "format": "uuid"},
}


class SchemaError(TypeError):
    """A type has no JSON Schema here (it names the type and the field's path)."""


def payload_schema(cls: type) -> Schema:
    """The schema of ``cls`` as Spine encodes and decodes it: an object with a property per
    field (``required`` when the field has no default), nested classes inlined."""
    return _attrs_schema(cls, (cls.__qualname__,), ())


def type_schema(tp: Any, where: str = "value") -> Schema:
    """The schema of any type the converter handles (``list[Item]``, ``int``, an attrs class...);
    ``where`` names it in a :class:`SchemaError`."""
    return _schema(tp, (where,), ())


def _attrs_schema(cls: type, path: tuple[str, ...], seen: tuple[type, ...]) -> Schema:
    if cls in seen:
        raise SchemaError(f"{'.'.join(path)}: {cls.__qualname__} contains itself; a payload schema cannot")
    hints = typing.get_type_hints(cls)
    properties: Schema = {}
    required = []
    for a in attrs.fields(cls):
        schema = _schema(hints.get(a.name, a.type), (*path, a.name), (*seen, cls))
        if a.default is attrs.NOTHING:
            required.append(a.name)
        elif isinstance(a.default, attrs.Factory):  # type: ignore[arg-type]
            if not a.default.takes_self:  # type: ignore[attr-defined]
                schema = {**schema, "default": converter.unstructure(a.default.factory())}  # type: ignore[attr-defined]
        else:
            schema = {**schema, "default": converter.unstructure(a.default)}
        properties[a.name] = schema
    result: Schema = {"type": "object", "title": cls.__qualname__, "properties": properties}
    if required:
        result["required"] = required
    if cls.__doc__:
        result["description"] = cls.__doc__.strip()
    return result


def _schema(tp: Any, path: tuple[str, ...], seen: tuple[type, ...]) -> Schema:
    if tp is Any or tp is object:
        return {}
    if tp is type(None):
        return {"type": "null"}
    if tp is BigInt:
        return {"type": "integer"}
    if isinstance(tp, type) and tp in _SCALARS:
        return dict(_SCALARS[tp])
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return _enum([m.value for m in tp])
    if isinstance(tp, type) and attrs.has(tp):
        return _attrs_schema(tp, path, seen)
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is Literal:
        return _enum(list(args))
    if origin is Union or (origin is not None and origin.__name__ == "UnionType"):
        options = [_schema(a, path, seen) for a in args]
        return options[0] if len(options) == 1 else {"anyOf": options}
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return {"type": "array", "items": _schema(args[0], path, seen)}
    if origin is tuple and args:
        items = [_schema(a, path, seen) for a in args]
        return {"type": "array", "items": items, "minItems": len(items), "maxItems": len(items)}
    if isinstance(origin, type) and issubclass(origin, Mapping):
        values = _schema(args[1], path, seen) if len(args) == 2 else {}
        return {"type": "object", "additionalProperties": values}
    if isinstance(origin, type) and issubclass(origin, (Sequence, Set)) and not issubclass(origin, (str, bytes)):
        schema: Schema = {"type": "array", "items": _schema(args[0], path, seen) if args else {}}
        if issubclass(origin, Set):
            schema["uniqueItems"] = True
        return schema
    raise SchemaError(f"{'.'.join(path)}: no JSON Schema for type {tp!r}")


def _enum(values: list[Any]) -> Schema:
    kinds = {type(v) for v in values}
    schema: Schema = {"enum": values}
    if len(kinds) == 1 and (kind := kinds.pop()) in (str, int, float, bool):
        schema = {**_SCALARS[kind], **schema}
    return schema
