"""Quality gates: every suite file is a valid GX suite; on generated good data every suite passes; in a
copy of it with one defect planted per critical expectation, each critical expectation catches its
defect; results are stored; a date's gate sees that date's slice only."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from urllib.parse import unquote

import psycopg
import pytest
from psycopg import sql

from sap_warehouse.core.business_date import DateSpan
from sap_warehouse.core.registry import reports
from sap_warehouse.core.run_info import RunInfo
from sap_warehouse.gates import quality
from sap_warehouse_kit import exports
from sap_warehouse_kit.scratch_db import create_database, drop_database
from tests.helpers import build_day, load_day, query

DAYS = [dt.date(2026, 5, 4), dt.date(2026, 5, 5)]
SPAN = DateSpan(DAYS[0], DAYS[-1])
D = DAYS[0]  # every report delivers new rows on the first day (master data, targets, costs too)
SEED = 41
BAD = "BAD VALUE#"
RAW_TABLES = {r.raw_table: r.code for r in reports().values()}
LEDGER_SUITE = "etl_file_ledger"
# What a healthy generated day shows: the generator plants customer-defined movement types (Z71/Z72)
# that the site configuration does not map; they go to other_qty with this warning, never critical.
HEALTHY_WARNINGS = {("raw_mb51", "expect_column_values_to_be_in_set", "movement_type")}

# Defects for the SQL checks (unexpected_rows_expectation), by suite and meta.check: (SQL, marker that
# must show in the stored sample or None). {part} is the row's table, %(ctid)s the row.
CHECK_DEFECTS = {
    "in_dim_material": ("UPDATE {part} SET material_code = 'ZZ-NOT-IN-DIM' WHERE ctid = %(ctid)s", "ZZ-NOT-IN-DIM"),
    "in_dim_location": ("UPDATE {part} SET storage_location = 'ZZ99' WHERE ctid = %(ctid)s", "ZZ99"),
    "in_dim_customer": ("UPDATE {part} SET customer_code = 'ZZNOTINDIM' WHERE ctid = %(ctid)s", "ZZNOTINDIM"),
    "raw_rows_reached_fact": ("DELETE FROM {part} WHERE ctid = %(ctid)s", None),
    "net_is_sum_of_categories": ("UPDATE {part} SET net_qty = net_qty + 1 WHERE ctid = %(ctid)s", None),
    "margin_is_revenue_minus_cost": ("UPDATE {part} SET gross_margin = gross_margin + 1 WHERE ctid = %(ctid)s", None),
    "links_one_level_up": ("UPDATE {part} SET parent_level = 'P01', child_level = 'P03' WHERE ctid = %(ctid)s", None),
    "no_self_link": (
        "UPDATE {part} SET child_material = parent_material, child_batch = parent_batch WHERE ctid = %(ctid)s",
        None,
    ),
    "rows_match_ledger": (
        "UPDATE operations.etl_file_ledger SET rows_unchanged = rows_unchanged + rows_inserted + rows_updated, "
        "rows_inserted = 0, rows_updated = 0 WHERE business_date = %(day)s AND report = %(report)s",
        None,
    ),
}
SUITE_CHECK_DEFECTS = {
    ("raw_zrfi005", "total_is_sum_of_buckets"): (
        "UPDATE {part} SET total_target = total_target + 1 WHERE ctid = %(ctid)s",
        None,
    ),
    ("fact_ar_aging", "total_is_sum_of_buckets"): (
        "UPDATE {part} SET total_amount = total_amount + 1 WHERE ctid = %(ctid)s",
        None,
    ),
    ("fact_stock_snapshot", "on_hand_is_sum_of_stocks"): (
        "UPDATE {part} SET on_hand_qty = on_hand_qty + 1 WHERE ctid = %(ctid)s",
        None,
    ),
}


@pytest.fixture(scope="module")
def good(migrated_template: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Name of a warehouse with two generated business dates of every report loaded and built."""
    name = f"wh_quality_{uuid.uuid4().hex[:10]}"
    url = create_database(name, template=migrated_template)
    landing = tmp_path_factory.mktemp("landing")
    for day in DAYS:
        exports.write_day(landing, day, rows=200, seed=SEED, first=DAYS[0])  # D's MB52 count too
        load_day(url, landing / day.isoformat(), day)
        build_day(url, day)
    yield name
    drop_database(name)


def stored(url: str, day: dt.date) -> dict[str, tuple]:
    rows = query(
        url,
        "SELECT suite_name, gate, success, critical_failures, warning_failures, statistics, failures "
        "FROM operations.dq_validation_result WHERE business_date = %s ORDER BY result_id",
        day,
    )
    return {r[0]: r[1:] for r in rows}


