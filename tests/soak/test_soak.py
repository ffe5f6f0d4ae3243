"""The chaos soak in CI, 60 seconds per broker (``./dev soak`` runs it at any length): the
order and stock services as processes, the broker away twice, the stock service SIGKILLed
twice; every order answered 200 is handled, and orders flow again after each broker return."""

from __future__ import annotations

import os
import shutil
from typing import NoReturn

import pika
import pytest

from soak.report import render
from soak.run import Plan, Result, soak
from spine_kafka.tansu import TansuUnavailable, broker_binary
from spine_rabbitmq.config import DEFAULT_URL

SECONDS = 60.0
DRAIN = 30.0
"""At the end, how long the stock service may take to catch up (a stuck one fails sooner)."""


def unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI") == "true":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def check(result: Result) -> None:
    report = render(result.figures, result.timeline)
    print(report)
    f = result.figures
    assert len(f.recoveries) == 2 and f.stock_runs == 3, report
    assert f.answered_200 > 0, report
    assert f.passed, report


@pytest.mark.kafka
def test_soak_over_kafka() -> None:
    """Tansu stopped and started again on its port twice (it comes back empty)."""
    try:
        broker_binary()
    except TansuUnavailable as e:
        unavailable(f"no Tansu for the Kafka soak: {e}")
    check(soak(Plan(broker="kafka", seconds=SECONDS, drain=DRAIN), out=None))


@pytest.mark.rabbitmq
def test_soak_over_rabbitmq() -> None:
    """The shared server behind a proxy of the soak's own, cut and restored twice."""
    url = os.environ.get("SPINE_TEST_RABBITMQ_URL", DEFAULT_URL)
    params = pika.URLParameters(url)
    params.connection_attempts, params.socket_timeout = 1, 3
    try:
        pika.BlockingConnection(params).close()
    except pika.exceptions.AMQPError as e:
        unavailable(f"RabbitMQ is not reachable at {url} ({e!r}) for the RabbitMQ soak")
    check(soak(Plan(broker="rabbitmq", seconds=SECONDS, drain=DRAIN), out=None))


@pytest.mark.nats
def test_soak_over_nats() -> None:
    """A private nats-server -js stopped and started again on its port and store twice."""
    if shutil.which("nats-server") is None:
        unavailable("nats-server is not installed for the NATS soak (Debian: apt-get install nats-server)")
    check(soak(Plan(broker="nats", seconds=SECONDS, drain=DRAIN), out=None))
