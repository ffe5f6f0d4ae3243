"""``Cors``: preflights answered for every route, headers on answers to allowed origins only."""

from __future__ import annotations

import pytest
from falcon.testing import TestClient

from apps.http_example import BROWSER_APP, create_app, options
from spine_core import BootError, Context, Cors, Interceptor, RequestHeaders, Spine, Unauthorized
from spine_memory.pytest_plugin import SpineAppFactory


def preflight(method: str = "GET", origin: str = BROWSER_APP, headers: str | None = None) -> dict[str, str]:
    asked = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers is not None:
        asked["Access-Control-Request-Headers"] = headers
    return asked


@pytest.fixture
def client(spine_app: SpineAppFactory) -> TestClient:
    return spine_app(create_app(), options()).client


@pytest.mark.parametrize("path", ["/items", "/signup", "/avatar", "/report.csv"])
def test_preflight_is_answered_for_every_route(client: TestClient, path: str) -> None:
    result = client.simulate_options(path, headers=preflight("POST", headers="content-type, authorization"))
    assert result.status_code == 204
    assert result.headers["Access-Control-Allow-Origin"] == BROWSER_APP
    assert result.headers["Access-Control-Allow-Credentials"] == "true"
    assert result.headers["Access-Control-Allow-Methods"] == "GET, POST"
    assert result.headers["Access-Control-Allow-Headers"] == "Content-Type, Authorization"
    assert result.headers["Access-Control-Max-Age"] == "300"
    assert result.headers["Vary"] == "Origin"
    assert result.content == b""


def test_preflight_from_a_disallowed_origin_is_a_403_without_cors_headers(client: TestClient) -> None:
    result = client.simulate_options("/items", headers=preflight(origin="https://evil.example"))
    assert result.status_code == 403
    assert result.json == {"message": "CORS: origin 'https://evil.example' is not allowed"}
    assert "Access-Control-Allow-Origin" not in result.headers


def test_preflight_for_a_disallowed_method_is_a_403(client: TestClient) -> None:
    result = client.simulate_options("/items", headers=preflight("DELETE"))
    assert result.status_code == 403
    assert result.json == {"message": "CORS: method DELETE is not allowed"}


def test_preflight_for_a_disallowed_header_is_a_403(client: TestClient) -> None:
    result = client.simulate_options("/items", headers=preflight(headers="Content-Type, X-Secret"))
    assert result.status_code == 403
    assert result.json == {"message": "CORS: header(s) X-Secret not allowed"}


def test_preflight_on_an_unknown_path_is_a_404_the_page_can_read(client: TestClient) -> None:
    result = client.simulate_options("/nowhere", headers=preflight())
    assert result.status_code == 404
    assert result.headers["Access-Control-Allow-Origin"] == BROWSER_APP


def test_an_allowed_origin_gets_cors_headers_on_answers_and_errors(client: TestClient) -> None:
    ok = client.simulate_get("/items", headers={"Origin": BROWSER_APP})
    assert ok.headers["Access-Control-Allow-Origin"] == BROWSER_APP
    assert ok.headers["Access-Control-Allow-Credentials"] == "true"
    assert ok.headers["Access-Control-Expose-Headers"] == "X-Total-Count"
    bad = client.simulate_get("/items", params={"size": "x"}, headers={"Origin": BROWSER_APP})
    assert bad.status_code == 400
    assert bad.headers["Access-Control-Allow-Origin"] == BROWSER_APP


def test_a_disallowed_origin_gets_no_cors_header(client: TestClient) -> None:
    """The request is served (CORS is enforced by the browser), but the page may not read it."""
    result = client.simulate_get("/items", headers={"Origin": "https://evil.example"})
    assert result.status_code == 200
    assert not any(name.startswith("access-control-") for name in result.headers)


def test_a_plain_options_request_is_falcons_answer(client: TestClient) -> None:
    """OPTIONS without Origin/Access-Control-Request-Method is not a preflight."""
    result = client.simulate_options("/items")
    assert result.status_code == 200
    assert "GET" in result.headers["Allow"]


class Auth(Interceptor):
    def pre_handle(self, ctx: Context) -> None:
        if "Authorization" not in RequestHeaders(ctx.headers):
            raise Unauthorized("token required")


def secret() -> str:
    return "secret"


def open_app(cors: Cors) -> Spine:
    app = Spine()
    app.interceptor(cors, Auth())
    app.route("DELETE", "/secret", secret)
    return app


def test_preflight_runs_before_other_interceptors(spine_app: SpineAppFactory) -> None:
    """A browser sends no credentials with a preflight; it must not be refused by auth."""
    client = spine_app(open_app(Cors())).client
    result = client.simulate_options("/secret", headers=preflight("DELETE", origin="https://any.example"))
    assert result.status_code == 204
    assert result.headers["Access-Control-Allow-Origin"] == "*"
    assert "Vary" not in result.headers
    assert client.simulate_delete("/secret").status_code == 401


def test_wildcard_headers_echo_what_the_browser_asks(spine_app: SpineAppFactory) -> None:
    client = spine_app(open_app(Cors("*"))).client
    result = client.simulate_options("/secret", headers=preflight("DELETE", "https://a.example", "X-One, X-Two"))
    assert result.headers["Access-Control-Allow-Headers"] == "X-One, X-Two"


def test_wildcard_origins_with_credentials_name_the_origin(spine_app: SpineAppFactory) -> None:
    client = spine_app(open_app(Cors("*", allow_credentials=True))).client
    result = client.simulate_delete("/secret", headers={"Origin": "https://a.example", "Authorization": "t"})
    assert result.text == "secret"
    assert result.headers["Access-Control-Allow-Origin"] == "https://a.example"
    assert result.headers["Vary"] == "Origin"


def test_cors_on_a_single_route_is_a_boot_error(spine_app: SpineAppFactory) -> None:
    app = Spine()
    app.route("GET", "/secret", secret, interceptors=[Cors()])
    with pytest.raises(BootError, match="register Cors for every route"):
        spine_app(app)