def critical_expectations(suites: list[quality.Suite]) -> set[tuple[str, int]]:
    return {(s.name, n) for s in suites for n, e in enumerate(s.spec["expectations"], 1) if e["severity"] == "critical"}


def test_every_suite_passes_on_generated_good_data(good: str) -> None:
    url = create_database(f"{good}_ok", template=good)
    try:
        suites = quality.load_suites()
        for day in DAYS:
            for gate in quality.GATES:
                results = quality.validate_gate(gate, day, conninfo=url, run=RunInfo("t", "good"))
                seen = {(r.suite, f["expectation"], f["column"]) for r in results for f in r.failures}
                assert seen <= HEALTHY_WARNINGS
            rows = stored(url, day)
            assert set(rows) == {s.name for s in suites}
            for suite in suites:
                gate, success, critical, warnings, statistics, failures = rows[suite.name]
                assert (gate, success, critical, warnings) == (suite.gate, not failures, 0, len(failures))
                for failure in failures:
                    assert (failure["severity"], failure["column"]) == ("warning", "movement_type")
                    assert set(failure["sample"]) <= {"Z71", "Z72"}
                assert statistics["evaluated_expectations"] == len(suite.spec["expectations"])
    finally:
        drop_database(f"{good}_ok")


def loosen(conn: psycopg.Connection, table: str) -> None:
    """Drop the keys, checks and NOT NULLs the database itself would enforce, so the defect can exist
    and the suite is what has to catch it (partition key columns must stay NOT NULL)."""
    schema, name = table.split(".")
    for (constraint,) in conn.execute(
        "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype IN ('p', 'u', 'c')", (table,)
    ).fetchall():
        conn.execute(
            sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
                sql.Identifier(schema, name), sql.Identifier(constraint)
            )
        )
    for (column,) in conn.execute(
        """SELECT a.attname FROM pg_attribute a
            WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND a.attnotnull AND NOT a.attisdropped
              AND a.attnum <> ALL (SELECT unnest(partattrs::int2[]) FROM pg_partitioned_table
                                    WHERE partrelid = %s::regclass)""",
        (table, table),
    ).fetchall():
        conn.execute(
            sql.SQL("ALTER TABLE {} ALTER COLUMN {} DROP NOT NULL").format(
                sql.Identifier(schema, name), sql.Identifier(column)
            )
        )


def bound(value, parameters: dict[str, str], step: int):
    """A value just past a between-bound (a date parameter or a number)."""
    if isinstance(value, dict):
        return dt.date.fromisoformat(parameters[value["$PARAMETER"]]) + dt.timedelta(days=step)
    return Decimal(str(value)) + step


@dataclass
class Row:
    """A row of D's slice that defects are planted in; where it is now (an UPDATE moves it)."""

    part: str
    ctid: str
    touched: set[str] = field(default_factory=set)
    exclusive: bool = False


ALL = {"*"}
ROW_CHANGES = {
    "expect_column_values_to_not_be_null": None,
    "expect_column_values_to_match_regex": BAD,
    "expect_column_values_to_be_in_set": BAD,
}


def columns_of(expectation: dict) -> set[str]:
    """What a defect for ``expectation`` touches: its columns, or the whole row for an SQL check."""
    kwargs = expectation["kwargs"]
    if "column_list" in kwargs:
        return set(kwargs["column_list"])
    return {kwargs["column"]} if "column" in kwargs else ALL


def pick(rows: list[Row], touched: set[str]) -> Row:
    """The first row this defect cannot disturb (and that no earlier defect needs intact)."""
    for row in rows:
        if row.exclusive or (touched == ALL and row.touched) or row.touched & touched:
            continue
        row.touched |= touched
        row.exclusive = touched == ALL
        return row
    raise AssertionError("D's slice has too few rows for the defects of this suite")


