"""Routes: ``:name`` templates, the global prefix, and conflicts refused at boot."""

from __future__ import annotations

import pytest

from spine_core import BootError, Context, HTTPOptions, Spine, path
from spine_core.http.routes import Route, falcon_template
from spine_memory.pytest_plugin import SpineAppFactory

from .support import options


class Orders:
    def get(self, order_id: path.Int) -> str:
        return f"order {order_id.value}"

    def create(self, order_id: path.Int) -> str:
        return f"created {order_id.value}"

    def item(self, order_id: path.Int, item: path.String) -> str:
        return f"{order_id.value}/{item.value}"

    def other(self, id: path.Int) -> str:
        return f"other {id.value}"


def health(ctx: Context) -> str:
    return "up"


def untyped(ctx):  # type: ignore[no-untyped-def]
    return "never"


def app_with(*routes: tuple[str, str, object]) -> Spine:
    app = Spine()
    app.constructor(Orders)
    for method, template, handler in routes:
        app.route(method, template, handler)  # type: ignore[arg-type]
    return app


def test_template_segments_become_falcon_fields() -> None:
    """``:name`` segments are translated to Falcon's ``{name}`` fields."""
    assert falcon_template("/orders/:order_id/items/:item") == "/orders/{order_id}/items/{item}"


def test_param_names_are_listed_in_order() -> None:
    """A route lists its ``:params`` in the order they appear."""
    route = Route.create("GET", "/orders/:order_id/items/:item", Orders.item, ())
    assert route.param_names() == ["order_id", "item"]


def test_method_is_case_insensitive() -> None:
    """``post`` and ``POST`` register the same method."""
    assert Route.create("post", "/x", health, ()).method == "POST"


def test_unknown_method_is_refused() -> None:
    """A method that is not HTTP is a BootError."""
    with pytest.raises(BootError, match="unknown HTTP method 'FETCH'"):
        Spine().route("FETCH", "/x", health)


def test_path_must_start_with_slash() -> None:
    """A relative path is a BootError."""
    with pytest.raises(BootError, match="must start with '/'"):
        Spine().route("GET", "orders", health)


def test_methods_share_a_template(spine_app: SpineAppFactory) -> None:
    """GET and POST on one template reach their own handlers."""
    app = app_with(("GET", "/orders/:order_id", Orders.get), ("POST", "/orders/:order_id", Orders.create))
    client = spine_app(app, options()).client
    assert client.simulate_get("/orders/7").text == "order 7"
    assert client.simulate_post("/orders/7").text == "created 7"


def test_plain_function_handler(spine_app: SpineAppFactory) -> None:
    """A module-level function is a handler too."""
    client = spine_app(app_with(("GET", "/health", health)), options()).client
    assert client.simulate_get("/health").text == "up"


def test_global_prefix_is_put_before_every_route(spine_app: SpineAppFactory) -> None:
    """With a global prefix, routes answer behind it and not without it."""
    opts = options()
    opts.http = HTTPOptions(global_prefix="/api/v1/")
    client = spine_app(app_with(("GET", "/orders/:order_id", Orders.get)), opts).client
    assert client.simulate_get("/api/v1/orders/3").text == "order 3"
    assert client.simulate_get("/orders/3").status_code == 404


def test_same_route_twice_is_refused(spine_app: SpineAppFactory) -> None:
    """Registering one method and template twice is a BootError at boot."""
    app = app_with(("GET", "/orders/:order_id", Orders.get), ("GET", "/orders/:order_id", Orders.create))
    with pytest.raises(BootError, match="registered twice"):
        spine_app(app, options())


def test_ambiguous_routes_are_refused(spine_app: SpineAppFactory) -> None:
    """Two templates that match the same paths with different names are a BootError."""
    app = app_with(("GET", "/orders/:order_id", Orders.get), ("POST", "/orders/:id", Orders.other))
    with pytest.raises(BootError, match="ambiguous"):
        spine_app(app, options())


def test_unknown_path_is_a_json_404(spine_app: SpineAppFactory) -> None:
    """A path with no route is answered 404 with a JSON message."""
    client = spine_app(app_with(("GET", "/health", health)), options()).client
    result = client.simulate_get("/nowhere")
    assert result.status_code == 404
    assert "message" in result.json


def test_unrouted_method_is_a_json_405(spine_app: SpineAppFactory) -> None:
    """A method the template does not serve is answered 405 with a JSON message."""
    client = spine_app(app_with(("GET", "/health", health)), options()).client
    result = client.simulate_delete("/health")
    assert result.status_code == 405
    assert "message" in result.json


def test_unannotated_handler_is_refused_at_boot(spine_app: SpineAppFactory) -> None:
    """A handler parameter without annotation is a BootError naming it."""
    with pytest.raises(BootError, match=r"annotate parameter\(s\) \['ctx'\]"):
        spine_app(app_with(("GET", "/x", untyped)), options())
