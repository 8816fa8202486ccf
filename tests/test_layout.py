"""The layout keeps its roles: no two modules import each other in a circle, and nothing imports a test module.

Read from the sources (ast), every import counted, the ones inside functions too: a lazy import
that closes a circle still ties the two modules' lifetimes together.  ``from package import
submodule`` counts as an import of the submodule alone, as Python resolves it.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("reference", "conformance")


def _modules() -> dict[str, Path]:
    """Every module of the package, by its dotted name (``gatespec.conformance.plugin`` for an ``__init__``)."""
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(("gatespec", *parts[: -1 if parts[-1] == "__init__" else None]))] = path
    return found


def _imported(path: Path, known: dict[str, Path]) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            submodules = {f"{node.module}.{alias.name}" for alias in node.names} & known.keys()
            names.update(submodules)
            if len(submodules) < len(node.names):
                names.add(node.module)
    return names


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def test_the_circle_finder_finds_a_circle():
    # The finder itself, on a graph with one circle of three and a tail: an empty answer must mean no circle.
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert _circles(graph) == [["a", "b", "c"]]


def test_no_modules_import_each_other_in_a_circle():
    modules = _modules()
    graph = {name: _imported(path, modules) & modules.keys() for name, path in modules.items()}
    assert _circles(graph) == [], "modules that import each other in a circle"


def test_nothing_imports_a_test_module():
    # Also in code run by a fresh process (``python -c "from tests.x import …"``), which ast does not see.
    in_strings = re.compile(r"\bfrom\s+[\w.]*\btest_\w+\s+import\b|\bimport\s+[\w.]*\btest_\w+")
    modules = _modules()
    offenders = []
    for path in [*modules.values(), *(ROOT / "tests").rglob("*.py")]:
        imported = {name for name in _imported(path, modules) if name.rsplit(".", 1)[-1].startswith("test_")}
        if path != Path(__file__).resolve():
            imported.update(match.group(0) for match in in_strings.finditer(path.read_text(encoding="utf-8")))
        offenders += [f"{path.relative_to(ROOT)}: {name}" for name in sorted(imported)]
    assert offenders == []
