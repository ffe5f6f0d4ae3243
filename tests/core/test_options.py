"""Options: the seed's defaults, ``SPINE_*`` environment overrides, and broker selection."""

from __future__ import annotations

import sys

import pytest

from spine_core import BootError, BrokerOptions, Options, ReadOptions, Spine, WriteOptions
from spine_core.options import Address, BrokerConfig
from spine_core.plugins import installed


def kafka_options() -> Options:
    return Options(
        address=":8081",
        broker=BrokerOptions(
            name="kafka",
            topic_prefix="dev.",
            settings={"kafka": {"bootstrap.servers": "localhost:9092", "acks": "all"}},
            write=WriteOptions(publish_timeout=3.0),
            read=ReadOptions(group_id="stock-service"),
        ),
    )


def test_defaults_mirror_the_seed() -> None:
    """Out of the box: port 8080, graceful shutdown in 10 s, HTTP on, memory broker, publishing on, no consuming."""
    options = Options()
    assert (options.address, options.enable_graceful_shutdown, options.shutdown_timeout) == (":8080", True, 10.0)
    assert options.http is not None
    assert (options.broker.name, options.broker.read, options.broker.write) == ("memory", None, WriteOptions())


def test_without_environment_the_code_wins() -> None:
    """With no ``SPINE_*`` variables the options are unchanged."""
    assert kafka_options().with_env({"PATH": "/bin"}) == kafka_options()


def test_kafka_variables_override_the_code() -> None:
    """SPINE_BROKER, SPINE_ADDRESS and SPINE_KAFKA_* override what the code set."""
    env = {
        "SPINE_BROKER": "kafka",
        "SPINE_ADDRESS": "127.0.0.1:9000",
        "SPINE_KAFKA_TOPIC_PREFIX": "prod.",
        "SPINE_KAFKA_GROUP_ID": "stock-v2",
        "SPINE_KAFKA_BOOTSTRAP_SERVERS": "k1:9092,k2:9092",
    }
    options = Options(broker=BrokerOptions(name="memory", read=ReadOptions(group_id="g"))).with_env(env)
    assert options.address == "127.0.0.1:9000"
    assert options.broker.name == "kafka"
    assert options.broker.topic_prefix == "prod."
    assert options.broker.read is not None and options.broker.read.group_id == "stock-v2"
    assert options.broker.settings["kafka"] == {"bootstrap.servers": "k1:9092,k2:9092"}


def test_settings_from_environment_merge_with_code_settings() -> None:
    """An env setting replaces only its own key; the code's other settings stay."""
    options = kafka_options().with_env({"SPINE_KAFKA_BOOTSTRAP_SERVERS": "remote:9092"})
    assert options.broker.settings["kafka"] == {"bootstrap.servers": "remote:9092", "acks": "all"}
    assert BrokerConfig.from_options(options).settings == {"bootstrap.servers": "remote:9092", "acks": "all"}


def test_variables_of_another_broker_are_ignored() -> None:
    """Only the selected broker's ``SPINE_<NAME>_*`` variables apply."""
    options = kafka_options().with_env({"SPINE_RABBITMQ_TOPIC_PREFIX": "x.", "SPINE_RABBITMQ_URL": "amqp://"})
    assert options.broker.topic_prefix == "dev."
    assert "rabbitmq" not in options.broker.settings


def test_timeouts_from_environment() -> None:
    """SPINE_PUBLISH_TIMEOUT and SPINE_SHUTDOWN_TIMEOUT are seconds."""
    options = kafka_options().with_env({"SPINE_PUBLISH_TIMEOUT": "0.5", "SPINE_SHUTDOWN_TIMEOUT": "2"})
    assert options.broker.write is not None and options.broker.write.publish_timeout == 0.5
    assert options.shutdown_timeout == 2.0


