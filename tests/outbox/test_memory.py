"""Transactions, outbox, relay and inbox on the real PostgreSQL, with the memory broker."""

from __future__ import annotations

from spine_memory.pytest_plugin import SpineAppFactory, StartedApp

import logging
import random
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

import psycopg
import psycopg.conninfo
import pytest

from apps import order_app, stock_app
from apps.events import OrderCreated
from apps.stock_app.stored import RESERVATIONS_TABLE
from spine_core import Context, Options, Spine, publish
from spine_core.messages import OutgoingMessage
from spine_core.path import Int
from spine_core.event import to_message
from spine_core.testing import wait_until
from spine_memory import MemoryBroker
from spine_postgres import Postgres, PostgresOptions, Relay, Transaction
from spine_postgres import outbox
from spine_postgres.plugin import open_pool
from spine_postgres.schema import create_tables

from rabbitmq.proxy import Proxy

from .conftest import Databases
from .support import assert_reserved_once, rows, scalar

ROOT = Path(__file__).resolve().parents[2]


def test_order_is_stored_and_reaches_stock_through_the_outbox(spine_app: SpineAppFactory, dbs: Databases) -> None:
    stock = spine_app(dbs.stock_app(), stock_app.options())
    orders = spine_app(dbs.order_app(), order_app.options())
    result = orders.client.simulate_post("/orders/12345")
    assert (result.status_code, result.text) == (200, "OK")
    assert rows(dbs.orders, "SELECT id FROM orders") == [(12345,)]
    wait_until(lambda: scalar(dbs.stock, "SELECT count(*) FROM stock_reservations") == 1, 10, "order reserved")
    assert rows(dbs.stock, "SELECT order_id FROM stock_reservations") == [(12345,)]
    [message] = stock.broker.messages("order.created")
    assert message.key == "12345"
    wait_until(lambda: scalar(dbs.orders, "SELECT count(*) FROM spine_outbox WHERE published_at IS NULL") == 0, 5,
               "outbox row marked published")
    assert orders.client.simulate_post("/orders/12345").status_code == 409


def test_broker_down_orders_answered_then_delivered_once(spine_app: SpineAppFactory, dbs: Databases) -> None:
    """With the broker down, orders are answered 200 and wait in the outbox (readiness and
    metrics show the backlog); once it is back, each is reserved once."""
    stock = spine_app(dbs.stock_app(), stock_app.options())
    orders = spine_app(dbs.order_app(), order_app.options())
    stock.broker.available = False
    for order_id in range(1, 21):
        assert orders.client.simulate_post(f"/orders/{order_id}").status_code == 200
    assert "outbox backlog 20" in orders.runtime.health().detail
    metrics = orders.client.simulate_get("/metrics").text
    assert "spine_outbox_backlog 20.0" in metrics
    assert "spine_outbox_oldest_age_seconds" in metrics
    stock.broker.available = True
    wait_until(lambda: scalar(dbs.stock, "SELECT count(*) FROM stock_reservations") >= 20, 20, "orders reserved")
    assert_reserved_once(dbs.stock, range(1, 21))
    wait_until(lambda: "outbox backlog 0," in orders.runtime.health().detail, 5, "backlog 0 in readiness")


class FailingController:
    def create(self, ctx: Context, order_id: Int, tx: Transaction) -> str:
        tx.execute("INSERT INTO orders (id, created_at) VALUES (%s, now())", (order_id.value,))
        publish.event(ctx, OrderCreated(order_id=order_id.value, at=datetime.now(timezone.utc)))
        raise RuntimeError("failed after writing")


def test_handler_failing_after_writing_leaves_no_row_and_no_event(spine_app: SpineAppFactory, dsn: str) -> None:
    from apps.order_app.stored import ORDERS_TABLE

    app = Spine()
    app.extend(Postgres(PostgresOptions(dsn=dsn, init=True), schema=[ORDERS_TABLE]))
    app.constructor(FailingController)
    app.route("POST", "/orders/:order_id", FailingController.create)
    started = spine_app(app, Options())
    assert started.client.simulate_post("/orders/7").status_code == 500
    assert rows(dsn, "SELECT * FROM orders") == []
    assert rows(dsn, "SELECT * FROM spine_outbox") == []
    assert started.broker.messages("order.created") == []


