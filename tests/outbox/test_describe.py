"""Describing an app that uses the PostgreSQL extension needs no database: ``spine consumers``,
``spine asyncapi`` and ``spine contracts check`` neither require ``SPINE_POSTGRES_DSN`` nor connect."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from apps.events import OrderCreated
from apps.order_app.stored import ORDERS_TABLE, StoredOrderController
from apps.stock_app.stored import RESERVATIONS_TABLE, StoredOrderConsumer
from spine_core import BootError, BrokerOptions, Options, ReadOptions, Spine
from spine_core.cli import cli
from spine_postgres import Postgres

UNREACHABLE = "postgresql://postgres@127.0.0.1:1/nowhere"
"""A DSN nothing listens on: connecting to it fails at once."""


def create_orders() -> Spine:
    """The order service, always on PostgreSQL (not only when the DSN is set, as the seed's)."""
    app = Spine()
    app.extend(Postgres.from_env(schema=[ORDERS_TABLE]))
    app.constructor(StoredOrderController)
    app.route("POST", "/orders/:order_id", StoredOrderController.create, publishes=[OrderCreated])
    return app


def create_stock() -> Spine:
    """The stock service, always on PostgreSQL (inbox)."""
    app = Spine()
    app.extend(Postgres.from_env(schema=[RESERVATIONS_TABLE]))
    app.constructor(StoredOrderConsumer)
    app.consumers().register("order.created", StoredOrderConsumer.on_created)
    return app


@pytest.fixture(params=[None, UNREACHABLE], ids=["dsn-unset", "dsn-unreachable"])
def env(request: pytest.FixtureRequest) -> dict[str, str | None]:
    """The command's environment: no DSN, or a DSN of a server that is not there."""
    return {"SPINE_POSTGRES_DSN": request.param, "SPINE_BROKER": None}


def spine(env: dict[str, str | None], *args: str) -> str:
    result = CliRunner().invoke(cli, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.output


def test_consumers_lists_without_a_database(env: dict[str, str | None]) -> None:
    """``spine consumers`` lists the stock service's topic and handler."""
    out = spine(env, "consumers", f"{__name__}:create_stock")
    assert "order.created" in out and "StoredOrderConsumer.on_created" in out


def test_asyncapi_describes_without_a_database(env: dict[str, str | None]) -> None:
    """``spine asyncapi`` writes the order service's document with its sent event."""
    doc = json.loads(spine(env, "asyncapi", f"{__name__}:create_orders"))
    assert "order.created" in json.dumps(doc["channels"])


def test_contracts_check_without_a_database(env: dict[str, str | None]) -> None:
    """``spine contracts check`` compares the two services without connecting to either's database."""
    out = spine(env, "contracts", "check", f"{__name__}:create_orders", f"{__name__}:create_stock")
    assert out.startswith("contracts ok: 1 sender/receiver pair(s) compatible: order.created")


def test_starting_without_a_dsn_still_says_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The DSN is required where the extension connects: starting the app says it is not set."""
    monkeypatch.delenv("SPINE_POSTGRES_DSN", raising=False)
    options = Options(http=None, broker=BrokerOptions(name="memory", read=ReadOptions(group_id="stock")))
    runtime = create_stock().runtime(options)
    with pytest.raises(BootError, match="SPINE_POSTGRES_DSN is not set"):
        runtime.start()
