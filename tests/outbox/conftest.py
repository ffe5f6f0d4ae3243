"""Fixtures of the PostgreSQL tests: a database of each test module's own on the real server
(``SPINE_TEST_POSTGRES_URL``, default ``postgresql://postgres@127.0.0.1:5432/postgres``),
dropped after the module; the tables emptied before each test.

Without a server the tests are skipped with the reason; on CI (``CI=true``) they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

POSTGRES_URL = os.environ.get("SPINE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
TABLES = ("spine_outbox", "spine_inbox", "orders", "stock_reservations")


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    """The DSN of a new database, dropped after the test module."""
    try:
        admin = psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as e:
        message = (f"PostgreSQL is not reachable at {POSTGRES_URL} ({e}); start it "
                   "(pg_ctlcluster <version> main start) or set SPINE_TEST_POSTGRES_URL")
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    name = f"spine_test_{uuid.uuid4().hex[:10]}"
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield make_conninfo(POSTGRES_URL, dbname=name)
        finally:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def dsn(database: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The module's database with no tables left by an earlier test; ``SPINE_POSTGRES_DSN``
    names it (so the seed's apps use it) and they create their tables at start."""
    with psycopg.connect(database, autocommit=True) as connection:
        connection.execute(f"DROP TABLE IF EXISTS {', '.join(TABLES)}")
    monkeypatch.setenv("SPINE_POSTGRES_DSN", database)
    monkeypatch.setenv("SPINE_POSTGRES_INIT", "1")
    return database