def test_a_redelivered_event_has_its_effect_once(spine_app: SpineAppFactory, dsn: str) -> None:
    """The same event (same ``event-id``) delivered twice reserves stock once; another event
    of the same order is a new event."""
    stock = spine_app(stock_app.create_app(), stock_app.options())
    event = OrderCreated(order_id=5, at=datetime.now(timezone.utc))
    message = to_message(event, "", "test")
    stock.broker.publish([message, message], timeout=5)
    stock.broker.drain()
    assert rows(dsn, "SELECT order_id FROM stock_reservations") == [(5,)]
    stock.publish(event)
    stock.broker.drain()
    assert rows(dsn, "SELECT count(*) FROM stock_reservations") == [(2,)]
    assert scalar(dsn, "SELECT count(*) FROM spine_inbox") == 2


def _message(key: str | None, n: int) -> OutgoingMessage:
    return OutgoingMessage("t", str(n).encode(), key, {"n": str(n)})


def test_relays_at_once_take_other_rows_and_keep_each_keys_order(dsn: str) -> None:
    """A relay holding a key's row keeps another relay off that key's later rows; rows of
    other keys are shared out (SKIP LOCKED)."""
    with psycopg.connect(dsn) as a, psycopg.connect(dsn) as b:
        create_tables(a)
        with a.transaction():
            outbox.write(a, [_message("k1", 1), _message("k2", 2), _message("k1", 3), _message(None, 4)])
        with a.transaction():
            first = outbox.claim(a, 2)
            assert [m.value for m in first.messages] == [b"1", b"2"]
            with b.transaction():
                second = outbox.claim(b, 10)
                assert [m.value for m in second.messages] == [b"4"]  # not k1's row 3: row 1 is pending
                outbox.mark_published(b, second.ids)
            outbox.mark_published(a, first.ids)
        with b.transaction():
            assert [m.value for m in outbox.claim(b, 10).messages] == [b"3"]
        assert outbox.prune(a, 3600) == 0
        assert outbox.prune(a, 0) == 3  # published rows past the retention are deleted


def test_a_relay_that_dies_mid_batch_leaves_its_rows_to_the_next(dsn: str) -> None:
    with psycopg.connect(dsn) as a, psycopg.connect(dsn) as b:
        create_tables(a)
        with a.transaction():
            outbox.write(a, [_message(str(n), n) for n in range(5)])
        a.execute("BEGIN")
        assert len(outbox.claim(a, 3).ids) == 3
        with b.transaction():
            assert len(outbox.claim(b, 10).ids) == 2  # the other two
        a.close()  # as if killed: its transaction is rolled back
        with b.transaction():
            assert len(outbox.claim(b, 10).ids) == 5


