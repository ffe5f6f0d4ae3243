"""Constructor injection: singletons built from their factories' type hints."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from typing import Any, TypeVar

from .errors import BootError

T = TypeVar("T")


def _produces(factory: Callable[..., Any]) -> type:
    if inspect.isclass(factory):
        return factory
    produced = typing.get_type_hints(factory).get("return")
    if not inspect.isclass(produced):
        raise BootError(f"constructor {factory.__qualname__} needs a class as its return annotation")
    return produced


def _dependencies(factory: Callable[..., Any]) -> dict[str, Any]:
    target = factory.__init__ if inspect.isclass(factory) else factory
    hints = typing.get_type_hints(target) if target is not object.__init__ else {}
    params = inspect.signature(factory).parameters.values()
    deps = {}
    for p in params:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or p.default is not p.empty:
            continue
        if p.name not in hints:
            raise BootError(f"constructor {factory.__qualname__}: parameter {p.name!r} has no type annotation")
        deps[p.name] = hints[p.name]
    return deps


class Container:
    """Registered constructors and the one instance each builds."""

    def __init__(self) -> None:
        self._factories: dict[type, Callable[..., Any]] = {}
        self._instances: dict[type, Any] = {}

    def register(self, factory: Callable[..., Any]) -> None:
        produced = _produces(factory)
        if produced in self._factories:
            raise BootError(f"two constructors produce {produced.__qualname__}")
        self._factories[produced] = factory

    def provide(self, cls: type, instance: object) -> None:
        """Make an existing object available for injection as ``cls``."""
        self._instances[cls] = instance

    def get(self, cls: type[T]) -> T:
        """The singleton for ``cls``, built with its dependencies on first use."""
        return self._build(cls, ())

    def instance(self, obj: Any) -> Any:
        """``obj`` itself, or the singleton of ``obj`` when it is a class (registered on first use)."""
        if not inspect.isclass(obj):
            return obj
        if obj not in self._factories and obj not in self._instances:
            self.register(obj)
        return self.get(obj)

    def warm_up(self) -> None:
        """Build every registered singleton now, so that wiring errors surface at boot."""
        for cls in self._factories:
            self.get(cls)

    def _build(self, cls: type[T], chain: tuple[type, ...]) -> T:
        if cls in self._instances:
            return self._instances[cls]  # type: ignore[no-any-return]
        if cls in chain:
            cycle = " -> ".join(c.__qualname__ for c in (*chain[chain.index(cls):], cls))
            raise BootError(f"dependency cycle: {cycle}")
        factory = self._factories.get(cls)
        if factory is None:
            needed = f" (needed by {chain[-1].__qualname__})" if chain else ""
            raise BootError(f"no constructor registered for {getattr(cls, '__qualname__', cls)}{needed}")
        args = {name: self._build(dep, (*chain, cls)) for name, dep in _dependencies(factory).items()}
        instance = factory(**args)
        self._instances[cls] = instance
        return instance  # type: ignore[no-any-return]
