"""The package's layout is its architecture: modules grouped by stage of the flow, the shared core
beside them, and no import cycle between modules (lazy imports inside functions count too)."""

from __future__ import annotations

import ast
from pathlib import Path

import sap_warehouse

PACKAGE = Path(sap_warehouse.__file__).parent
STAGES = {"core", "ingest", "build", "gates", "signals", "operations"}
# What Airflow and the console load by their dotted paths (serialized DAGs name the timetable and the
# deadline callback): kept at the package's top.
TOP = {"__init__", "cli", "dag_support", "timetable"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports() -> dict[str, set[str]]:
    """module -> the package's modules it imports (at the top or inside a function)."""
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("sap_warehouse"):
                for alias in node.names:
                    child = f"{node.module}.{alias.name}"
                    found.add(child if child in modules else node.module)
            elif isinstance(node, ast.Import):
                found |= {a.name for a in node.names if a.name.startswith("sap_warehouse")}
        graph[name] = {m for m in found if m in modules and m != name and not name.startswith(f"{m}.")}
    return graph


def test_every_module_sits_in_a_stage_or_is_one_airflow_loads_by_name() -> None:
    for path in PACKAGE.glob("*.py"):
        assert path.stem in TOP, f"{path.name}: put it in the stage it belongs to ({', '.join(sorted(STAGES))})"
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert folders == STAGES


def test_no_import_cycle_between_modules() -> None:
    graph = imports()
    cycles = []

    def visit(node: str, path: list[str]) -> None:
        for nxt in sorted(graph.get(node, ())):
            if nxt in path:
                cycles.append(" -> ".join([*path[path.index(nxt) :], nxt]))
            elif len(path) < 12:
                visit(nxt, [*path, nxt])

    for start in sorted(graph):
        visit(start, [start])
    assert cycles == []


def test_the_core_imports_no_stage() -> None:
    graph = imports()
    core = {m for m in graph if m.startswith("sap_warehouse.core.")}
    reaching = {m: sorted(t for t in graph[m] if not t.startswith("sap_warehouse.core.")) for m in core}
    assert {m: t for m, t in reaching.items() if t} == {}