def test_spine_db_init_creates_the_tables(dsn: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "spine_core.cli", "db", "init", "apps.order_app"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "tables ready" in result.stdout
    tables = {r[0] for r in rows(dsn, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert {"spine_outbox", "spine_inbox", "orders"} <= tables


def test_unreachable_database_is_a_clear_boot_error(
    spine_app: SpineAppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPINE_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:1/nothing?connect_timeout=1")
    with pytest.raises(Exception, match="PostgreSQL at .* is not reachable"):
        spine_app(order_app.create_app(), order_app.options())


def test_database_down_is_a_503_and_service_resumes(
    spine_app: SpineAppFactory, dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The order service reaches PostgreSQL through a proxy that is cut: ``POST`` answers 503
    (not stored, nothing published) and readiness fails; once restored, orders are taken again."""
    params = psycopg.conninfo.conninfo_to_dict(dsn)
    proxy = Proxy((str(params.get("host", "127.0.0.1")), int(str(params.get("port", 5432)))))
    try:
        monkeypatch.setenv("SPINE_POSTGRES_DSN", psycopg.conninfo.make_conninfo(dsn, host="127.0.0.1", port=proxy.port))
        orders = spine_app(order_app.create_app(), order_app.options())
        assert orders.client.simulate_post("/orders/1").status_code == 200
        proxy.cut()
        result = orders.client.simulate_post("/orders/2")
        assert result.status_code == 503
        assert "database unavailable" in result.json["message"]
        assert not orders.runtime.health().ready
        proxy.restore()
        ids = iter(range(3, 100))
        wait_until(lambda: orders.client.simulate_post(f"/orders/{next(ids)}").status_code == 200, 20,
                   "an order taken after the database came back")
        assert orders.client.simulate_post("/orders/2").status_code == 200
        assert orders.runtime.health().ready
        assert (2,) in rows(dsn, "SELECT id FROM orders")
        wait_until(lambda: len(orders.broker.messages("order.created")) == scalar(dsn, "SELECT count(*) FROM orders"),
                   10, "one event per stored order")
        orders.runtime.close(timeout=5.0)
    finally:
        proxy.cut()


def test_relay_without_a_postgres_extension_is_a_clear_error() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "spine_core.cli", "relay", "apps.http_example"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode != 0
    assert "has no Postgres extension" in result.stderr


def test_two_relays_publish_each_keys_rows_in_order(dsn: str, memory_broker: MemoryBroker) -> None:
    """Two relays drain 60 rows of 3 keys at once (each publish taking a little while):
    every row is published once, and each key's rows in the order they were written."""
    with psycopg.connect(dsn) as connection:
        create_tables(connection)
        with connection.transaction():
            outbox.write(connection, [_message(f"k{n % 3}", n) for n in range(60)])

    def slow_publish(messages: Sequence[OutgoingMessage]) -> None:
        time.sleep(random.uniform(0, 0.005))
        memory_broker.publish(messages, timeout=5.0)

    pools = [open_pool(PostgresOptions(dsn=dsn), f"test-relay-{i}") for i in range(2)]
    relays = [Relay(pool, slow_publish, batch=4, interval=0.01) for pool in pools]
    try:
        for relay in relays:
            relay.start()
        wait_until(lambda: len(memory_broker.messages("t")) >= 60, 20, "60 rows published")
    finally:
        for relay, pool in zip(relays, pools):
            relay.stop(5.0)
            pool.close()
    published = memory_broker.messages("t")
    assert sorted(int(m.value) for m in published) == list(range(60))
    for key in ("k0", "k1", "k2"):
        values = [int(m.value) for m in published if m.key == key]
        assert values == sorted(values), f"{key} out of order: {values}"


def consumed(started: StartedApp, topic: str) -> dict[str, float | None]:
    """``spine_messages_consumed_total`` of ``topic``, ``ok`` and ``skipped``."""
    metrics = started.runtime.metrics
    assert metrics is not None
    return {o: metrics.registry.get_sample_value("spine_messages_consumed_total", {"topic": topic, "outcome": o})
            for o in ("ok", "skipped")}


def test_an_inbox_skipped_redelivery_is_logged_and_counted_as_skipped(
    spine_app: SpineAppFactory, dsn: str, caplog: pytest.LogCaptureFixture,
) -> None:
    """A redelivered event the inbox skips logs one line naming its event id and counts as ``skipped``, not ``ok``."""
    stock = spine_app(stock_app.create_app(), stock_app.options())
    message = to_message(OrderCreated(order_id=6, at=datetime.now(timezone.utc)), "", "test")
    with caplog.at_level(logging.INFO, logger="spine.postgres"):
        stock.broker.publish([message, message], timeout=5)
        stock.broker.drain()
    [line] = [r.getMessage() for r in caplog.records if "already handled" in r.getMessage()]
    assert message.headers["event-id"] in line and "counted as skipped" in line
    assert consumed(stock, "order.created") == {"ok": 1.0, "skipped": 1.0}


class BatchReservations:
    """A batch handler behind the inbox: reserves each order of a batch."""

    def reserve(self, ctx: Context, orders: list[OrderCreated], tx: Transaction) -> None:
        for order in orders:
            tx.execute("INSERT INTO stock_reservations (order_id) VALUES (%s)", (order.order_id,))


def test_an_inbox_skipped_message_of_a_batch_counts_as_skipped(spine_app: SpineAppFactory, dsn: str) -> None:
    """In a batch with a redelivered event, the inbox skips only that one: it counts as ``skipped``, the rest ``ok``."""
    app = Spine()
    app.extend(Postgres.from_env(schema=[RESERVATIONS_TABLE]))
    app.constructor(BatchReservations)
    app.consumers().register("order.created", BatchReservations.reserve, max_batch=10)
    stock = spine_app(app, stock_app.options())
    now = datetime.now(timezone.utc)
    first, second = (to_message(OrderCreated(order_id=n, at=now), "", "test") for n in (7, 8))
    stock.broker.publish([first, first, second], timeout=5)
    stock.broker.drain()
    assert rows(dsn, "SELECT order_id FROM stock_reservations ORDER BY order_id") == [(7,), (8,)]
    assert consumed(stock, "order.created") == {"ok": 2.0, "skipped": 1.0}
