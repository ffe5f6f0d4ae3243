"""The outbox over RabbitMQ: the broker down (a TCP proxy cut) while orders are posted."""

from __future__ import annotations

import pytest
from falcon.testing import TestClient

from apps import order_app, stock_app
from rabbitmq.conftest import RabbitScope, proxy, rabbit, rabbitmq_url  # noqa: F401  (fixtures)
from rabbitmq.proxy import Proxy
from spine_core.testing import wait_until

from .conftest import Databases
from .support import assert_reserved_once, scalar

pytestmark = pytest.mark.rabbitmq
ORDERS = range(1, 101)


def test_broker_down_every_order_answered_and_reserved_once_when_back(
    rabbit: RabbitScope, proxy: Proxy, dbs: Databases,  # noqa: F811
) -> None:
    """The order service reaches RabbitMQ through a proxy that is cut while 100 orders are
    posted: all are answered 200 and wait in the outbox; once the proxy is restored the
    relay publishes them and the stock service reserves each once."""
    rabbit.topic_queues("order.created")
    stock = rabbit.start(dbs.stock_app(), stock_app.options())
    orders = rabbit.start(dbs.order_app(), order_app.options(), url=proxy.url())
    assert orders.runtime.wsgi is not None
    client = TestClient(orders.runtime.wsgi)
    proxy.cut()
    statuses = [client.simulate_post(f"/orders/{n}").status_code for n in ORDERS]
    assert statuses == [200] * len(ORDERS)
    assert scalar(dbs.orders, "SELECT count(*) FROM orders") == len(ORDERS)
    wait_until(lambda: "outbox backlog 100," in orders.runtime.health().detail, 10, "backlog 100 in readiness")
    assert scalar(dbs.stock, "SELECT count(*) FROM stock_reservations") == 0
    proxy.restore()
    wait_until(lambda: scalar(dbs.stock, "SELECT count(*) FROM stock_reservations") >= len(ORDERS), 60,
               "every order reserved after the outage")
    assert_reserved_once(dbs.stock, ORDERS)
    wait_until(lambda: scalar(dbs.orders, "SELECT count(*) FROM spine_outbox WHERE published_at IS NULL") == 0, 10,
               "outbox empty")
    assert stock.runtime.health().ready
