"""Fixtures of the PostgreSQL tests: databases of each test module's own on the real server
(``SPINE_TEST_POSTGRES_URL``, default ``postgresql://postgres@127.0.0.1:5432/postgres``),
dropped after the module, one for the order service and one for the stock service (a
database per service, as deployed); their tables dropped before each test.

Without a server the tests are skipped with the reason; on CI (``CI=true``) they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from attrs import frozen
from psycopg import sql
from psycopg.conninfo import make_conninfo

from apps import order_app, stock_app
from spine_core import Spine
from spine_core.testing import mark_tests_in, unavailable

POSTGRES_URL = os.environ.get("SPINE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
TABLES = ("spine_outbox", "spine_inbox", "orders", "stock_reservations")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    mark_tests_in(__file__, pytest.mark.postgres, items)


@frozen
class Databases:
    """The DSNs of the order service's and the stock service's databases."""

    orders: str
    stock: str
    monkeypatch: pytest.MonkeyPatch

    def order_app(self) -> Spine:
        """The seed's order app on the orders database."""
        self.monkeypatch.setenv("SPINE_POSTGRES_DSN", self.orders)
        return order_app.create_app()

    def stock_app(self) -> Spine:
        """The seed's stock app on the stock database."""
        self.monkeypatch.setenv("SPINE_POSTGRES_DSN", self.stock)
        return stock_app.create_app()


@pytest.fixture(scope="module")
def database() -> Iterator[tuple[str, str]]:
    """The DSNs of two new databases, dropped after the test module."""
    try:
        admin = psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as e:
        unavailable(f"PostgreSQL is not reachable at {POSTGRES_URL} ({e}); start it "
                    "(pg_ctlcluster <version> main start) or set SPINE_TEST_POSTGRES_URL")
    run = uuid.uuid4().hex[:10]
    names = [f"spine_test_{run}_orders", f"spine_test_{run}_stock"]
    with admin:
        try:
            for name in names:
                admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            yield make_conninfo(POSTGRES_URL, dbname=names[0]), make_conninfo(POSTGRES_URL, dbname=names[1])
        finally:
            for name in names:
                admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def dbs(database: tuple[str, str], monkeypatch: pytest.MonkeyPatch) -> Databases:
    """The module's databases with no tables left by an earlier test; the seed's apps made by
    ``dbs.order_app()`` / ``dbs.stock_app()`` use them and create their tables at start."""
    for dsn in database:
        with psycopg.connect(dsn, autocommit=True) as connection:
            connection.execute(f"DROP TABLE IF EXISTS {', '.join(TABLES)}")
    monkeypatch.setenv("SPINE_POSTGRES_INIT", "1")
    return Databases(*database, monkeypatch)


@pytest.fixture
def dsn(dbs: Databases) -> str:
    """One database (the orders one), for tests of a single service."""
    dbs.monkeypatch.setenv("SPINE_POSTGRES_DSN", dbs.orders)
    return dbs.orders
