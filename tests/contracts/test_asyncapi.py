"""AsyncAPI documents: valid against the AsyncAPI 3.0.0 JSON Schema, and payload schemas that
accept what Spine publishes and refuse what its decoder refuses."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
import yaml  # type: ignore[import-untyped]
from click.testing import CliRunner

from apps.events import OrderCreated
from spine_core import BootError, Options, OpsOptions, Spine, path, publish
from spine_core.cli import cli
from spine_core.context import Context
from spine_core.event import decode
from spine_core.event import to_message
from spine_core.contracts.asyncapi import document
from spine_core.contracts.schema import SchemaError, payload_schema

SCHEMA = json.loads((Path(__file__).parent / "asyncapi-3.0.0.schema.json").read_text())
ENV = {"SPINE_BROKER": None, "SPINE_KAFKA_TOPIC_PREFIX": None}
INT64 = {"type": "integer", "format": "int64", "minimum": -(2**63), "maximum": 2**63 - 1}


def spine(*args: str) -> Any:
    result = CliRunner().invoke(cli, list(args), env=ENV)
    assert result.exit_code == 0, result.output
    return result


def assert_valid_asyncapi(doc: dict[str, Any]) -> None:
    errors = list(jsonschema.Draft7Validator(SCHEMA).iter_errors(doc))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]


@pytest.mark.parametrize("module", ["apps.order_app", "apps.stock_app", "tests.contracts.fixtures.shapes"])
def test_the_document_of_each_app_is_valid_asyncapi_3(module: str) -> None:
    doc = json.loads(spine("asyncapi", module).output)
    assert doc["asyncapi"] == "3.0.0"
    assert_valid_asyncapi(doc)


def test_the_validator_refuses_an_invalid_document() -> None:
    doc = json.loads(spine("asyncapi", "apps.order_app").output)
    doc["operations"]["send_order_created"]["action"] = "publish"  # AsyncAPI 2 wording
    with pytest.raises(AssertionError):
        assert_valid_asyncapi(doc)


def test_order_app_sends_order_created_with_its_key_headers_and_server() -> None:
    doc = json.loads(spine("asyncapi", "apps.order_app").output)
    assert doc["servers"] == {"kafka": {"host": "localhost:9092", "protocol": "kafka"}}
    assert doc["channels"]["order_created"]["address"] == "order.created"
    assert doc["operations"] == {"send_order_created": {
        "action": "send", "channel": {"$ref": "#/channels/order_created"},
        "messages": [{"$ref": "#/channels/order_created/messages/OrderCreated"}],
    }}
    message = doc["components"]["messages"]["OrderCreated"]
    assert message["payload"]["required"] == ["order_id", "at"]
    assert message["bindings"]["kafka"]["key"]["type"] == "string"
    assert set(message["headers"]["required"]) == {
        "event-name", "event-id", "occurred-at", "content-type", "correlation-id"}


def test_stock_app_receives_as_its_group() -> None:
    doc = json.loads(spine("asyncapi", "apps.stock_app").output)
    receive = doc["operations"]["receive_order_created"]
    assert receive["action"] == "receive"
    assert receive["x-spine-group"] == "stock-service"
    assert receive["bindings"]["kafka"]["groupId"]["enum"] == ["stock-service"]


def test_topic_prefix_servers_and_consumer_publishes_from_the_options(tmp_path: Path) -> None:
    out = tmp_path / "shapes.yaml"
    spine("asyncapi", "tests.contracts.fixtures.shapes", "--format", "yaml", "--out", str(out))
    doc = yaml.safe_load(out.read_text())
    assert_valid_asyncapi(doc)
    assert doc["servers"] == {"rabbitmq": {"host": "rabbit.example:5672", "protocol": "amqp"}}  # no password
    assert doc["channels"]["order_shipped"]["address"] == "prod.order.shipped"
    assert {"send_order_shipped", "receive_order_shipped", "receive_audit_raw"} <= set(doc["operations"])
    assert doc["operations"]["receive_order_shipped"]["x-spine-dead-letter-topic"] == "prod.order.shipped.dlq"
    assert "payload" not in doc["components"]["messages"]["raw"]


def test_nats_servers_are_listed_without_credentials() -> None:
    """A NATS app lists each server of ``SPINE_NATS_URL`` (host:port, protocol nats), no password."""
    from spine_core import BrokerOptions

    app = Spine()
    options = Options(broker=BrokerOptions(name="nats")).with_env({
        "SPINE_NATS_URL": "nats://spine:s3cret@nats-a.internal:4222,tls://nats-b.internal:4443"})
    doc = document(app, options, "shop")
    assert_valid_asyncapi(doc)
    assert doc["servers"] == {"nats": {"host": "nats-a.internal:4222", "protocol": "nats"},
                              "nats1": {"host": "nats-b.internal:4443", "protocol": "nats"}}
    assert "s3cret" not in json.dumps(doc)


def test_payload_schema_covers_types_required_defaults_enums_optionals_lists_and_nesting() -> None:
    from contracts.fixtures.shapes import OrderShipped

    schema = payload_schema(OrderShipped)
    props = schema["properties"]
    assert schema["required"] == ["order_id", "status", "lines", "at"]
    assert props["order_id"] == INT64
    assert props["status"] == {"type": "string", "enum": ["open", "shipped"]}
    assert props["at"] == {"type": "string", "format": "date-time"}
    assert props["note"] == {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None}
    assert props["tags"] == {"type": "array", "items": {"type": "string"}, "default": []}
    assert props["weight"] == {"type": "number", "default": 0.5}
    line = props["lines"]["items"]
    assert line["properties"] == {"sku": {"type": "string"}, "quantity": {**INT64, "default": 1}}
    assert line["required"] == ["sku"]


def test_a_type_without_json_schema_is_named() -> None:
    from attrs import frozen

    @frozen
    class Odd:
        value: complex

    with pytest.raises(SchemaError, match=r"Odd.value: no JSON Schema for type <class 'complex'>"):
        payload_schema(Odd)


def checker() -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(payload_schema(OrderCreated), format_checker=jsonschema.FormatChecker())


def test_the_payload_schema_accepts_what_spine_publishes() -> None:
    for at in (datetime.now(timezone.utc), datetime(2024, 2, 29, 12, 0, 0, 123456, tzinfo=timezone.utc)):
        message = to_message(OrderCreated(order_id=12345, at=at), "", "c-1")
        errors = list(checker().iter_errors(json.loads(message.value)))
        assert not errors, errors


@pytest.mark.parametrize("payload", [
    {"at": "2024-01-01T00:00:00+00:00"},                     # order_id missing
    {"order_id": 1},                                          # at missing
    {"order_id": "one", "at": "2024-01-01T00:00:00+00:00"},  # not an int
    {"order_id": 1, "at": "yesterday"},                       # not a date-time
    {"order_id": 1, "at": 1704067200},                        # a number, not a string
    {"order_id": None, "at": "2024-01-01T00:00:00+00:00"},
    [1, "2024-01-01T00:00:00+00:00"],
    "order",
])
def test_the_payload_schema_refuses_what_the_decoder_refuses(payload: Any) -> None:
    with pytest.raises(Exception):
        decode(json.dumps(payload), OrderCreated)
    assert list(checker().iter_errors(payload)), f"schema accepts {payload!r}"


class Undeclared:
    def create(self, ctx: Context, order_id: path.Int) -> str:
        publish.event(ctx, OrderCreated(order_id=order_id.value, at=datetime.now(timezone.utc)))
        return "OK"


def test_the_endpoint_serves_the_document_with_what_was_seen_published(spine_app: Any) -> None:
    app = Spine()
    app.constructor(Undeclared)
    app.route("POST", "/orders/:order_id", Undeclared.create)  # publishes= not declared
    client = spine_app(app, Options(ops=OpsOptions(asyncapi_path="/asyncapi.json"))).client
    assert client.simulate_get("/asyncapi.json").json["operations"] == {}
    assert client.simulate_post("/orders/7").text == "OK"
    doc = client.simulate_get("/asyncapi.json").json
    assert list(doc["operations"]) == ["send_order_created"]
    assert_valid_asyncapi(doc)


def test_the_endpoint_is_off_unless_asked(spine_app: Any) -> None:
    app = Spine()
    app.constructor(Undeclared)
    app.route("POST", "/orders/:order_id", Undeclared.create)
    assert spine_app(app).client.simulate_get("/asyncapi.json").status_code == 404


@pytest.mark.parametrize("declared, message", [
    (int, "publishes=<class 'int'> is not an attrs class"),
    (Undeclared, "is not an attrs class"),
])
def test_declaring_a_class_that_is_not_an_event_is_a_boot_error(declared: type, message: str) -> None:
    with pytest.raises(BootError, match=message):
        Spine().route("POST", "/x", Undeclared.create, publishes=[declared])


def test_declaring_an_event_whose_topic_needs_an_instance_is_a_boot_error() -> None:
    from attrs import frozen

    @frozen
    class PerTenant:
        tenant: str

        def name(self) -> str:
            return f"{self.tenant}.created"

        def occurred_at(self) -> datetime:
            return datetime.now(timezone.utc)

    @frozen
    class NoName:
        at: datetime

    with pytest.raises(BootError, match=r"consumer of 'a': .*PerTenant.name\(\) must return the topic"):
        Spine().consumers().register("a", Undeclared.create, publishes=[PerTenant])
    with pytest.raises(BootError, match="NoName, which is not an event"):
        Spine().consumers().register("b", Undeclared.create, publishes=[NoName])


def test_document_titles_the_app() -> None:
    import apps.stock_app as stock

    assert document(stock.create_app(), stock.options(), "stock")["info"]["title"] == "stock"


def test_the_endpoint_refuses_to_boot_with_a_class_it_cannot_describe(spine_app: Any) -> None:
    from attrs import frozen

    @frozen
    class Odd:
        value: complex

        def name(self) -> str:
            return "odd.happened"

        def occurred_at(self) -> datetime:
            return datetime.now(timezone.utc)

    app = Spine()
    app.constructor(Undeclared)
    app.route("POST", "/orders/:order_id", Undeclared.create, publishes=[Odd])
    with pytest.raises(BootError, match=r"asyncapi endpoint /asyncapi.json: .*Odd.value: no JSON Schema"):
        spine_app(app, Options(ops=OpsOptions(asyncapi_path="/asyncapi.json")))


def test_two_classes_of_one_name_get_a_message_each() -> None:
    from contracts.fixtures import shapes

    app = Spine()
    app.route("POST", "/orders/:order_id", Undeclared.create, publishes=[OrderCreated])
    app.consumers().register("order.created", shapes.Shipping().on_order)
    doc = document(app, Options(), "two")
    assert_valid_asyncapi(doc)
    messages = doc["components"]["messages"]
    assert {m: messages[m]["title"] for m in messages} == {
        "OrderCreated": "apps.events.OrderCreated", "OrderCreated2": f"{shapes.__name__}.OrderCreated"}
    refs = {op: [r["$ref"].rsplit("/", 1)[-1] for r in doc["operations"][op]["messages"]] for op in doc["operations"]}
    assert refs == {"send_order_created": ["OrderCreated"], "receive_order_created": ["OrderCreated2"]}
