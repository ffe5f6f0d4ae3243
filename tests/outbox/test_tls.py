"""PostgreSQL over TLS (``sslmode=verify-full``, client certificates and a password) on a private
cluster of this module's own: the seed's scenario with both services' databases there, a clear
refusal with the wrong CA, and a wrong password shown nowhere."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from broker_checks import ServiceProcess, seed_scenario
from redis_streams.conftest import RedisScope, redis_url  # noqa: F401  (fixture)
from secret_checks import leaks, shown_everywhere
from tls_checks import Certificates

from spine_core import BootError
from spine_core.testing import PrivateServer, unavailable
from spine_postgres.options import PostgresOptions
from spine_postgres.plugin import open_pool

from .support import scalar

PASSWORD = "Tls-pg-s3cret"
BIN = Path("/usr/lib/postgresql/15/bin")
AS_POSTGRES = ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"]


def dsn(port: int, certs: Certificates, *, database: str = "postgres", password: str = PASSWORD,
        ca: Path | None = None) -> str:
    """A verify-full DSN with the client certificate."""
    return (f"postgresql://postgres:{password}@127.0.0.1:{port}/{database}?sslmode=verify-full"
            f"&sslrootcert={ca or certs.ca}&sslcert={certs.client_cert}&sslkey={certs.client_key}")


class PrivatePostgres(PrivateServer):
    """A cluster initialised in a directory of its own, run as ``postgres``: TLS only, with client
    certificates (verify-ca) and a scram password over 127.0.0.1."""

    def __init__(self, certs: Certificates) -> None:
        self.home = Path(tempfile.mkdtemp(prefix="spine-pg-tls-"))
        self.certs = certs
        data = self.home / "data"
        for name, source in (("server.pem", certs.server_cert), ("server.key", certs.server_key),
                             ("ca.pem", certs.ca)):
            shutil.copy(source, self.home / name)
        (self.home / "pw").write_text(PASSWORD)
        shutil.chown(self.home, "postgres", "postgres")
        for path in self.home.iterdir():
            shutil.chown(path, "postgres", "postgres")
        (self.home / "server.key").chmod(0o600)
        subprocess.run([*AS_POSTGRES, str(BIN / "initdb"), "-D", str(data), "-U", "postgres", "--no-sync",
                        f"--pwfile={self.home / 'pw'}", "--auth-local=trust", "--auth-host=scram-sha-256"],
                       check=True, capture_output=True)
        (data / "pg_hba.conf").write_text("local all all trust\n"
                                          "hostssl all all 127.0.0.1/32 scram-sha-256 clientcert=verify-ca\n")
        super().__init__(
            [*AS_POSTGRES, str(BIN / "postgres"), "-D", str(data), "-p", "{port}", "-k", str(self.home),
             "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "ssl=on",
             "-c", f"ssl_cert_file={self.home / 'server.pem'}", "-c", f"ssl_key_file={self.home / 'server.key'}",
             "-c", f"ssl_ca_file={self.home / 'ca.pem'}"],
            ready=self._answers, start_timeout=30.0)

    def _answers(self, port: int) -> bool:
        try:
            psycopg.connect(dsn(port, self.certs), connect_timeout=2).close()
        except psycopg.OperationalError:
            return False
        return True

    def stop(self) -> None:
        super().stop()
        shutil.rmtree(self.home, ignore_errors=True)


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return Certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def tls_postgres(certs: Certificates) -> Iterator[PrivatePostgres]:
    """The private cluster, with the databases of the order and the stock service."""
    if not (BIN / "initdb").exists() or shutil.which("setpriv") is None:
        unavailable(f"PostgreSQL 15 is not installed in {BIN} (or setpriv is missing); the TLS tests run a cluster")
    with PrivatePostgres(certs) as server:
        with psycopg.connect(dsn(server.port, certs), autocommit=True) as admin:
            admin.execute("CREATE DATABASE orders")
            admin.execute("CREATE DATABASE stock")
        yield server


def test_seed_scenario_with_databases_over_tls(
    tls_postgres: PrivatePostgres, certs: Certificates, redis_url: str,  # noqa: F811
    processes: list[ServiceProcess],
) -> None:
    """Both services store through verify-full TLS with client certificates: the order is stored,
    relayed through the outbox, and the stock service logs the seed's lines."""
    orders, stock = (dsn(tls_postgres.port, certs, database=name) for name in ("orders", "stock"))
    with RedisScope(redis_url) as scope:
        env = {**scope.env(), "SPINE_ADDRESS": "127.0.0.1:0", "SPINE_POSTGRES_INIT": "1"}
        seed_scenario(processes, env, ready="consuming", order_env={"SPINE_POSTGRES_DSN": orders},
                      stock_env={"SPINE_POSTGRES_DSN": stock})
    assert scalar(orders, "SELECT id FROM orders") == 12345
    with psycopg.connect(orders) as connection:
        assert connection.info.pgconn.ssl_in_use


def test_the_wrong_ca_is_a_clear_refusal(tls_postgres: PrivatePostgres, certs: Certificates) -> None:
    """A CA that did not sign the server's certificate: the start fails saying so, without the password."""
    with pytest.raises(BootError, match="certificate verify failed") as refused:
        open_pool(PostgresOptions(dsn=dsn(tls_postgres.port, certs, ca=certs.wrong_ca)), "spine-test", timeout=5)
    assert PASSWORD not in str(refused.value)


def test_a_wrong_password_is_shown_nowhere(
    tls_postgres: PrivatePostgres, certs: Certificates, caplog: pytest.LogCaptureFixture
) -> None:
    """The server refuses the password: the boot error says so, and no place shows the password."""
    wrong = "Wr0ng-pg-s3cret"
    places = shown_everywhere({"SPINE_BROKER": "memory", "SPINE_POSTGRES_DSN": dsn(
        tls_postgres.port, certs, password=wrong)}, caplog)
    assert "password authentication failed" in places["exception"]
    assert leaks(places, wrong, PASSWORD) == []
