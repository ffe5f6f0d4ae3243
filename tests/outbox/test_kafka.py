"""The outbox and the inbox over Kafka: relays running at once, a relay SIGKILLed mid-batch,
the broker down while orders are posted."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import psycopg
import pytest
from attrs import evolve
from falcon.testing import TestClient

from apps import order_app, stock_app
from broker_checks import ServiceProcess, seed_scenario
from kafka.support import kafka_env, unique
from spine_core import Options, Spine
from spine_core.messages import OutgoingMessage
from spine_core.options import BrokerConfig
from spine_core.runtime import Runtime
from spine_core.testing import wait_until
from spine_kafka import KafkaPlugin
from spine_kafka.tansu import TANSU_CONSUMER_SETTINGS, Tansu
from spine_postgres import PostgresOptions, Relay
from spine_postgres.plugin import open_pool

from .conftest import Databases
from .support import assert_reserved_once, reservations, scalar

pytestmark = pytest.mark.kafka
Start = Callable[..., Runtime]
RELAY = ["-m", "spine_core.cli", "relay", "apps.order_app"]


@pytest.fixture
def started() -> Iterator[Start]:
    """``started(app, options, bootstrap, prefix, group=None)``: the app running in this
    process on Kafka at ``bootstrap`` with the topic prefix (and group); closed after the test."""
    runtimes: list[Runtime] = []

    def start(app: Spine, options: Options, bootstrap: str, prefix: str, group: str | None = None) -> Runtime:
        read = options.broker.read
        if read is not None and group is not None:
            read = evolve(read, group_id=group)
        settings = {"bootstrap.servers": bootstrap, **TANSU_CONSUMER_SETTINGS}
        broker = evolve(options.broker, name="kafka", topic_prefix=prefix, read=read, settings={"kafka": settings})
        options = evolve(options, broker=broker)
        runtime = Runtime(app, options, KafkaPlugin(BrokerConfig.from_options(options)))
        runtime.start()
        runtimes.append(runtime)
        return runtime

    yield start
    for runtime in reversed(runtimes):
        runtime.close(timeout=5.0)


def post_orders(runtime: Runtime, orders: range) -> list[int]:
    assert runtime.wsgi is not None
    client = TestClient(runtime.wsgi)
    return [client.simulate_post(f"/orders/{n}").status_code for n in orders]


def ready(runtime: Runtime) -> None:
    wait_until(lambda: runtime.health().ready, 30, f"ready: {runtime.health().detail}")


def pending(dsn: str) -> int:
    return int(scalar(dsn, "SELECT count(*) FROM spine_outbox WHERE published_at IS NULL"))


def test_two_relays_and_two_stock_instances_reserve_every_order_once(
    kafka_bootstrap_servers: str, dbs: Databases, started: Start,
) -> None:
    """Two ``spine relay`` processes share the outbox, two stock instances share the group:
    each of 100 orders is reserved exactly once. The relays poll only every 30 s: the orders
    arrive sooner because the order service notifies them at each commit."""
    prefix, group = unique("outbox") + ".", unique("stock")
    dbs.monkeypatch.setenv("SPINE_POSTGRES_RELAY", "0")
    orders = started(dbs.order_app(), order_app.options(), kafka_bootstrap_servers, prefix)
    stocks = [started(dbs.stock_app(), stock_app.options(), kafka_bootstrap_servers, prefix, group)
              for _ in range(2)]
    for stock in stocks:
        ready(stock)
    env = kafka_env(kafka_bootstrap_servers, SPINE_KAFKA_TOPIC_PREFIX=prefix, SPINE_POSTGRES_DSN=dbs.orders,
                    SPINE_POSTGRES_RELAY_BATCH="10", SPINE_POSTGRES_RELAY_INTERVAL="30")
    relays = [ServiceProcess(RELAY, env) for _ in range(2)]
    try:
        for relay in relays:
            relay.wait_for("listening for commits")
        assert post_orders(orders, range(1, 101)) == [200] * 100
        wait_until(lambda: scalar(dbs.stock, "SELECT count(*) FROM stock_reservations") >= 100, 20,
                   "100 orders reserved (the relays notified)")
        assert_reserved_once(dbs.stock, range(1, 101))
        assert scalar(dbs.stock, "SELECT count(*) FROM spine_inbox") == 100
        wait_until(lambda: pending(dbs.orders) == 0, 10, "outbox published")
        assert [relay.terminate() for relay in relays] == [0, 0]
    finally:
        for relay in relays:
            relay.kill()


def test_relay_killed_mid_batch_loses_nothing_and_the_inbox_drops_duplicates(
    kafka_bootstrap_servers: str, dbs: Databases, started: Start, caplog: pytest.LogCaptureFixture,
) -> None:
    """A relay SIGKILLed while it holds a batch (its transaction open, publishing), after
    earlier batches reached the stock service: a second relay publishes what it had not
    marked published; every order is reserved once."""
    prefix, group = unique("outbox") + ".", unique("stock")
    dbs.monkeypatch.setenv("SPINE_POSTGRES_RELAY", "0")
    orders = started(dbs.order_app(), order_app.options(), kafka_bootstrap_servers, prefix)
    stock = started(dbs.stock_app(), stock_app.options(), kafka_bootstrap_servers, prefix, group)
    ready(stock)
    assert post_orders(orders, range(1, 401)) == [200] * 400
    env = kafka_env(kafka_bootstrap_servers, SPINE_KAFKA_TOPIC_PREFIX=prefix, SPINE_POSTGRES_DSN=dbs.orders,
                    SPINE_POSTGRES_RELAY_BATCH="20")
    first = ServiceProcess(RELAY, env)
    second: ServiceProcess | None = None
    try:
        with psycopg.connect(dbs.orders, autocommit=True) as watch:
            in_batch = ("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'spine-relay' "
                        "AND state = 'idle in transaction'")

            def inside_a_later_batch() -> bool:
                if pending(dbs.orders) == 0:
                    return True  # too late: fails below
                row = watch.execute(in_batch).fetchone()
                return bool(row and row[0]) and scalar(dbs.stock, "SELECT count(*) FROM stock_reservations") > 0

            wait_until(inside_a_later_batch, 30, "the relay inside a batch, after one was handled")
            first.proc.kill()
            first.proc.wait()
        left = pending(dbs.orders)
        assert left > 0, "the relay published everything before it could be killed mid-batch"
        second = ServiceProcess(RELAY, env)
        wait_until(lambda: scalar(dbs.stock, "SELECT count(*) FROM stock_reservations") >= 400, 60,
                   "400 orders reserved")
        assert_reserved_once(dbs.stock, range(1, 401))
        wait_until(lambda: pending(dbs.orders) == 0, 10, "outbox published")
        duplicates = [r for r in caplog.records if "already handled" in r.getMessage()]
        print(f"killed with {left} row(s) unpublished; {len(duplicates)} duplicate(s) dropped by the inbox")
    finally:
        first.kill()
        if second is not None:
            second.kill()


def test_kafka_down_orders_answered_then_reserved_once(
    kafka_bootstrap_servers: str, dbs: Databases, started: Start,
) -> None:
    """A private Tansu (not the session's: ``kafka_bootstrap_servers`` only checks that Tansu
    runs here) is stopped while 100 orders are posted: all answered 200 and kept in the
    outbox; once it runs again on the same port, each is reserved once."""
    prefix, group = unique("outbox") + ".", unique("stock")
    tansu = Tansu.start()
    try:
        orders = started(dbs.order_app(), order_app.options(), tansu.bootstrap_servers, prefix)
        tansu.stop()
        assert post_orders(orders, range(1, 101)) == [200] * 100
        wait_until(lambda: "outbox backlog 100," in orders.health().detail, 10, "backlog 100 in readiness")
        tansu = Tansu.start(port=tansu.port)
        stock = started(dbs.stock_app(), stock_app.options(), tansu.bootstrap_servers, prefix, group)
        wait_until(lambda: scalar(dbs.stock, "SELECT count(*) FROM stock_reservations") >= 100, 90,
                   "100 orders reserved after the outage")
        assert_reserved_once(dbs.stock, range(1, 101))
        wait_until(lambda: pending(dbs.orders) == 0, 30, "outbox published")
        assert stock.health().ready
    finally:
        tansu.stop()


def test_rows_published_but_not_marked_are_published_again_and_dropped_by_the_inbox(
    kafka_bootstrap_servers: str, dbs: Databases, started: Start, caplog: pytest.LogCaptureFixture,
) -> None:
    """The worst moment of a crash: the broker confirmed the batch, the relay died before its
    commit. The batch is published again; the stock service handles each event once."""
    prefix, group = unique("outbox") + ".", unique("stock")
    dbs.monkeypatch.setenv("SPINE_POSTGRES_RELAY", "0")
    orders = started(dbs.order_app(), order_app.options(), kafka_bootstrap_servers, prefix)
    stock = started(dbs.stock_app(), stock_app.options(), kafka_bootstrap_servers, prefix, group)
    ready(stock)
    assert post_orders(orders, range(1, 11)) == [200] * 10
    calls: list[int] = []

    def publish_then_crash_once(messages: Sequence[OutgoingMessage]) -> None:
        orders.hook.spine_publish(messages=messages, timeout=10.0)
        calls.append(len(messages))
        if len(calls) == 1:
            raise RuntimeError("crashed after the broker confirmed")

    pool = open_pool(PostgresOptions(dsn=dbs.orders), "test-relay")
    try:
        relay = Relay(pool, publish_then_crash_once, batch=10)
        with pytest.raises(RuntimeError):
            relay.relay_batch()
        assert pending(dbs.orders) == 10
        assert relay.relay_batch() == 10
    finally:
        pool.close()
    assert calls == [10, 10]
    wait_until(lambda: len([r for r in caplog.records if "already handled" in r.getMessage()]) == 10, 30,
               "10 duplicates dropped by the inbox")
    assert_reserved_once(dbs.stock, range(1, 11))


def test_seed_services_as_processes_with_their_databases(
    kafka_bootstrap_servers: str, dbs: Databases, processes: list[ServiceProcess]
) -> None:
    """``python -m apps.order_app`` and ``apps.stock_app`` with ``SPINE_POSTGRES_DSN``: the
    order is stored, reaches the stock service through the outbox, which logs the seed's
    lines and stores the reservation; both exit 0 on SIGTERM."""
    prefix = unique("seed") + "."
    env = kafka_env(kafka_bootstrap_servers, SPINE_KAFKA_TOPIC_PREFIX=prefix, SPINE_KAFKA_GROUP_ID=unique("stock"),
                    SPINE_ADDRESS="127.0.0.1:0", SPINE_POSTGRES_INIT="1")
    seed_scenario(processes, env, ready=rf"assigned .*{prefix}order\.created",
                  stock_env={"SPINE_POSTGRES_DSN": dbs.stock}, order_env={"SPINE_POSTGRES_DSN": dbs.orders})
    assert reservations(dbs.stock) == {12345: 1}
    assert scalar(dbs.orders, "SELECT id FROM orders") == 12345
