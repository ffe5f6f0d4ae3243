"""Broker faults on Kafka: a broker restarted empty on the same port, and the log while it is away."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import pytest
from attrs import evolve
from confluent_kafka.admin import AdminClient
from falcon.testing import TestClient

from apps import order_app, stock_app
from spine_core import Options, Spine
from spine_core.errors import PublishError
from spine_core.messages import ACK, OutgoingMessage, Subscription
from spine_core.options import BrokerConfig, ReadOptions, WriteOptions
from spine_core.runtime import Runtime
from spine_core.testing import Deliveries, logged, publishes, wait_until
from spine_core.toolkit import outage as outage_module
from spine_kafka import KafkaPlugin
from spine_kafka.tansu import TANSU_CONSUMER_SETTINGS, free_port

from .outage import TansuOutage
from .support import unique


@pytest.fixture
def tansu(kafka_bootstrap_servers: str) -> Iterator[TansuOutage]:
    broker = TansuOutage()
    yield broker
    broker.down()


def test_restart_recovers_by_itself_and_logs_once(
    tansu: TansuOutage, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tansu restarted on its port comes back without topics: readiness is false while it is away
    and true again once the topic was created again and the member holds partitions; publishing
    and consuming resume; the outage is one line, a reminder per interval and one line at the end."""
    monkeypatch.setattr(outage_module, "REMIND_EVERY", 2.0)
    topic, group = unique("faults"), unique("g")
    plugin = tansu.make_broker(BrokerConfig(name="kafka", write=WriteOptions(), read=ReadOptions(group_id=group)))
    plugin.spine_broker_start()
    received = Deliveries()
    try:
        plugin.spine_subscribe(group_id=group, subscriptions=[Subscription(topic, received)])
        wait_until(lambda: plugin.spine_broker_health().ready, 30, "the assignment")
        plugin.spine_publish([OutgoingMessage(topic, b"before", "k")], timeout=10)
        wait_until(lambda: b"before" in received.values, 30, "the first message")

        caplog.clear()
        caplog.set_level(logging.INFO, logger="spine.kafka")
        tansu.down()
        with pytest.raises(PublishError):
            plugin.spine_publish([OutgoingMessage(topic, b"lost", "k")], timeout=2)
        wait_until(lambda: not plugin.spine_broker_health().ready, 10, "not ready while away")
        wait_until(lambda: logged(caplog, "still unreachable") >= 2, 15, "two reminders")
        away = [r for r in caplog.records if r.levelno >= logging.WARNING]

        tansu.up()
        back = time.monotonic()
        wait_until(lambda: publishes(plugin, topic), 30, "publishing again")
        assert time.monotonic() - back < 30
        wait_until(lambda: plugin.spine_broker_health().ready, 30, "ready again")
        wait_until(lambda: b"after" in received.values, 30, "a message published after the restart")
        assert topic in AdminClient({"bootstrap.servers": tansu.bootstrap_servers}).list_topics(timeout=5).topics

        assert logged(caplog, "kafka cluster unreachable") == 1
        assert 2 <= logged(caplog, "still unreachable") <= 6
        assert logged(caplog, "reachable again") == 1
        assert len(away) <= 12, [r.getMessage() for r in away]
        clients = ("spine.kafka.producer", "spine.kafka.consumer", "spine.kafka.admin")
        leaked = [r for r in caplog.records if r.name in clients and "Connect to" in r.getMessage()]
        assert not leaked, "librdkafka's refusals leaked"
    finally:
        plugin.spine_broker_close(timeout=5)


def test_seed_services_recover_after_a_restart(tansu: TansuOutage, caplog: pytest.LogCaptureFixture) -> None:
    """The seed's order and stock services on a Tansu restarted empty: readiness 503 while it is away
    and 200 again once back (the stock consumer holds its partitions); POST /orders answers 200 again
    within 30 s of the return and the stock service handles the order."""
    caplog.set_level(logging.INFO, logger="stock")
    stock = _start(stock_app.create_app(), stock_app.options(), tansu)
    orders = _start(order_app.create_app(), order_app.options(), tansu)
    try:
        assert stock.wsgi is not None and orders.wsgi is not None
        stock_http, order_http = TestClient(stock.wsgi), TestClient(orders.wsgi)
        wait_until(lambda: stock_http.simulate_get("/health/ready").status_code == 200, 30, "stock ready")
        assert order_http.simulate_post("/orders/1").text == "OK"
        wait_until(lambda: "OrderID: 1" in caplog.text, 30, "order 1 handled")

        tansu.down()
        wait_until(lambda: stock_http.simulate_get("/health/ready").status_code == 503, 10, "stock not ready")
        assert order_http.simulate_get("/health/ready").status_code == 503
        tansu.up()
        back = time.monotonic()
        wait_until(lambda: order_http.simulate_post("/orders/2").status_code == 200, 30, "POST answered OK again")
        assert time.monotonic() - back < 30
        ready = stock_http.simulate_get
        wait_until(lambda: ready("/health/ready").status_code == 200, 30, "stock ready again")
        assert "partition(s)" in ready("/health/ready").json["detail"]
        wait_until(lambda: "OrderID: 2" in caplog.text, 30, "order 2 handled after the restart")
    finally:
        orders.close(timeout=5)
        stock.close(timeout=5)


def _start(app: Spine, options: Options, tansu: TansuOutage) -> Runtime:
    settings = {"kafka": {"bootstrap.servers": tansu.bootstrap_servers, **TANSU_CONSUMER_SETTINGS}}
    options = evolve(options, broker=evolve(options.broker, settings=settings))
    runtime = Runtime(app, options, KafkaPlugin(BrokerConfig.from_options(options)))
    runtime.start()
    return runtime


def test_consumer_started_while_kafka_is_down_logs_a_few_lines(caplog: pytest.LogCaptureFixture) -> None:
    """A consuming service started with nobody listening logs a handful of lines in 12 s, not hundreds."""
    settings = {"bootstrap.servers": f"127.0.0.1:{free_port()}", **TANSU_CONSUMER_SETTINGS}
    group = unique("g")
    plugin = KafkaPlugin(BrokerConfig(name="kafka", write=WriteOptions(), read=ReadOptions(group_id=group),
                                      settings=settings))
    caplog.set_level(logging.INFO)
    plugin.spine_broker_start()
    try:
        plugin.spine_subscribe(group_id=group, subscriptions=[Subscription(unique("down"), lambda m: ACK)])
        deadline = time.monotonic() + 12
        while time.monotonic() < deadline:
            assert not plugin.spine_broker_health().ready
            time.sleep(0.5)
    finally:
        plugin.spine_broker_close(timeout=2)
    loud = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    print(f"{len(loud)} line(s) at WARNING or above in 12 s")
    assert logged(caplog, "kafka cluster unreachable") == 1
    assert len(loud) <= 4, loud
