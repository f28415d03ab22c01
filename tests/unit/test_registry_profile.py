"""The registry and the raw quality gates held against what real exports of the plant hold
(tests/data/sap_value_profile.yaml: kinds and shapes of every column, measured on real files).

A column typed as a number or a date must not hold text that is neither a number, a date nor one of
its listed placeholders; a required column may be blank only on SAP list totals; a critical format
expectation must accept every shape real exports carry."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
import yaml

from sap_warehouse.core.registry import reports
from sap_warehouse.gates import quality
from sap_warehouse.gates.quality import SUITES_DIR
from sap_warehouse_kit.exports import file_header

PROFILE = yaml.safe_load((Path(__file__).parents[1] / "data" / "sap_value_profile.yaml").read_text(encoding="utf-8"))
# Text shapes that the number parser reads as numbers: 1234, 0,884, 1.234,50, 12.5, with a trailing minus.
NUMBER_SHAPE = re.compile(r"^(9\+|9{1,3})([.,](9\+|9{1,3}))*-?$")
DATE_SHAPE = re.compile(r"^99?\.99?\.9999$")


def _profiled_columns():
    for code, profile in PROFILE.items():
        report = reports()[code]
        for col in report.file_columns:
            header = file_header(col)
            if header in profile["columns"]:
                yield pytest.param(report, col, profile["columns"][header], id=f"{code}.{col.name}")


def test_every_profiled_header_is_a_registry_column_and_back() -> None:
    for code, profile in PROFILE.items():
        registry = {file_header(c) for c in reports()[code].file_columns}
        assert set(profile["columns"]) - registry == set(), code
        unprofiled = {file_header(c) for c in reports()[code].file_columns if not c.optional_header} - set(
            profile["columns"]
        )
        assert unprofiled == set(), code


@pytest.mark.parametrize(("report", "col", "seen"), list(_profiled_columns()))
def test_column_type_agrees_with_real_exports(report, col, seen) -> None:
    shapes = seen.get("shapes", {})
    placeholders = set(report.placeholders_of(col))
    if col.type == "number":
        assert seen["date"] == 0, "date cells in a number column"
        unexplained = {s: n for s, n in shapes.items() if not NUMBER_SHAPE.match(s) and s not in placeholders}
        assert unexplained == {}, f"text that is neither a number nor a placeholder: {unexplained}"
        # The shapes listed are the most common ones: they must account for every text cell.
        assert sum(shapes.values()) == seen["text"], "text cells of unlisted shapes in a number column"
    elif col.type == "date":
        assert seen["number"] == 0, "plain numbers in a date column"
        unexplained = {s: n for s, n in shapes.items() if not DATE_SHAPE.match(s) and s not in placeholders}
        assert unexplained == {}, f"text that is not a date: {unexplained}"
        assert sum(shapes.values()) == seen["text"], "text cells of unlisted shapes in a date column"


@pytest.mark.parametrize(("report", "col", "seen"), list(_profiled_columns()))
def test_required_columns_are_blank_only_on_list_totals(report, col, seen) -> None:
    if not col.required:
        return
    assert report.identity is not None
    identity = next(c for c in report.columns if c.name == report.identity)
    totals = PROFILE[report.code]["columns"][file_header(identity)]["blank"]
    assert seen["blank"] <= totals, f"{col.name} is blank on {seen['blank']} rows, list totals are {totals}"


def test_list_totals_hold_only_what_the_registry_lets_them() -> None:
    """Columns that real list totals fill (fewer blanks than the identity column) are measures or
    listed in summary_carries; otherwise the totals would be counted as rejects."""
    for code, profile in PROFILE.items():
        report = reports()[code]
        totals = profile["columns"][file_header(next(c for c in report.columns if c.name == report.identity))]["blank"]
        for col in report.file_columns:
            seen = profile["columns"].get(file_header(col))
            if seen is not None and seen["blank"] < totals:
                assert report.may_fill_summary(col), f"{code}.{col.name} is filled on list totals"


def _examples(shape: str) -> list[str]:
    """Strings of a profile shape: a run (``9+``) four to twelve long, ``~`` a Vietnamese letter."""
    parts = re.findall(r"[9Aa]\+|.", shape)
    runs = [i for i, p in enumerate(parts) if p.endswith("+") and len(p) == 2]
    letter = {"9": "7", "A": "Q", "a": "q", "~": "Ư"}
    out = []
    for lengths in itertools.product(range(4, 13), repeat=min(len(runs), 2)):
        text = []
        for i, p in enumerate(parts):
            if i in runs:
                n = lengths[runs.index(i)] if runs.index(i) < len(lengths) else 4
                text.append(letter[p[0]] * n)
            else:
                text.append(letter.get(p, p))
        out.append("".join(text))
    return out


def _critical_regexes():
    """Every critical format check of the raw gate: the registry's formats, and any the suites add."""
    for code, report in reports().items():
        if code not in PROFILE:
            continue
        by_name = {c.name: c for c in report.columns}
        for expectation in quality.load_suite(SUITES_DIR / f"{report.raw_table}.json").spec["expectations"]:
            kwargs = expectation["kwargs"]
            if expectation["severity"] == "critical" and expectation["type"] == "expect_column_values_to_match_regex":
                col = by_name[kwargs["column"]]
                yield pytest.param(code, col, kwargs["regex"], id=f"{code}.{col.name}")


def test_the_critical_formats_of_real_reports_are_all_checked() -> None:
    assert {p.id for p in _critical_regexes()} >= {"mb51.plant", "mb51.movement_type", "zrsd002.curr"}


@pytest.mark.parametrize(("code", "col", "regex"), list(_critical_regexes()))
def test_critical_formats_accept_every_shape_of_real_exports(code, col, regex) -> None:
    seen = PROFILE[code]["columns"][file_header(col)]
    if seen["number"]:
        return  # numeric cells of a code column stage as digits (10.0 -> 10)
    for shape in seen.get("shapes", {}):
        if shape in reports()[code].placeholders_of(col):
            continue
        assert any(re.search(regex, example) for example in _examples(shape)), (
            f"{code}.{col.name}: real exports hold {shape!r}, which {regex} refuses"
        )
