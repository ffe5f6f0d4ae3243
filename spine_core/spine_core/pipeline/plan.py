"""At boot: a handler and its signature become a Plan of argument resolvers."""

from __future__ import annotations

import inspect
import sys
import typing
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from attrs import frozen

from ..container import Container
from ..context import Context
from ..errors import BootError
from ..interceptor import Interceptor

C = TypeVar("C", bound=Context)
"""The kind of context a plan's resolvers take: RequestContext (routes) or MessageContext (consumers)."""
Resolver = Callable[[C], Any]
ResolverFor = Callable[[str, Any], Resolver[C]]
"""Given a parameter's name and annotation, the resolver that supplies it."""
Around = Callable[[Context, Callable[[], Any]], Any]
"""A stage around the handler call: ``around(ctx, proceed)`` (see ``spine_around``)."""


def _none(name: str, annotation: Any) -> Resolver[Context] | None:
    return None


@frozen
class Extras:
    """What extensions add to every plan: resolvers tried before the core's, stages around the handler."""

    resolver: Callable[[str, Any], Resolver[Context] | None] = _none
    arounds: tuple[Around, ...] = ()


NO_EXTRAS = Extras()


@frozen
class Plan(Generic[C]):
    """A bound handler, one resolver per parameter, and its interceptors."""

    name: str
    handler: Callable[..., Any]
    resolvers: tuple[Resolver[C], ...]
    interceptors: tuple[Interceptor, ...]
    annotations: tuple[Any, ...]
    arounds: tuple[Around, ...] = ()


def _owner(func: Callable[..., Any]) -> type | None:
    """The class an unbound method was defined in (``Controller.create`` → ``Controller``)."""
    qualname = getattr(func, "__qualname__", "")
    if "." not in qualname or "<locals>" in qualname.rsplit(".", 1)[0]:
        return None
    owner: Any = sys.modules.get(func.__module__)
    for part in qualname.split(".")[:-1]:
        owner = getattr(owner, part, None)
    if not inspect.isclass(owner) or isinstance(vars(owner).get(func.__name__), staticmethod):
        return None
    return owner


def _is_local_method(func: Callable[..., Any]) -> bool:
    """An unbound method of a class defined inside a function (``f.<locals>.C.m``)."""
    if not inspect.isfunction(func):
        return False
    head, _, _ = func.__qualname__.rpartition(".")
    return bool(head) and not head.endswith("<locals>") and "self" in inspect.signature(func).parameters


def bind(handler: Callable[..., Any], container: Container) -> tuple[Callable[..., Any], list[tuple[str, Any]]]:
    """The callable to invoke and its (name, annotation) parameters, ``self`` bound
    to the container's singleton when ``handler`` is an unbound method."""
    owner = _owner(handler) if inspect.isfunction(handler) else None
    if owner is None and _is_local_method(handler):
        raise BootError(
            f"handler {handler.__qualname__} belongs to a class defined inside a function, which Spine "
            "cannot build: define the class at module level, or route a bound method (instance.method)"
        )
    hints = typing.get_type_hints(handler)
    params = list(inspect.signature(handler).parameters.values())
    if owner is not None:
        handler = getattr(container.get(owner), handler.__name__)
        params = params[1:]
    missing = [p.name for p in params if p.name not in hints]
    if missing:
        raise BootError(f"handler {getattr(handler, '__qualname__', handler)}: annotate parameter(s) {missing}")
    return handler, [(p.name, hints[p.name]) for p in params]


def make_plan(
    handler: Callable[..., Any],
    container: Container,
    resolver_for: ResolverFor[C],
    interceptors: Sequence[Interceptor],
    extras: Extras = NO_EXTRAS,
) -> Plan[C]:
    """Bind ``handler`` and choose a resolver for each parameter; errors are BootErrors."""
    bound, params = bind(handler, container)
    name = getattr(handler, "__qualname__", repr(handler))
    if inspect.iscoroutinefunction(bound) or inspect.isasyncgenfunction(bound):
        # Called on worker threads, it would only create a coroutine: the work would never run.
        raise BootError(f"handler {name} is async; Spine runs handlers on threads, define it with 'def'")
    for interceptor in interceptors:  # an async pre_handle would never run, so never abort
        for stage in ("pre_handle", "post_handle", "after_completion"):
            if inspect.iscoroutinefunction(getattr(interceptor, stage, None)):
                raise BootError(f"interceptor {type(interceptor).__qualname__}.{stage} is async; define it with 'def'")
    resolvers: list[Resolver[C]] = []
    for pname, annotation in params:
        try:
            resolvers.append(extras.resolver(pname, annotation) or resolver_for(pname, annotation))
        except BootError as e:
            raise BootError(f"handler {name}: {e}") from None
    return Plan(name, bound, tuple(resolvers), tuple(interceptors), tuple(a for _, a in params), extras.arounds)