def plant(conn: psycopg.Connection, suite: quality.Suite, expectation: dict, rows: list[Row]) -> str | None:
    """Break one row (or the date's ledger) so that ``expectation`` must fail; returns a value the
    stored failure sample must show, when there is one to show."""
    kind, kwargs = expectation["type"], expectation["kwargs"]
    moved = sql.SQL(" RETURNING tableoid::regclass::text, ctid::text")
    if kind == "unexpected_rows_expectation":
        check = expectation["meta"]["check"]
        statement, marker = SUITE_CHECK_DEFECTS.get((suite.name, check)) or CHECK_DEFECTS[check]
        params = {"day": D, "report": RAW_TABLES.get(suite.name)}
        if "{part}" in statement:  # a row of the slice, not the ledger
            row = pick(rows, ALL)
            conn.execute(statement.format(part=row.part), {**params, "ctid": row.ctid})
        else:
            conn.execute(statement, params)
        return marker
    row = pick(rows, columns_of(expectation))
    target = sql.SQL(row.part)  # a regclass name read from the catalogue
    if kind in ("expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"):
        conn.execute(sql.SQL("INSERT INTO {0} SELECT * FROM {0} WHERE ctid = %s").format(target), (row.ctid,))
        return None
    if kind == "expect_column_values_to_be_between":
        parameters = quality.expectation_parameters(D)
        if "max_value" in kwargs:
            value = bound(kwargs["max_value"], parameters, +1)
        else:
            value = bound(kwargs["min_value"], parameters, -1)
    else:
        value = ROW_CHANGES[kind]
    update = sql.SQL("UPDATE {} SET {} = %s WHERE ctid = %s").format(target, sql.Identifier(kwargs["column"]))
    row.part, row.ctid = conn.execute(update + moved, (value, row.ctid)).fetchone()
    return value if value == BAD else None


def plant_defects(url: str, suites: list[quality.Suite]) -> dict[tuple[str, int], str | None]:
    """One defect per critical expectation in D's slice; two defects share a row only where neither
    can hide the other (different columns)."""
    planted = {}
    with psycopg.connect(url, autocommit=True) as conn:
        for suite in suites:
            if not any(e["severity"] == "critical" for e in suite.spec["expectations"]):
                continue  # nothing to plant (the file ledger's suite only warns)
            table = re.search(r"FROM (\w+\.\w+)", suite.batch_query).group(1)
            loosen(conn, table)
            slice_rows = quality.with_date(
                suite.batch_query.replace("SELECT *", "SELECT tableoid::regclass::text, ctid::text", 1), D
            )
            rows = [Row(*r) for r in conn.execute(slice_rows).fetchall()]
            for number, expectation in enumerate(suite.spec["expectations"], 1):
                if expectation["severity"] == "critical":
                    try:
                        planted[(suite.name, number)] = plant(conn, suite, expectation, rows)
                    except AssertionError as error:
                        raise AssertionError(f"{suite.name} #{number}: {error} ({len(rows)} rows)") from None
    return planted


def test_each_critical_expectation_catches_its_planted_defect(good: str, caplog: pytest.LogCaptureFixture) -> None:
    name = f"{good}_bad"
    url = create_database(name, template=good)
    try:
        suites = quality.load_suites()
        planted = plant_defects(url, suites)
        assert set(planted) == critical_expectations(suites)
        for gate in quality.GATES:
            with pytest.raises(quality.QualityGateError, match=f"{gate} quality gate failed for {D}") as error:
                quality.validate_gate(gate, D, conninfo=url)
            assert "re-run the date" in str(error.value)

        caught = {}
        for suite_name, (_gate, success, critical, _w, _s, failures) in stored(url, D).items():
            if suite_name == LEDGER_SUITE:
                continue  # warnings only, no defect planted
            assert success is False
            assert critical == sum(f["severity"] == "critical" for f in failures)
            caught.update({(suite_name, f["number"]): f for f in failures if f["severity"] == "critical"})
        assert set(caught) == set(planted)
        for key, marker in planted.items():
            assert caught[key]["unexpected_count"] >= 1, key
            if marker:
                assert marker in json.dumps(caught[key]["sample"], ensure_ascii=False), (key, caught[key])

        # The next date's raw slice holds none of D's defects: its gate judges only its own rows.
        results = quality.validate_gate("raw", DAYS[1], conninfo=url)
        assert {(r.suite, f["expectation"], f["column"]) for r in results for f in r.failures} <= HEALTHY_WARNINGS

        # A range run's gates judge D together with the next date (a screen on both dates' slices, then
        # D's failed expectations on D alone): every planted defect is found on D, and what is stored for
        # each date is the verdict of the date's own run.
        for gate in quality.GATES:
            with contextlib.suppress(quality.QualityGateError):
                quality.validate_gate(gate, DAYS[1], conninfo=url)
        alone = {day: verdicts(stored(url, day)) for day in DAYS}
        for gate in quality.GATES:
            with pytest.raises(quality.QualityGateError) as error:
                quality.validate_dates(gate, SPAN, conninfo=url, run=RunInfo(run_id="range"))
            assert str(error.value).startswith(f"{gate} quality gate failed for {D}")
            failed_alone = [day for day in DAYS if any(v[1] for n, v in alone[day].items() if n in SUITES[gate])]
            assert re.findall(rf"{gate} quality gate failed for ([0-9-]+):", str(error.value)) == [
                str(day) for day in failed_alone
            ]
        assert {day: verdicts(stored(url, day)) for day in DAYS} == alone
        assert "gate screen:" not in caplog.text  # the screen told the date of every defect, none guessed
        with psycopg.connect(url) as conn:
            judged = conn.execute(
                "SELECT business_date, count(*) FROM operations.dq_validation_result WHERE run_id = 'range' "
                "GROUP BY 1 ORDER BY 1"
            ).fetchall()
        assert judged == [(D, len(suites)), (DAYS[1], len(suites))]
    finally:
        drop_database(name)


