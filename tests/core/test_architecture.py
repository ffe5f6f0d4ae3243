"""The house's rules, checked from the code: no import circle in spine_core, thin facades, and
applications and guides that import only the facades."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "spine_core" / "spine_core"
FACADES = {"spine_core", "spine_core.broker", "spine_core.extension", "spine_core.testing"}


def module_name(path: Path) -> str:
    parts = path.relative_to(CORE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, modules: set[str]) -> set[str]:
    """The spine_core modules ``path`` imports anywhere (inside functions and ``TYPE_CHECKING`` too)."""
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join([*parts[: len(parts) - node.level + 1], *filter(None, [base])])
            names = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        else:
            continue
        found.update(name for name in names if name in modules)
    return found


def graph() -> dict[str, set[str]]:
    paths = {module_name(p): p for p in CORE.rglob("*.py")}
    modules = set(paths)
    edges = {name: imports(path, modules) - {name} for name, path in paths.items()}
    # Importing a submodule runs its package's __init__ first: that is not an arrow of the submodule.
    return {name: {t for t in targets if not name.startswith(t + ".")} for name, targets in edges.items()}


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in edges.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_spine_core_has_no_import_circle() -> None:
    """No two modules of spine_core import each other, directly or around a loop."""
    edges = graph()
    assert "spine_core.cli.main" in edges and edges["spine_core.cli.main"]
    assert circles(edges) == []


def test_the_circle_finder_finds_a_circle() -> None:
    """The check above can fail: a loop of three modules is reported."""
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_broker_facade_loads_no_http_layer() -> None:
    """A broker plugin's door loads neither Falcon, waitress nor Spine's HTTP side."""
    code = ("import sys, spine_core.broker; print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('falcon', 'waitress', 'granian') or m.startswith(('spine_core.http', 'spine_core.app', "
            "'spine_core.runtime', 'spine_core.ops'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


def test_applications_and_guides_import_only_the_facades() -> None:
    """``apps/``, the README and every guide import spine_core, spine_core.broker, spine_core.extension
    or spine_core.testing, nothing deeper."""
    sources = [(p, p.read_text()) for p in (ROOT / "apps").rglob("*.py")]
    block = re.compile(r"^```(?:python|py)\n(.*?)^```$", re.M | re.S)
    for page in [ROOT / "README.md", *(ROOT / "docs").rglob("*.md")]:
        sources += [(page, code) for code in block.findall(page.read_text())]
    deeper = re.compile(r"^\s*(?:from|import)\s+(spine_core(?:\.\w+)+)", re.M)
    found = [f"{path.relative_to(ROOT)}: {name}" for path, code in sources for name in deeper.findall(code)
             if name not in FACADES]
    assert len(sources) > 20
    assert found == []
