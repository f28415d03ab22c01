"""The load package reads stage by stage: no module over 400 lines, no function over 60, so each
stage fits on a screen or two and its registry flags are explained beside the code that reads them."""

from __future__ import annotations

import ast
from pathlib import Path

import sap_warehouse.ingest.raw_load

PACKAGE = Path(sap_warehouse.ingest.raw_load.__file__).parent
STAGES = {"land", "stage", "typed", "key", "write", "ledger", "settle", "load", "result"}


def test_the_raw_load_package_has_a_module_per_stage_of_readable_size() -> None:
    modules = {path.stem: path.read_text() for path in PACKAGE.glob("*.py") if path.stem != "__init__"}
    assert set(modules) == STAGES
    too_long = {name: len(text.splitlines()) for name, text in modules.items() if len(text.splitlines()) > 400}
    assert too_long == {}
    functions = {
        f"{name}.{node.name}": node.end_lineno - node.lineno + 1
        for name, text in modules.items()
        for node in ast.walk(ast.parse(text))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    assert {f: lines for f, lines in functions.items() if lines > 60} == {}


def test_each_behaviour_flag_of_the_registry_is_explained_where_it_is_read() -> None:
    """key_strategy, snapshot_scope, line_directory and partition_column change how a file loads: the
    docstring of each module that reads one says what it does."""
    for path in PACKAGE.glob("*.py"):
        text = path.read_text()
        doc = ast.get_docstring(ast.parse(text)) or ""
        for flag in ("key_strategy", "snapshot_scope", "line_directory", "partition_column"):
            if f"report.{flag}" in text:
                assert flag in doc, f"{path.name} reads {flag} without saying what it does"