SUITES = {gate: {s.name for s in quality.load_suites(gate)} for gate in quality.GATES}


def verdicts(rows: dict[str, tuple]) -> dict[str, tuple]:
    """What a date's stored results say, suite by suite: success, counts, and each failure in full."""
    return {
        suite: (
            success,
            critical,
            warnings,
            statistics["evaluated_expectations"],
            statistics["successful_expectations"],
            sorted(json.dumps({k: v for k, v in f.items() if k != "query"}, sort_keys=True) for f in failures),
        )
        for suite, (_gate, success, critical, warnings, statistics, failures) in rows.items()
    }


def test_a_range_is_judged_as_its_dates_alone_are(good: str) -> None:
    """On a healthy range the screen passes every suite on the dates before the last; the day's usual
    warning is stored from SQL (its count, share and first values, as GX reports them: the stored
    verdicts equal the dates' own runs), and no GX validation runs for it."""
    name = f"{good}_range"
    url = create_database(name, template=good)
    try:
        for gate in quality.GATES:
            for day in DAYS:
                quality.validate_gate(gate, day, conninfo=url, run=RunInfo(run_id="alone"))
        alone = {day: verdicts(stored(url, day)) for day in DAYS}
        for gate in quality.GATES:
            quality.validate_dates(gate, SPAN, conninfo=url, run=RunInfo(run_id="range"))
        rows = {day: stored(url, day) for day in DAYS}
        assert {day: verdicts(of_day) for day, of_day in rows.items()} == alone
        screens = {suite: r[4].get("range_screen") for suite, r in rows[D].items()}
        warned = {suite for suite, _e, _c in HEALTHY_WARNINGS}
        assert {s for s, screen in screens.items() if screen == f"{D}..{D}"} == set().union(*SUITES.values()) - warned
        number = next(
            n
            for n, e in enumerate(
                next(s for s in quality.load_suites("raw") if s.name == "raw_mb51").spec["expectations"], 1
            )
            if e["kwargs"].get("column") == "movement_type" and e["type"] == "expect_column_values_to_be_in_set"
        )
        assert {screens[s] for s in warned} == {f"warnings read in SQL: #{number}"}
        assert not any("range_screen" in r[4] for r in rows[DAYS[1]].values())  # the last date: validated whole
    finally:
        drop_database(name)


def test_gate_failure_names_suite_expectation_column_and_sample(good: str) -> None:
    name = f"{good}_one"
    url = create_database(name, template=good)
    try:
        with psycopg.connect(url) as conn:
            conn.execute(
                "UPDATE raw.raw_zrsd002 SET curr = 'VN$' WHERE ctid = (SELECT min(ctid) FROM raw.raw_zrsd002 "
                "WHERE business_date = %s)",
                (D,),
            )
        with pytest.raises(quality.QualityGateError) as error:
            quality.validate_gate("raw", D, conninfo=url)
        message = str(error.value)
        assert "1 critical expectation(s) failed" in message
        assert "raw_zrsd002: #" in message
        assert "expect_column_values_to_match_regex on curr" in message
        assert "1 unexpected, e.g. ['VN$']" in message
        assert "not an ISO currency mixes amounts of different currencies" in message
    finally:
        drop_database(name)


def test_every_suite_reads_its_date_through_an_index(warehouse: str) -> None:
    """A gate's cost follows the date's volume, not the history: no suite scans a whole table."""
    day = dt.date(2026, 3, 2)
    with psycopg.connect(warehouse) as conn:
        conn.execute("SET enable_seqscan = off")  # the plan an index allows, whatever the table's size now
        for suite in quality.load_suites():
            query = quality.with_date(suite.batch_query, day)
            plan = "\n".join(row[0] for row in conn.execute(f"EXPLAIN {query}"))
            assert "Seq Scan" not in plan, f"{suite.name}: the batch query scans a whole table:\n{plan}"


