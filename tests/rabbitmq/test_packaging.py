"""spine-rabbitmq installs beside spine-core alone (no other broker) and is found as ``rabbitmq``."""

from __future__ import annotations

import configparser
import importlib.metadata as md
import importlib.util
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
DISTS = ("spine_core", "spine_rabbitmq")


def runtime_modules() -> set[str]:
    """Top-level modules of every third-party distribution the two dists need, transitively."""
    todo = []
    for dist in DISTS:
        config = configparser.ConfigParser()
        config.read(ROOT / dist / "setup.cfg")
        todo += [Requirement(r) for r in config.get("options", "install_requires").splitlines() if r.strip()]
    names: set[str] = set()
    while todo:
        req = todo.pop()
        name = canonicalize_name(req.name)
        if name in names or name.startswith("spine-") or (req.marker and not req.marker.evaluate({"extra": ""})):
            continue
        names.add(name)
        todo += [Requirement(r) for r in md.requires(name) or []]
    return {module for module, dists in md.packages_distributions().items()
            if not module.startswith("_") and any(canonicalize_name(d) in names for d in dists)}


REPORT = """
    import json, pathlib
    import spine_rabbitmq
    from spine_core import BrokerOptions, Options, Spine
    from spine_core.plugins import installed
    runtime = Spine().runtime(Options(http=None, broker=BrokerOptions(name="rabbitmq")))
    print(json.dumps({
        "file": spine_rabbitmq.__file__,
        "py_typed": (pathlib.Path(spine_rabbitmq.__file__).parent / "py.typed").is_file(),
        "brokers": sorted(installed()),
        "plugin": type(runtime.broker).__name__,
        "exchange": runtime.broker.settings.exchange,
    }))
"""


def test_installs_with_the_core_alone(tmp_path: Path) -> None:
    """In a fresh venv with only spine-core and spine-rabbitmq, ``SPINE_BROKER=rabbitmq`` finds the plugin."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    deps = tmp_path / "deps"
    deps.mkdir()
    for name in runtime_modules():  # linked from this interpreter: the test never downloads
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.origin is not None, f"{name} is not installed"
        source = Path(spec.origin)
        source = source.parent if source.name == "__init__.py" else source
        (deps / source.name).symlink_to(source)
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    Path(purelib, "_deps.pth").write_text(f"{deps}\n")
    for dist in DISTS:
        source = tmp_path / "src" / dist
        shutil.copytree(ROOT / dist, source, ignore=shutil.ignore_patterns("*.egg-info", "build", "__pycache__"))
        subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps",
                        "--disable-pip-version-check", str(source)], check=True)
    result = subprocess.run([str(python), "-c", textwrap.dedent(REPORT)], cwd=tmp_path, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["file"].startswith(str(venv)) and report["py_typed"]
    assert report["brokers"] == ["rabbitmq"]
    assert (report["plugin"], report["exchange"]) == ("RabbitMQPlugin", "spine")
