"""PostgreSQL for Spine: transactions in handlers, a transactional outbox, an inbox (psycopg 3)."""

from .options import PostgresOptions
from .plugin import Postgres
from .relay import Relay
from .transaction import Repository, Transaction

__all__ = ["Postgres", "PostgresOptions", "Relay", "Repository", "Transaction"]
