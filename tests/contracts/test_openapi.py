"""The OpenAPI document: what each signature becomes, validated by openapi-spec-validator, and served."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]
from click.testing import CliRunner
from openapi_spec_validator import validate

from apps.events import OrderCreated
from spine_core import Options, OpsOptions, Spine, path
from spine_core.cli import cli
from spine_core.contracts import asyncapi, openapi
from spine_memory.pytest_plugin import SpineAppFactory

from . import kinds_app

ENV = {"SPINE_BROKER": None, "SPINE_OPENAPI": None}
INT64 = {"type": "integer", "format": "int64", "minimum": -(2**63), "maximum": 2**63 - 1}


def kinds() -> dict[str, Any]:
    return openapi.document(kinds_app.create_app(), kinds_app.options(), "tests.contracts.kinds_app")


def operation(doc: dict[str, Any], method: str, template: str) -> dict[str, Any]:
    result: dict[str, Any] = doc["paths"][template][method]
    return result


@pytest.mark.parametrize("module", ["apps.order_app", "apps.stock_app", "apps.http_example",
                                    "tests.contracts.kinds_app"])
def test_the_documents_validate_against_the_openapi_3_1_schema(module: str) -> None:
    """``spine openapi`` of each example app and of the every-kind app is a valid OpenAPI 3.1 document."""
    result = CliRunner(env=ENV).invoke(cli, ["openapi", module])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["openapi"] == "3.1.0"
    validate(doc)


def test_info_servers_tags_and_ids_come_from_the_app_and_its_options() -> None:
    """The version and title are the app's, the server carries the route prefix, tags are controllers."""
    doc = kinds()
    assert doc["info"]["title"] == "Kinds" and doc["info"]["version"] == "2.3.4"
    assert doc["servers"] == [{"url": "http://127.0.0.1:8090/api", "description": "Options.address"}]
    item = operation(doc, "get", "/kinds/items/{item_id}/{ratio}/{name}/{flag}")
    assert item["operationId"] == "Kinds.item" and item["tags"] == ["Kinds"]
    assert item["summary"] == "Echo the four path kinds."
    assert item["description"] == "Each segment is typed by its parameter."
    assert {"name": "Kinds", "description": "Every kind of input and answer."} in doc["tags"]


def test_path_query_and_header_values_have_types_bounds_defaults_and_required() -> None:
    """Each typed value is a parameter with its schema; defaults and optionals are not required."""
    params = {p["name"]: p for p in operation(kinds(), "get", "/kinds/items/{item_id}/{ratio}/{name}/{flag}")
              ["parameters"]}
    assert params["item_id"] == {"name": "item_id", "in": "path", "required": True, "schema": INT64}
    assert params["ratio"]["schema"] == {"type": "number"} and params["flag"]["schema"] == {"type": "boolean"}
    search = {p["name"]: p for p in operation(kinds(), "get", "/kinds/search")["parameters"]}
    assert search["q"] == {"name": "q", "in": "query", "required": True, "schema": {"type": "string"}}
    assert search["n"] == {"name": "n", "in": "query", "required": False, "schema": {**INT64, "default": 10}}
    assert search["exact"]["required"] is False
    assert search["X-Tenant"] == {"name": "X-Tenant", "in": "header", "required": False, "schema": {"type": "string"}}
    assert search["X-Version"]["schema"] == {**INT64, "default": 1}
    page = {p["name"]: p["schema"] for p in operation(kinds(), "get", "/kinds/page")["parameters"]}
    assert page["size"] == {"type": "integer", "format": "int64", "minimum": 1, "maximum": 30, "default": 20}


def test_bodies_are_json_forms_or_multipart() -> None:
    """An attrs class is a JSON body, a @form class both form types, uploads multipart with binaries."""
    doc = kinds()
    body = operation(doc, "post", "/kinds/orders")["requestBody"]
    schema = body["content"]["application/json"]["schema"]
    assert body["required"] is True and schema["required"] == ["customer", "lines"]
    assert schema["properties"]["counter"] == {"type": "integer", "default": 0}  # BigInt: no int64 bound
    assert schema["properties"]["colour"] == {"type": "string", "enum": ["red", "green"], "default": "red"}
    contact = operation(doc, "post", "/kinds/contact")["requestBody"]["content"]
    assert sorted(contact) == ["application/x-www-form-urlencoded", "multipart/form-data"]
    avatar = operation(doc, "put", "/kinds/avatar")["requestBody"]["content"]
    assert avatar == {"multipart/form-data": {"schema": {"type": "object", "properties": {
        "avatar": {"type": "string", "format": "binary"}}, "required": ["avatar"]}}}


