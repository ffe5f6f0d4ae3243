"""``spine contracts check``: senders and receivers of a topic agree, or the command says where not."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from spine_core.cli import cli

ENV = {"SPINE_BROKER": None, "SPINE_KAFKA_TOPIC_PREFIX": None}
STRICT = "tests.contracts.fixtures.incompatible_stock"


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=ENV)


def test_the_seed_apps_are_compatible() -> None:
    result = run("contracts", "check", "apps.order_app", "apps.stock_app")
    assert result.exit_code == 0, result.output + result.stderr
    assert result.stdout == (
        "contracts ok: 1 sender/receiver pair(s) compatible: order.created (apps.order_app -> apps.stock_app)\n"
    )


def test_an_incompatible_consumer_fails_naming_topic_field_and_both_classes() -> None:
    result = run("contracts", "check", "apps.order_app", STRICT)
    assert result.exit_code == 1
    sender = "apps.events.OrderCreated (apps.order_app)"
    receiver = f"{STRICT}.StrictOrderCreated ({STRICT})"
    lines = result.stderr.splitlines()
    assert lines[:3] == [
        f"order.created: field 'sku': required by the receiver, not sent by the sender "
        f"(sender {sender}, receiver {receiver})",
        f"order.created: field 'order_id': type differs: sender integer (int64), receiver array of integer (int64) "
        f"(sender {sender}, receiver {receiver})",
        f"order.created: field 'at': format differs: sender string (date-time), receiver string (date) "
        f"(sender {sender}, receiver {receiver})",
    ]
    assert len(lines) == 4 and lines[3].startswith("Error: 3 incompatibilities in order.created")


def test_a_renamed_field_is_named_as_such(tmp_path: Path) -> None:
    old = tmp_path / "stock.json"
    assert run("asyncapi", "apps.stock_app", "--out", str(old)).exit_code == 0
    doc = json.loads(old.read_text())
    payload = doc["components"]["messages"]["OrderCreated"]["payload"]
    payload["properties"]["id"] = payload["properties"].pop("order_id")
    payload["required"] = ["id", "at"]
    old.write_text(json.dumps(doc))
    result = run("contracts", "check", "--against", str(old), "apps.order_app")
    assert result.exit_code == 1
    assert "field 'id': required by the receiver, not sent by the sender (renamed to 'order_id'?)" in result.stderr


def test_against_a_saved_document_the_unchanged_producer_passes(tmp_path: Path) -> None:
    old = tmp_path / "stock.json"
    assert run("asyncapi", "apps.stock_app", "--out", str(old)).exit_code == 0
    result = run("contracts", "check", "--against", str(old), "apps.order_app")
    assert result.exit_code == 0, result.stderr
    assert f"order.created (apps.order_app -> apps.stock_app in {old})" in result.stdout


def test_a_saved_document_that_is_not_asyncapi_is_refused(tmp_path: Path) -> None:
    old = tmp_path / "old.json"
    old.write_text("[1, 2]")
    result = run("contracts", "check", "--against", str(old), "apps.order_app")
    assert result.exit_code == 1
    assert "is not an AsyncAPI or OpenAPI document made by spine" in result.stderr


def test_only_the_incompatible_pair_is_named() -> None:
    """With one compatible and one incompatible receiver, the error names only the incompatible pair."""
    result = run("contracts", "check", "apps.order_app", "apps.stock_app", STRICT)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        f"Error: 3 incompatibilities in order.created (apps.order_app -> {STRICT}); 1 other pair(s) compatible"
    )
