"""Form DTOs: attrs classes marked ``@form``, filled from a urlencoded or multipart body."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Sequence, Set
from typing import Any, TypeVar

import attrs

from ..context import RequestContext
from ..decoding import DecodeError, strict_text, structurer
from ..errors import BadRequest, BootError
from ..codecs.json import converter
from ..pipeline.plan import Resolver
from .formdata import read_form

T = TypeVar("T")

_MARK = "__spine_form__"
_MANY = (list, tuple, set, frozenset, Sequence, Set)


form_converter = strict_text(converter.copy())
"""The body converter, parsing text: numbers strictly, booleans as words (an unchecked checkbox is
absent, a checked one ``on``)."""


def form(cls: type[T]) -> type[T]:
    """Mark an attrs class as filled from the request's form fields instead of a JSON body.

    >>> @form
    ... @define
    ... class Signup:
    ...     email: str
    ...     age: int
    ...     newsletter: bool = False
    """
    checked: type = cls
    if not attrs.has(checked):
        raise TypeError(f"@form needs an attrs class: put it above @define on {cls.__qualname__}")
    setattr(cls, _MARK, True)
    return cls


def is_form(annotation: Any) -> bool:
    """Whether ``annotation`` is a class marked with ``@form``."""
    return inspect.isclass(annotation) and getattr(annotation, _MARK, False) is True


def form_resolver(cls: type, max_size: int) -> Resolver[RequestContext]:
    """Fill ``cls`` from the form: a field takes the last value sent under its name, a
    list/tuple/set field every value; an empty value counts as absent unless the field is a ``str``.
    Conversion errors are 400 naming the field."""
    try:
        attrs.resolve_types(cls)
    except NameError as e:
        raise BootError(f"form {cls.__qualname__}: cannot resolve a field type: {e}") from None
    fields = attrs.fields(cls)
    many = {a.name for a in fields if typing.get_origin(a.type) in _MANY}
    text = {a.name for a in fields if a.type is str}

    fit: Callable[[Any], Any] = structurer(form_converter, cls)

    def resolve(ctx: RequestContext) -> Any:
        sent = read_form(ctx, max_size).fields
        data: dict[str, Any] = {}
        for a in fields:
            values = [v for v in sent.get(a.name, ()) if v or a.name in text]
            if values:
                data[a.name] = values if a.name in many else values[-1]
        try:
            return fit(data)
        except DecodeError as e:
            raise BadRequest(f"form {e}") from None

    return resolve