def test_answers_come_from_return_types_declarations_interceptors_and_spine() -> None:
    """Return types, declared statuses, an interceptor's 401 and scheme, preflight and Spine's errors."""
    doc = kinds()
    assert operation(doc, "get", "/kinds/stamp/{value}")["responses"]["200"]["content"]["application/json"][
        "schema"]["properties"]["at"] == {"type": "string", "format": "date-time"}
    assert operation(doc, "get", "/kinds/search")["responses"]["200"]["content"]["application/json"]["schema"][
        "type"] == "array"
    assert "204" in operation(doc, "delete", "/kinds/items/{item_id}")["responses"]
    assert "3XX" in operation(doc, "get", "/kinds/gone")["responses"]
    assert "application/octet-stream" in operation(doc, "get", "/kinds/raw")["responses"]["200"]["content"]
    assert "201" in operation(doc, "post", "/kinds/created")["responses"]
    secret = operation(doc, "get", "/kinds/secret")
    assert secret["responses"]["401"]["description"] == "No valid bearer token."
    assert secret["security"] == [{"bearer": []}]
    assert doc["components"]["securitySchemes"] == {"bearer": {"type": "http", "scheme": "bearer"}}
    orders = operation(doc, "post", "/kinds/orders")["responses"]
    assert {"400", "404", "405", "413", "415", "500", "503"} <= set(orders)
    assert orders["415"] == {"$ref": "#/components/responses/UnsupportedMediaType"}
    assert set(operation(doc, "options", "/kinds/orders")["responses"]) == {"200", "204", "403", "500"}


def test_an_event_class_has_the_same_schema_in_both_documents() -> None:
    """One generator: an event class used as a body is described alike in OpenAPI and AsyncAPI."""
    class Orders:
        def take(self, order: OrderCreated) -> None:
            """Take an order."""

    app = Spine()
    app.constructor(Orders)
    app.route("POST", "/orders", Orders.take, publishes=[OrderCreated])
    http = openapi.document(app, Options(), "t")["paths"]["/orders"]["post"]["requestBody"]["content"]
    events = asyncapi.document(app, Options(), "t")["components"]["messages"]["OrderCreated"]["payload"]
    assert http["application/json"]["schema"] == events


def test_the_command_writes_yaml_to_a_file(tmp_path: Path) -> None:
    """``--format yaml --out FILE`` writes the same document as YAML."""
    out = tmp_path / "openapi.yaml"
    result = CliRunner(env=ENV).invoke(cli, ["openapi", "apps.order_app", "--format", "yaml", "--out", str(out)])
    assert result.exit_code == 0, result.output
    doc = yaml.safe_load(out.read_text())
    assert doc["paths"]["/orders/{order_id}"]["post"]["operationId"] == "OrderController.create"


def test_the_document_and_the_api_page_are_served_by_default(spine_app: SpineAppFactory) -> None:
    """``/openapi.json`` answers the document (server: the prefix), ``/docs`` the page and its assets."""
    client = spine_app(kinds_app.create_app(), kinds_app.options()).client
    assert client is not None
    doc = client.simulate_get("/openapi.json").json
    assert doc["servers"] == [{"url": "/api"}] and "/kinds/orders" in doc["paths"]
    page = client.simulate_get("/docs")
    assert page.status_code == 200 and 'data-url="/openapi.json"' in page.text
    script = client.simulate_get("/docs/swagger-ui-bundle.js")
    assert script.status_code == 200 and script.headers["content-type"] == "text/javascript"
    assert client.simulate_get("/docs/other.js").status_code == 404


def test_one_option_turns_both_off(spine_app: SpineAppFactory) -> None:
    """``OpsOptions(openapi=False)`` (``SPINE_OPENAPI=0``) serves neither."""
    options = kinds_app.options()
    options.ops = OpsOptions(openapi=False)
    client = spine_app(kinds_app.create_app(), options).client
    assert client is not None
    assert client.simulate_get("/openapi.json").status_code == 404
    assert client.simulate_get("/docs").status_code == 404
    assert Options().with_env({"SPINE_OPENAPI": "0"}).ops.openapi is False


def test_a_route_of_the_app_keeps_its_path(spine_app: SpineAppFactory) -> None:
    """An app route at ``/docs`` (or a template matching it) stays the app's; the document is still served."""
    def show(name: path.String) -> str:
        return f"page {name.value}"

    app = Spine()
    app.route("GET", "/:name", show)
    client = spine_app(app, Options()).client
    assert client is not None
    assert client.simulate_get("/docs").text == "page docs"
    assert client.simulate_get("/openapi.json").text == "page openapi.json"


def test_the_document_is_made_at_the_first_get_not_at_boot() -> None:
    """A service nobody asks for its document does not import the code that makes it."""
    code = ("import sys; from spine_core import Options, Spine; Spine().runtime(Options()); "
            "print(sorted(m for m in sys.modules if m.startswith('spine_core.contracts.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "SPINE_BROKER": "memory"}).stdout
    assert out.strip() == "['spine_core.contracts.docs_page', 'spine_core.contracts.endpoint']"


def test_a_document_it_cannot_make_is_not_found_and_logged(
    spine_app: SpineAppFactory, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The service boots and serves; ``/openapi.json`` answers 404 with the cause, logged once."""
    def broken(*args: object, **kwargs: object) -> dict[str, Any]:
        raise TypeError("no schema for Thing")

    monkeypatch.setattr(openapi, "document", broken)
    client = spine_app(kinds_app.create_app(), kinds_app.options()).client
    assert client is not None
    for _ in range(2):
        answer = client.simulate_get("/openapi.json")
        assert answer.status_code == 404 and "no schema for Thing" in answer.text
    assert [r.getMessage() for r in caplog.records if "is not served" in r.getMessage()] == [
        "/openapi.json is not served: no schema for Thing (spine openapi names the cause)"
    ]
