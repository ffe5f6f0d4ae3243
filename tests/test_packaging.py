"""Each distribution installs on its own into a fresh virtualenv and ships what it promises."""

from __future__ import annotations

import configparser
import importlib.metadata as md
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent


def install_requires(dist: str) -> list[Requirement]:
    """The run-time requirements a dist folder's setup.cfg declares."""
    config = configparser.ConfigParser()
    config.read(ROOT / dist / "setup.cfg")
    lines = config.get("options", "install_requires", fallback="").splitlines()
    return [Requirement(line) for line in lines if line.strip()]


def runtime_modules(dists: list[str]) -> set[str]:
    """Top-level modules of the third-party packages ``dists`` need, with their own requirements."""
    ours = {d.replace("_", "-") for d in os.listdir(ROOT)}
    todo = [r for d in dists for r in install_requires(d)]
    names: set[str] = set()
    while todo:
        req = todo.pop()
        name = canonicalize_name(req.name)
        if name in names or name in ours or (req.marker and not req.marker.evaluate({"extra": ""})):
            continue
        names.add(name)
        todo.extend(Requirement(r) for r in md.requires(name) or [])
    providers = md.packages_distributions()
    return {
        module for module, dists_ in providers.items()
        if any(canonicalize_name(d) in names for d in dists_) and not module.startswith("_")
    }


class Venv:
    """A fresh virtualenv that sees the run-time dependencies but none of this checkout."""

    def __init__(self, path: Path) -> None:
        self.path = path
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
        self.python = path / "bin" / "python"
        deps = path / "deps"
        deps.mkdir()
        # The dists' third-party requirements are linked from this interpreter, so that the
        # test installs only our dists (--no-deps) and never downloads them.
        for name in runtime_modules(["spine_core", "spine_memory"]):
            spec = importlib.util.find_spec(name)
            assert spec is not None and spec.origin is not None, f"{name} is not installed"
            source = Path(spec.origin)
            source = source.parent if source.name == "__init__.py" else source
            (deps / source.name).symlink_to(source)
        purelib = self.run("import sysconfig; print(sysconfig.get_paths()['purelib'])").strip()
        Path(purelib, "_spine_test_deps.pth").write_text(str(deps) + "\n")

    def install(self, dist: str, tmp: Path) -> None:
        """pip-install a clean copy of the ``dist`` folder, without dependencies."""
        source = tmp / "src" / dist
        shutil.copytree(ROOT / dist, source, ignore=shutil.ignore_patterns("*.egg-info", "build", "__pycache__"))
        subprocess.run(
            [sys.executable, "-m", "pip", "--python", str(self.python), "install", "--quiet", "--no-deps",
             "--disable-pip-version-check", str(source)],
            check=True,
        )

    def run(self, code: str) -> str:
        result = subprocess.run(
            [str(self.python), "-c", textwrap.dedent(code)], cwd=self.path, capture_output=True, text=True,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Venv:
    """One virtualenv for the module: spine-core installed first, alone."""
    tmp = tmp_path_factory.mktemp("packaging")
    env = Venv(tmp / "venv")
    env.install("spine_core", tmp)
    env.tmp = tmp  # type: ignore[attr-defined]
    return env


CORE_REPORT = """
    import importlib.metadata as md, importlib.util, json, pathlib, re
    import spine_core
    from spine_core import BootError, Options, Spine
    package = pathlib.Path(spine_core.__file__).parent
    try:
        Spine().runtime(Options())
        boot = None
    except BootError as e:
        boot = str(e)
    print(json.dumps({
        "file": spine_core.__file__,
        "all": spine_core.__all__,
        "missing": [n for n in spine_core.__all__ if not hasattr(spine_core, n)],
        "py_typed": (package / "py.typed").is_file(),
        "memory": importlib.util.find_spec("spine_memory") is not None,
        "requires": sorted(
            re.match(r"[A-Za-z0-9._-]+", r).group() for r in md.requires("spine-core") or [] if "extra ==" not in r
        ),
        "boot": boot,
    }))
"""


def test_core_alone_installs_and_imports(venv: Venv) -> None:
    """spine-core on its own imports from the venv, ships py.typed, and declares its dependencies."""
    report = json.loads(venv.run(CORE_REPORT))
    assert report["file"].startswith(str(venv.path))
    assert report["py_typed"]
    assert not report["memory"]
    assert report["requires"] == sorted(r.name for r in install_requires("spine_core"))
    assert {"attrs", "cattrs", "falcon", "pluggy", "waitress"} <= set(report["requires"])


def test_core_facade_names_exist(venv: Venv) -> None:
    """Every name in ``spine_core.__all__`` exists in the installed package."""
    report = json.loads(venv.run(CORE_REPORT))
    assert report["missing"] == []
    assert {"Spine", "Options", "Context", "publish", "path", "hookimpl", "Response"} <= set(report["all"])


def test_core_alone_says_no_broker_is_installed(venv: Venv) -> None:
    """Without a broker dist, booting fails with a message listing no installed plugin."""
    report = json.loads(venv.run(CORE_REPORT))
    assert report["boot"] == "unknown broker 'memory'; installed broker plugins: none"


def test_memory_installs_on_top_and_registers_its_entry_points(venv: Venv) -> None:
    """spine-memory installs on its own, ships py.typed, and is found as the ``memory`` broker and a pytest plugin."""
    venv.install("spine_memory", venv.tmp)  # type: ignore[attr-defined]
    report = json.loads(venv.run("""
        import importlib.metadata as md, json, pathlib
        import spine_memory
        from spine_core import Options, Spine
        from spine_core.plugins import installed
        runtime = Spine().runtime(Options(http=None))
        print(json.dumps({
            "file": spine_memory.__file__,
            "py_typed": (pathlib.Path(spine_memory.__file__).parent / "py.typed").is_file(),
            "brokers": sorted(installed()),
            "pytest11": [ep.value for ep in md.entry_points(group="pytest11")],
            "plugin": type(runtime.broker).__name__,
        }))
    """))
    assert report["file"].startswith(str(venv.path))
    assert report["py_typed"]
    assert report["brokers"] == ["memory"]
    assert report["pytest11"] == ["spine_memory.pytest_plugin"]
    assert report["plugin"] == "MemoryPlugin"