def test_each_gate_run_writes_its_data_docs_pages(
    good: str, tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A one-date gate writes a page per suite; a range writes its last date's pages and, on its other
    dates, those of the suites that failed a critical expectation (a date with warnings only stores
    them from SQL, no page). The pages' templates are compiled once in the process: the second gate
    run compiles none (GX makes a Jinja environment per page)."""
    import jinja2

    compiled: list[str] = []
    compile_template = jinja2.Environment.compile

    def counted(self, source, name=None, *args, **kwargs):
        compiled.append(name)
        return compile_template(self, source, name, *args, **kwargs)

    name = f"{good}_docs"
    url = create_database(name, template=good)
    site = tmp_path / "data_docs"
    try:
        caplog.set_level("INFO", logger="sap_warehouse.gates.quality")
        run = RunInfo("t", "manual__2026-05-06T01:02:03+00:00")
        results = quality.validate_gate("raw", D, conninfo=url, run=run, data_docs=f"file://{site}")
        pages = {r.suite: r.statistics["data_docs_page"] for r in results}
        assert set(pages) == {s.name for s in quality.load_suites("raw")}
        for suite, page in pages.items():
            path = Path(unquote(page.removeprefix("file://")))
            assert path.is_relative_to(site / "validations" / suite / "manual__2026-05-06T01_02_03_00_00")
            assert suite in path.read_text()
        assert (site / "index.html").is_file()
        assert pages["raw_mb51"] in caplog.text  # the gate's log names its pages
        assert {n: s[4]["data_docs_page"] for n, s in stored(url, D).items()} == pages

        with psycopg.connect(url) as conn:  # one bad currency on the first date: a critical failure
            conn.execute(
                "UPDATE raw.raw_zrsd002 SET curr = 'VN$' WHERE ctid = (SELECT min(ctid) FROM raw.raw_zrsd002 "
                "WHERE business_date = %s)",
                (D,),
            )
        monkeypatch.setattr(jinja2.Environment, "compile", counted)
        with pytest.raises(quality.QualityGateError):
            quality.validate_dates("raw", SPAN, conninfo=url, run=RunInfo(run_id="range"), data_docs=str(site))
        assert compiled == [], "templates compiled again for the second run's pages"
        with psycopg.connect(url) as conn:
            rows = conn.execute(
                "SELECT business_date, suite_name, success, statistics ->> 'data_docs_page' IS NOT NULL "
                "FROM operations.dq_validation_result WHERE run_id = 'range'"
            ).fetchall()
        failed_first = {suite for day, suite, success, _ in rows if day == D and not success}
        assert failed_first == {"raw_zrsd002", "raw_mb51"}  # the bad currency; the Z71/Z72 warning
        documented = {(day, suite) for day, suite, _, has_page in rows if has_page}
        raw = {s.name for s in quality.load_suites("raw")}
        assert documented == {(D, "raw_zrsd002")} | {(DAYS[-1], suite) for suite in raw}
        assert len(list((site / "validations").glob("*/range/*/*.html"))) == len(raw) + 1
        for page in pages.values():  # the one-date run's pages are still there; the index lists the range's
            assert Path(unquote(page.removeprefix("file://"))).is_file()
        index = (site / "index.html").read_text()
        assert "/range/" in index
        assert "manual__2026-05-06T01_02_03_00_00" not in index

        # Two runs at once on one site: each builds apart and puts whole files in place when done.
        with ThreadPoolExecutor(2) as pool:
            runs = [
                pool.submit(
                    quality.validate_gate,
                    "raw",
                    DAYS[-1],
                    conninfo=url,
                    run=RunInfo(run_id=f"parallel{i}"),
                    data_docs=f"file://{site}",
                )
                for i in range(2)
            ]
            outcomes = [future.result() for future in runs]
        for outcome in outcomes:
            for result in outcome:
                page = Path(unquote(result.statistics["data_docs_page"].removeprefix("file://")))
                assert page.is_relative_to(site / "validations"), page
                assert page.is_file(), page
        assert not list(site.glob(".staging-*")), "a run left its staging folder"
    finally:
        drop_database(name)


def test_a_data_docs_location_gx_cannot_write_is_refused(good: str) -> None:
    url = create_database(f"{good}_ftp", template=good)
    try:
        with pytest.raises(quality.SuiteError, match=r"'ftp://plant/docs' \(Variable warehouse_data_docs_path\)"):
            quality.validate_gate("raw", D, conninfo=url, data_docs="ftp://plant/docs")
    finally:
        drop_database(f"{good}_ftp")
