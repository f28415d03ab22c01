"""The model registry (sap_warehouse.core.model): every object it lists has its SQL, every fact its
slice and suite, and a list that contradicts itself is refused with what to fix."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from sap_warehouse.core import model
from sap_warehouse.core.registry import PROJECT_ROOT, SQL_DIR
from sap_warehouse.gates import quality


def test_every_object_of_the_model_has_its_sql_file_and_no_sql_file_is_left_out() -> None:
    assert {p.stem for p in (SQL_DIR / "dims").glob("*.sql")} == {d.name for d in model.dimensions()}
    assert {p.stem for p in (SQL_DIR / "facts").glob("*.sql")} == set(model.facts())
    assert {p.stem for p in (SQL_DIR / "marts").glob("*.sql")} == {v.name for v in model.views()}
    assert {p.stem for p in (SQL_DIR / "slices").glob("*.sql")} == set(model.slice_names())


def test_each_fact_suite_judges_the_rows_its_build_rewrites() -> None:
    for name, fact in model.facts().items():
        suite = quality.load_suite(quality.SUITES_DIR / f"{name}.json")
        assert suite.batch_query == fact.slice_query(), name
        assert f"WHERE {fact.date_column} = ANY" in suite.batch_query, name
        build = (SQL_DIR / "facts" / f"{name}.sql").read_text()
        assert f"%({fact.dates})s" in build, f"{name}'s build rewrites the dates of its slice"
        assert quality.DATE_TOKEN.search(model.slice_sql(fact.dates)), name
        assert "--" not in model.slice_sql(fact.dates)


def test_a_fact_suite_that_writes_its_own_slice_is_refused(tmp_path: Path) -> None:
    spec = (quality.SUITES_DIR / "fact_billing.json").read_text()
    own = spec.replace('"fact": "fact_billing",', '"fact": "fact_billing", "batch_query": "SELECT :business_date",')
    (tmp_path / "fact_billing.json").write_text(own)
    with pytest.raises(quality.SuiteError, match=r"slices/billing_dates\.sql.*remove meta\.batch_query"):
        quality.load_suite(tmp_path / "fact_billing.json")
    (tmp_path / "fact_billing.json").write_text(spec.replace('"fact": "fact_billing"', '"fact": "fact_bill"'))
    with pytest.raises(quality.SuiteError, match=r"fact_bill.*not a fact of the model"):
        quality.load_suite(tmp_path / "fact_billing.json")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d, f, v: (d, f, (*v, v[0])), "names view_inventory_summary more than once"),
        (
            lambda d, f, v: (d, (dataclasses.replace(f[0], after=("fact_production",)), *f[1:]), v),
            "fact_inventory is built after fact_production",
        ),
        (lambda d, f, v: (d, (dataclasses.replace(f[0], date_column="day; DROP"), *f[1:]), v), "is not a name"),
    ],
)
def test_a_model_list_that_contradicts_itself_is_refused(change, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        model.check(*change(model.DIMENSIONS, model.FACTS, model.VIEWS))


def test_the_model_page_lists_the_model_as_it_is() -> None:
    """docs/model.md's table of objects is the model's list, in its order, with each fact's slice."""
    page = (PROJECT_ROOT / "docs" / "model.md").read_text(encoding="utf-8")
    table = page.split("## The objects", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in table.splitlines() if line.startswith("| `")]
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]

    def fact_row(fact: model.Fact) -> list[str]:
        after = f"; after {', '.join(fact.after)}" if fact.after else ""
        return [f"`facts.{fact.name}`", "fact", fact.about, f"`{fact.date_column}` in `{fact.dates}`{after}"]

    expected = [
        *([f"`dims.{d.name}`", "dimension", d.about, ""] for d in model.dimensions()),
        *(fact_row(fact) for fact in model.facts().values()),
        *([f"`marts.{v.name}`", "view", v.about, ""] for v in model.views()),
    ]
    assert rows == expected
