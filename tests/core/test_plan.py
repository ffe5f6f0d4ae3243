"""Handler binding at boot: unbound methods get their singleton; other callables are used as they are."""

from __future__ import annotations

import pytest

from spine_core import BootError, Context, Spine, path
from spine_memory.pytest_plugin import SpineAppFactory

from .support import options


class Counter:
    def __init__(self) -> None:
        self.calls = 0


class Controller:
    def __init__(self, counter: Counter) -> None:
        self.counter = counter

    def method(self, n: path.Int) -> str:
        self.counter.calls += 1
        return f"method {n.value} {self.counter.calls}"

    @staticmethod
    def static(ctx: Context, n: path.Int) -> str:
        return f"static {n.value} {ctx.route}"

    @classmethod
    def klass(cls, n: path.Int) -> str:
        return f"{cls.__name__} {n.value}"


class Standalone:
    def __init__(self, prefix: str = "bound") -> None:
        self.prefix = prefix

    def method(self, n: path.Int) -> str:
        return f"{self.prefix} {n.value}"


def function(n: path.Int) -> str:
    return f"function {n.value}"


def client(spine_app, handler: object):  # type: ignore[no-untyped-def]
    app = Spine()
    app.constructor(Counter, Controller)
    app.route("GET", "/h/:n", handler)  # type: ignore[arg-type]
    return spine_app(app, options()).client


@pytest.mark.parametrize("handler, expected", [
    (Controller.method, "method 1 1"),
    (Controller.static, "static 1 /h/:n"),
    (Controller.klass, "Controller 1"),
    (Standalone("bound").method, "bound 1"),
    (function, "function 1"),
], ids=["unbound-method", "staticmethod", "classmethod", "bound-method", "function"])
def test_every_kind_of_callable_is_a_handler(spine_app: SpineAppFactory, handler: object, expected: str) -> None:
    """Unbound, static, class and bound methods and plain functions get exactly their declared parameters."""
    assert client(spine_app, handler).simulate_get("/h/1").text == expected


def test_unbound_method_runs_on_the_singleton(spine_app: SpineAppFactory) -> None:
    """Every call of an unbound-method handler goes to the one instance the container built."""
    c = client(spine_app, Controller.method)
    c.simulate_get("/h/1")
    assert c.simulate_get("/h/2").text == "method 2 2"


def test_unregistered_controller_is_a_boot_error(spine_app: SpineAppFactory) -> None:
    """An unbound method of a class nobody registered fails at boot naming the class."""
    app = Spine()
    app.route("GET", "/h/:n", Standalone.method)
    with pytest.raises(BootError, match="no constructor registered for Standalone"):
        spine_app(app, options())


async def async_handler(n: path.Int) -> str:
    return "never awaited"


class AsyncController:
    async def method(self, n: path.Int) -> str:
        return "never awaited"


@pytest.mark.parametrize("handler", [async_handler, AsyncController.method])
def test_async_handler_is_a_boot_error(spine_app: SpineAppFactory, handler: object) -> None:
    """An ``async def`` handler is refused at boot instead of being 'called' without ever running."""
    app = Spine()
    app.constructor(AsyncController)
    app.route("GET", "/h/:n", handler)  # type: ignore[arg-type]
    with pytest.raises(BootError, match="is async"):
        spine_app(app, options())


def test_async_consumer_is_a_boot_error(spine_app: SpineAppFactory) -> None:
    """An ``async def`` consumer is refused at boot, so no message is acknowledged unhandled."""
    app = Spine()
    app.consumers().register("order.created", async_handler)
    with pytest.raises(BootError, match="is async"):
        spine_app(app, options(group="g", http=False))


def test_method_of_a_class_defined_in_a_function_is_a_clear_boot_error() -> None:
    """A controller class local to a function is refused with advice, not 'annotate self'."""
    from spine_core.container import Container
    from spine_core.http.resolvers import http_resolvers
    from spine_core.pipeline.plan import make_plan

    class Local:
        def handle(self) -> str:
            return "x"

    with pytest.raises(BootError, match="defined inside a function"):
        make_plan(Local.handle, Container(), http_resolvers([]), [])