def test_bad_number_in_environment_is_a_boot_error() -> None:
    """A timeout variable that is not a number fails with the variable's name."""
    with pytest.raises(BootError, match="SPINE_SHUTDOWN_TIMEOUT must be a number of seconds, got 'soon'"):
        Options().with_env({"SPINE_SHUTDOWN_TIMEOUT": "soon"})


def test_with_env_leaves_the_original_alone() -> None:
    """Applying the environment returns a copy."""
    original = kafka_options()
    original.with_env({"SPINE_ADDRESS": ":1", "SPINE_KAFKA_TOPIC_PREFIX": "x."})
    assert original == kafka_options()


def test_app_applies_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """``Spine.runtime`` reads ``SPINE_*`` from the process environment."""
    monkeypatch.setenv("SPINE_BROKER", "memory")
    monkeypatch.setenv("SPINE_ADDRESS", "127.0.0.1:9999")
    runtime = Spine().runtime(kafka_options())
    assert runtime.options.address == "127.0.0.1:9999"
    assert runtime.options.broker.name == "memory"


def test_unknown_broker_fails_listing_the_installed_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    """An unknown broker name fails at start with the names of the installed plugins."""
    monkeypatch.setenv("SPINE_BROKER", "carrier-pigeon")
    with pytest.raises(BootError, match=r"unknown broker 'carrier-pigeon'; installed broker plugins: .*memory"):
        Spine().runtime(Options())


def test_memory_plugin_is_installed() -> None:
    """The memory broker is found through the ``spine`` entry-point group."""
    assert "memory" in installed()


@pytest.mark.parametrize("text, host, port", [
    (":8080", "0.0.0.0", 8080),
    ("127.0.0.1:9000", "127.0.0.1", 9000),
    ("[::1]:80", "::1", 80),
    ("localhost:0", "localhost", 0),
])
def test_address_is_parsed(text: str, host: str, port: int) -> None:
    """An address is HOST:PORT; an empty host listens everywhere."""
    assert Address.parse(text) == Address(host, port)


@pytest.mark.parametrize("text", ["8080", "host:", "host:http", ""])
def test_bad_address_is_a_boot_error(text: str) -> None:
    """An address without a numeric port fails with an example of a good one."""
    with pytest.raises(BootError, match="is not HOST:PORT"):
        Address.parse(text)


def test_server_and_workers_from_environment() -> None:
    """SPINE_SERVER picks the HTTP server, SPINE_WORKERS the number of processes; waitress and 1 by default."""
    assert (Options().http.server, Options().workers) == ("waitress", 1)  # type: ignore[union-attr]
    options = Options().with_env({"SPINE_SERVER": "granian", "SPINE_WORKERS": "4"})
    assert (options.http.server, options.workers) == ("granian", 4)  # type: ignore[union-attr]


@pytest.mark.parametrize("value", ["0", "-1", "two", ""])
def test_bad_workers_is_a_boot_error(value: str) -> None:
    with pytest.raises(BootError, match="SPINE_WORKERS"):
        Options().with_env({"SPINE_WORKERS": value})


def test_unknown_server_is_a_boot_error_naming_the_choices() -> None:
    app = Spine()
    app.route("GET", "/", lambda: "OK")
    options = Options(address="127.0.0.1:0").with_env({"SPINE_SERVER": "gunicorn"})
    with pytest.raises(BootError, match="unknown HTTP server 'gunicorn': choose one of waitress, granian"):
        app.start(options)


def test_granian_without_the_extra_is_a_boot_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """Choosing granian where it is not installed says how to install it."""
    monkeypatch.setitem(sys.modules, "granian", None)  # as if not installed: importing it raises ImportError
    monkeypatch.delitem(sys.modules, "spine_core.servers.granian_server", raising=False)
    app = Spine()
    app.route("GET", "/", lambda: "OK")
    with pytest.raises(BootError, match=r"needs granian: pip install 'spine-core\[granian\]'"):
        app.start(Options(address="127.0.0.1:0").with_env({"SPINE_SERVER": "granian"}))
