"""Each distribution is ready to publish and ships what it promises: its metadata (one version,
pins that follow it, a README as long description, the license), spine-core alone in a fresh
virtualenv, and the README's install line from built wheels on every claimed Python."""

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
from wheel_install import (
    INSTALL_LINE, Report, brokers_of, cfg_lines, check_pythons, claimed_pythons, dist_folders, machine_pythons,
    pythons_to_check, setup_cfg,
)

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


# Ready to publish: checked on every spine_*/setup.cfg, so a new distribution is covered.
DISTS = dist_folders()
VERSION = setup_cfg(ROOT / "spine_core").get("metadata", "version")


@pytest.mark.parametrize("folder", DISTS, ids=[d.name for d in DISTS])
def test_one_version_and_pins_that_follow_it(folder: Path) -> None:
    """Every distribution has spine-core's version and pins each Spine distribution it needs to it exactly."""
    config = setup_cfg(folder)
    assert config.get("metadata", "version") == VERSION
    ours = {setup_cfg(d).get("metadata", "name") for d in DISTS}
    pins = [Requirement(r) for r in cfg_lines(config, "options", "install_requires")]
    assert [str(r.specifier) for r in pins if r.name in ours] == [f"=={VERSION}" for r in pins if r.name in ours]


@pytest.mark.parametrize("folder", DISTS, ids=[d.name for d in DISTS])
def test_page_metadata(folder: Path) -> None:
    """Every distribution has its README as Markdown long description, the license file, URLs and classifiers."""
    meta = dict(setup_cfg(folder).items("metadata"))
    assert meta["long_description"] == "file: README.md"
    assert meta["long_description_content_type"] == "text/markdown"
    readme = (folder / "README.md").read_text()
    assert readme.startswith(f"# {meta['name']}\n") and "spine-memory" in readme
    assert (meta["license"], meta["license_files"]) == ("Apache-2.0", "LICENSE")
    assert (folder / "LICENSE").read_text() == (ROOT / "LICENSE").read_text()
    assert "Apache License" in (ROOT / "LICENSE").read_text()
    urls = dict(line.split(" = ", 1) for line in cfg_lines(setup_cfg(folder), "metadata", "project_urls"))
    assert {"Documentation", "Source", "Issues"} <= set(urls)
    classifiers = cfg_lines(setup_cfg(folder), "metadata", "classifiers")
    assert "Typing :: Typed" in classifiers
    assert [c for c in classifiers if c.startswith("Programming Language :: Python :: 3.")] == [
        f"Programming Language :: Python :: {v}" for v in claimed_pythons()]


@pytest.mark.parametrize("folder", [d for d in DISTS if set(brokers_of([d])) - {"memory"}],
                         ids=lambda d: d.name)
def test_broker_plugins_bring_the_memory_broker(folder: Path) -> None:
    """Every broker plugin but memory requires spine-memory at the release's version (the memory broker and
    the pytest fixtures come with the install line)."""
    requires = [Requirement(r) for r in cfg_lines(setup_cfg(folder), "options", "install_requires")]
    assert [str(r) for r in requires if r.name == "spine-memory"] == [f"spine-memory=={VERSION}"]


def test_twine_check_is_clean(spine_dists: Path) -> None:
    """twine finds nothing to warn about in any built wheel or sdist, and each was built."""
    files = sorted(spine_dists.iterdir())
    names = {setup_cfg(d).get("metadata", "name").replace("-", "_") for d in DISTS}
    built = {f"{n}-{VERSION}{ext}" for n in names for ext in ("-py3-none-any.whl", ".tar.gz")}
    assert {f.name for f in files} == built
    result = subprocess.run([sys.executable, "-m", "twine", "check", "--strict", *map(str, files)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stdout + result.stderr


# The README's install line from the built wheels, outside the repository, on each Python.
PYTHONS = pythons_to_check()


@pytest.fixture(scope="module")
def install_reports(spine_dists: Path, kafka_bootstrap_servers: str,
                    tmp_path_factory: pytest.TempPathFactory) -> dict[str, Report | BaseException]:
    """Every Python's check of the install line, run at once (most of it is waiting on pip and services)."""
    found = {v: p for v, p in machine_pythons().items() if v in PYTHONS}
    return check_pythons(found, spine_dists, tmp_path_factory.mktemp("wheels"), kafka_bootstrap_servers)


@pytest.mark.parametrize("python", PYTHONS)
def test_install_line_from_wheels(python: str, install_reports: dict[str, Report | BaseException]) -> None:
    """``pip install spine-core spine-kafka`` from the wheels runs the seed on memory and Kafka and an in-memory
    test with the fixtures; ``spine plugins`` lists each installed broker."""
    if python not in install_reports:
        reason = f"Python {python} is claimed but not on this machine (pyenv install {python})"
        if os.environ.get("CI") == "true":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    report = install_reports[python]
    if isinstance(report, BaseException):
        raise report
    brokers = brokers_of(DISTS)
    line = {name for name, dist in brokers.items() if dist in INSTALL_LINE} | {"memory"}
    assert report.plugins_after_line == sorted(line)
    assert report.plugins_after_all == sorted(brokers)
    print(f"Python {python}: " + ", ".join(f"{k} {v}s" for k, v in report.seconds.items()))


def test_readme_first_screen_says_install_run_test() -> None:
    """The README's first 40 lines give, in this order, the pip line the wheel check tries, ./dev demo, ./dev check."""
    head = "\n".join((ROOT / "README.md").read_text().splitlines()[:40])
    positions = [head.find(text) for text in ("pip install " + " ".join(INSTALL_LINE), "./dev demo", "./dev check")]
    assert -1 not in positions and positions == sorted(positions)
