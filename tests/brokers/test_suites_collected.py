"""Every test of the shared suites is collected for every broker plugin of this repository."""

from __future__ import annotations

import configparser
import subprocess
import sys
from pathlib import Path

from spine_core.testing import BrokerConformance, DeadLetterConformance

ROOT = Path(__file__).resolve().parents[2]

SUITES: dict[str, dict[type, str]] = {
    "memory": {BrokerConformance: "tests/brokers/test_memory_conformance.py",
               DeadLetterConformance: "tests/brokers/test_memory_dead_letters.py"},
    "kafka": {BrokerConformance: "tests/kafka/test_conformance.py",
              DeadLetterConformance: "tests/kafka/test_dead_letter_conformance.py"},
    "rabbitmq": {BrokerConformance: "tests/rabbitmq/test_conformance.py",
                 DeadLetterConformance: "tests/rabbitmq/test_dead_letter_conformance.py"},
    "redis": {BrokerConformance: "tests/redis_streams/test_conformance.py",
              DeadLetterConformance: "tests/redis_streams/test_dead_letter_conformance.py"},
    "nats": {BrokerConformance: "tests/nats_jetstream/test_conformance.py",
             DeadLetterConformance: "tests/nats_jetstream/test_dead_letter_conformance.py"},
}
"""Each broker plugin's test modules of the broker suite and of the dead-letter suite."""


def repository_brokers() -> set[str]:
    """The names of the broker plugins whose distributions live in this repository (``spine`` entry points)."""
    names: set[str] = set()
    for setup in ROOT.glob("spine_*/setup.cfg"):
        parser = configparser.ConfigParser()
        parser.read(setup)
        declared = parser.get("options.entry_points", "spine", fallback="")
        names.update(line.split("=")[0].strip() for line in declared.splitlines() if "=" in line)
    return names


def suite_tests(suite: type) -> set[str]:
    return {name for name in dir(suite) if name.startswith("test_")}


def collected() -> dict[str, set[str]]:
    """Test names pytest collects, by module path."""
    modules = sorted({path for paths in SUITES.values() for path in paths.values()})
    out = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", *modules], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    found: dict[str, set[str]] = {}
    for line in out.stdout.splitlines():
        path, _, rest = line.partition("::")
        if rest:
            found.setdefault(path, set()).add(rest.rpartition("::")[2].partition("[")[0])
    return found


def test_every_broker_of_the_repository_runs_both_suites() -> None:
    """A broker plugin added to the repository must name its suite modules here."""
    brokers = repository_brokers()
    assert {"memory", "kafka", "rabbitmq", "redis", "nats"} <= brokers
    assert brokers == set(SUITES), f"name the suite modules of {sorted(brokers - set(SUITES))} in SUITES"


def test_every_test_of_the_suites_is_collected_for_every_broker() -> None:
    """No test of the shared suites goes missing for a broker (hidden in a helper, overridden, renamed)."""
    found = collected()
    missing = {
        f"{broker}: {path}": sorted(suite_tests(suite) - found.get(path, set()))
        for broker, modules in SUITES.items() for suite, path in modules.items()
    }
    assert not {k: v for k, v in missing.items() if v}, missing
    assert "test_batch_handler_gets_batches_in_key_order" in suite_tests(BrokerConformance)
