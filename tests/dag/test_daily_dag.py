"""The daily DAG, run for real with dag.test(), against totals computed from the generated truth."""

import datetime as dt
import uuid
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from urllib.parse import unquote

import psycopg
import pytest
from airflow.dag_processing.dagbag import DagBag
from psycopg import sql

from sap_warehouse.core import model
from sap_warehouse.core.registry import PROJECT_ROOT, reports
from sap_warehouse.gates.quality import load_suites
from sap_warehouse.ingest.landing import late_files
from sap_warehouse.ingest.raw_load import record_late_files
from sap_warehouse_kit import exports, runner
from sap_warehouse_kit.generator import Movement, unit_totals, write_mb51_days
from sap_warehouse_kit.scratch_db import create_database, drop_database
from tests.helpers import asset_event_extras, query, table_checksum, warehouse_checksums

FIRST, SECOND = dt.date(2026, 1, 5), dt.date(2026, 1, 6)
# What each movement type means, written out independently of include/config/site.yaml.
CATEGORY = {
    "101": "receipt",
    "102": "receipt",
    "261": "production_issue",
    "262": "production_issue",
    "601": "delivery",
    "602": "delivery",
    "311": "transfer",
    "351": "transfer",
    "413": "transfer",
}


def open_alerts(url: str) -> set[tuple]:
    with psycopg.connect(url) as conn:
        return set(
            conn.execute(
                "SELECT rule_code, entity_key, severity, current_value, last_business_date FROM facts.fact_alert "
                "WHERE status <> 'resolved'"
            )
        )


def run(dag, day: dt.date) -> str:
    return str(dag.test(run_conf={"business_date": day.isoformat()}).state)


def expected_facts(movements: list[Movement]) -> dict[tuple, dict]:
    facts: dict[tuple, dict] = defaultdict(lambda: defaultdict(Decimal))
    for m in movements:
        row = facts[(m.posting_date, m.material, m.plant, m.storage_location or "#", m.unit)]
        row["net_qty"] += m.quantity
        row[CATEGORY.get(m.movement_type, "other") + "_qty"] += m.quantity
        row["movement_count"] += 1
    return facts


def test_daily_run_builds_fact_inventory_from_the_exports(warehouse: str, landing: Path, daily_dag) -> None:
    written = write_mb51_days(landing, FIRST, SECOND, rows=800, seed=11)
    movements = written[FIRST] + written[SECOND]
    assert any(m.posting_date < SECOND for m in written[SECOND]), "fixture needs late postings"

    assert run(daily_dag, FIRST) == "success"
    second = daily_dag.test(run_conf={"business_date": SECOND.isoformat()})
    assert str(second.state) == "success"
    # The refreshed-marts event that starts the maintenance DAG says which dates it carries.
    extra = {"business_date": SECOND.isoformat(), "through": SECOND.isoformat()}
    assert asset_event_extras("sap_warehouse_daily", second.run_id) == [extra]

    expected = expected_facts(movements)
    with psycopg.connect(warehouse) as conn:
        rows = conn.execute(
            "SELECT movement_date, material_code, plant, storage_location, unit, net_qty, receipt_qty, "
            "production_issue_qty, delivery_qty, transfer_qty, movement_count, other_qty FROM facts.fact_inventory"
        ).fetchall()
        view = dict(
            ((r[0], r[1], r[2], r[3]), r[4])
            for r in conn.execute(
                "SELECT material_code, plant, storage_location, unit, window_net_qty FROM marts.view_inventory_summary "
                "WHERE on_hand_qty IS NULL"
            )
        )
        ledger = conn.execute(
            "SELECT business_date, status, rows_read, rows_inserted, rows_summary FROM operations.etl_file_ledger "
            "WHERE status = 'loaded' ORDER BY 1"
        ).fetchall()
        missing = conn.execute(
            "SELECT business_date, report FROM operations.etl_file_ledger WHERE status = 'missing' ORDER BY 1"
        ).fetchall()
        pages = conn.execute(
            "SELECT gate, suite_name, statistics ->> 'data_docs_page' FROM operations.dq_validation_result "
            "WHERE run_id = %s",
            (second.run_id,),
        ).fetchall()
    # Each gate of the run wrote a GX Data Docs page per suite into the configured site.
    assert {(gate, suite) for gate, suite, _ in pages} == {(s.gate, s.name) for s in load_suites()}
    for _, suite, page in pages:
        assert Path(unquote(page.removeprefix("file://"))).is_relative_to(
            landing.parent / "data_docs" / "validations" / suite
        )
        assert Path(unquote(page.removeprefix("file://"))).is_file()
    actual = {
        r[:5]: {
            "net_qty": r[5],
            "receipt_qty": r[6],
            "production_issue_qty": r[7],
            "delivery_qty": r[8],
            "transfer_qty": r[9],
            "movement_count": r[10],
            "other_qty": r[11],
        }
        for r in rows
    }
    assert set(actual) == set(expected)
    for key, want in expected.items():
        for measure, value in want.items():
            assert actual[key][measure] == value, (key, measure)
    # No MB52 count was delivered: every position shows its net movement, its stock unknown (NULL).
    net: dict[tuple, Decimal] = defaultdict(Decimal)
    for m in movements:
        net[(m.material, m.plant, m.storage_location or "#", m.unit)] += m.quantity
    assert view == dict(net)
    # SAP's list totals (one per unit, at the end of each export) are counted, never loaded.
    assert ledger == [
        (day, "loaded", len(written[day]), len(written[day]), len(unit_totals(written[day]))) for day in (FIRST, SECOND)
    ]
    assert missing == [(FIRST, "zrsd002"), (SECOND, "zrsd002")]
    archived = sorted(p.parent.name for p in (landing.parent / "archive").rglob("*.xlsx"))
    assert archived == [FIRST.isoformat(), SECOND.isoformat()]
    assert list(landing.rglob("*.xlsx")) == []


def ledger(url: str) -> list[tuple]:
    """What arrived per date and report. Which date's copy of a file several dates share (the master
    data, the same bytes each day) is read and which is the known duplicate depends on the order
    the files loaded in; that the date delivered it, and what was rejected, does not."""
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT business_date, report, CASE WHEN status IN ('loaded', 'duplicate') THEN 'delivered' "
            "ELSE status END, rows_rejected FROM operations.etl_file_ledger ORDER BY 1, 2, 3, 4"
        ).fetchall()


def test_a_range_run_equals_its_dates_run_one_by_one_in_order_and_in_reverse_and_rerun_changes_nothing(
    warehouse: str, landing: Path, migrated_template: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One warehouse per way of running three dates: as one range run, one run per date in date order
    (Airflow's backfill), in reverse order; every table, the open alerts and the ledger end the same.
    A date of the range run again (its files archived: a rebuild from raw) changes nothing, the alert
    history included."""
    days = [FIRST, SECOND, SECOND + dt.timedelta(days=1)]
    for day in days:
        exports.write_day(landing, day, rows=40, seed=21)
    # On-call's range run: business_date .. business_date_to, one run for the three dates.
    assert runner.run_daily_dag(days[0], through=days[-1]) == "success"
    ranged, ranged_alerts, ranged_ledger = warehouse_checksums(warehouse), open_alerts(warehouse), ledger(warehouse)
    assert {row[0] for row in ranged_ledger} == set(days)
    with psycopg.connect(warehouse) as conn:
        alerts_before = table_checksum(conn, "facts.fact_alert")
    # Again, its files archived: a date in the middle of the history, after the later one it precedes.
    assert runner.run_daily_dag(days[1]) == "success"
    assert warehouse_checksums(warehouse) == ranged
    with psycopg.connect(warehouse) as conn:
        assert table_checksum(conn, "facts.fact_alert") == alerts_before, "a re-run changed or duplicated alerts"

    for order in (days, days[::-1]):  # one run per date (Airflow's backfill), in date order and reversed
        name = f"wh_per_date_{uuid.uuid4().hex[:10]}"
        other = create_database(name, template=migrated_template)
        try:
            monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE_DB", other)
            for day in days:
                exports.write_day(landing, day, rows=40, seed=21)  # the earlier runs archived them
            for day in order:
                assert runner.run_daily_dag(day) == "success"
            assert warehouse_checksums(other) == ranged
            # Alerts judge the latest date with the whole history, whatever order the dates ran in.
            assert open_alerts(other) == ranged_alerts
            assert ledger(other) == ranged_ledger
        finally:
            drop_database(name)


def test_a_range_run_stops_at_a_critical_defect_and_names_its_date(
    warehouse: str, landing: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """Every date of the range is judged; the failure names the date with the defect, and nothing of
    the range is built (the views keep serving the last good data)."""
    # A DAG of its own: dag.test() keeps a run's conf in the DAG's params, and the module's other tests
    # run single dates.
    daily_dag = DagBag(dag_folder=str(PROJECT_ROOT / "dags")).get_dag(runner.DAG_ID)
    write_mb51_days(landing, FIRST, SECOND + dt.timedelta(days=1), rows=100, seed=5)
    (landing / SECOND.isoformat() / "billing.xlsx").write_bytes(billing_file(SECOND, curr="VN$"))
    last = SECOND + dt.timedelta(days=1)
    after = last + dt.timedelta(days=1)
    assert runner.main(["--from", str(FIRST), "--to", str(after), "--range-run", "--dry-run"]) == 0
    preview = capfd.readouterr().out.splitlines()
    assert preview[0].startswith(f"{FIRST}: ")
    assert "known" not in preview[0]
    assert "billing.xlsx" in preview[1]
    assert preview[3:] == [f"{after}: nothing in the landing zone", "dry run: nothing run"]
    dag_run = daily_dag.test(run_conf={"business_date": FIRST.isoformat(), "business_date_to": last.isoformat()})
    states = task_states(dag_run)
    assert str(dag_run.state) == "failed"
    assert states["quality_gate_raw"] == "failed"
    assert states["build_dimensions"] == "upstream_failed"
    logged = "".join(capfd.readouterr())  # the task's log, as dag.test prints it
    assert f"AirflowFailException: raw quality gate failed for {SECOND}\n" in logged
    with psycopg.connect(warehouse) as conn:
        loaded = conn.execute(
            "SELECT DISTINCT business_date FROM operations.etl_file_ledger WHERE status = 'loaded' ORDER BY 1"
        ).fetchall()
        assert conn.execute("SELECT count(*) FROM facts.fact_inventory").fetchone()[0] == 0
    assert [row[0] for row in loaded] == [FIRST, SECOND, last]
    assert [r[0] for r in quality_results(warehouse, SECOND, "raw_zrsd002")] == [1]
    assert [r[0] for r in quality_results(warehouse, last, "raw_zrsd002")] == [0]
    # Loaded files were archived; the same bytes delivered again are previewed as known.
    for path in sorted((landing.parent / "archive").rglob("*.xlsx"))[:1]:
        (landing / FIRST.isoformat()).mkdir(exist_ok=True)
        (landing / FIRST.isoformat() / path.name).write_bytes(path.read_bytes())
    runner.main(["--from", str(FIRST), "--to", str(FIRST), "--range-run", "--dry-run"])
    assert "(known: loaded for " in capfd.readouterr().out


def test_a_bad_file_is_quarantined_and_the_day_still_loads(warehouse: str, landing: Path, daily_dag) -> None:
    written = write_mb51_days(landing, FIRST, FIRST, rows=200, seed=13)
    (landing / FIRST.isoformat() / "0000-broken.xlsx").write_bytes(b"PK\x03\x04 truncated")

    assert run(daily_dag, FIRST) == "success"

    with psycopg.connect(warehouse) as conn:
        statuses = conn.execute(
            "SELECT file_name, status FROM operations.etl_file_ledger WHERE status <> 'missing' ORDER BY file_name"
        ).fetchall()
        raw_rows = conn.execute("SELECT count(*) FROM raw.raw_mb51").fetchone()[0]
    assert statuses[0] == ("0000-broken.xlsx", "quarantined")
    assert statuses[1][1] == "loaded"
    assert raw_rows == len(written[FIRST])
    assert (landing.parent / "quarantine" / FIRST.isoformat() / "0000-broken.xlsx").exists()


def test_a_day_of_every_report_with_every_bad_input(warehouse: str, landing: Path, daily_dag, tmp_path: Path) -> None:
    written = exports.write_day(landing, FIRST, rows=60, seed=14, inject=exports.BAD_INPUTS)
    folder = landing / FIRST.isoformat()
    outside = tmp_path / "secret.xlsx"
    outside.write_bytes(b"not for the warehouse")
    (folder / "link.xlsx").symlink_to(outside)
    (folder / "notes.pdf").write_bytes(b"%PDF-1.4")

    assert run(daily_dag, FIRST) == "success"

    with psycopg.connect(warehouse) as conn:
        ledger = {
            name: (report, status, read, rejected, reason)
            for name, report, status, read, rejected, reason in conn.execute(
                "SELECT file_name, report, status, rows_read, rows_rejected, reason FROM operations.etl_file_ledger"
            )
        }
        totals = dict(conn.execute("SELECT report, sum(rows_summary) FROM operations.etl_file_ledger GROUP BY 1"))
        cells = conn.execute(
            "SELECT rows_read, rows_rejected, cell_issues, cell_issue_columns FROM operations.etl_file_ledger "
            "WHERE file_name = 'bad-cell_issue.xlsx'"
        ).fetchone()
        counts = {
            code: conn.execute(
                sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier("raw", f"raw_{code}"))
            ).fetchone()[0]
            for code in written
        }
    loaded = {report: read for report, status, read, _, _ in ledger.values() if status == "loaded"}
    assert set(loaded) == {*written, "cooispi"}  # the two bad-value files are COOISPI exports
    # Other orders in the bad-value files: the same 40 in both COOISPI ones, row 1 of text_in_number
    # rejected (a quantity no yield can do without), the impossible date of bad_date a cell issue.
    extra = {"cooispi": 40, "zrmm024": 30}
    for code, rows in written.items():
        assert counts[code] == len(rows) + extra.get(code, 0), code
    # Every export ends with SAP's list totals: counted per file, never loaded or rejected.
    assert totals["mb51"] == len(unit_totals(written["mb51"]))
    assert totals["zrsd004"] == len(exports.list_totals("zrsd004", written["zrsd004"]))
    # Unreadable values of a column no fact needs cost no row: 10 cells of 30 rows, all loaded.
    assert cells == (30, 0, 10, {"Gross Weight": 10})
    quarantined = {name for name, entry in ledger.items() if entry[1] == "quarantined"}
    assert quarantined == {
        "bad-wrong_type.xlsx",
        "bad-truncated.xlsx",
        "bad-zip_bomb.xlsx",
        "bad-entity_bomb.xlsx",
        "bad-empty_sheet.xlsx",
        "bad-missing_column.xlsx",
        "bad-unknown_layout.xlsx",
        "link.xlsx",
        "notes.pdf",
    }
    assert "symbolic link" in ledger["link.xlsx"][4]
    assert ledger["bad-text_in_number.xlsx"][1:4] == ("loaded", 40, 1)
    assert ledger["bad-bad_date.xlsx"][1:4] == ("loaded", 40, 0)
    assert outside.read_bytes() == b"not for the warehouse"
    # Every file moved out, but the truncated workbook: an unfinished zip given up is copied to
    # quarantine and left where it is (a writer may still hold it).
    assert sorted(p.name for p in folder.iterdir()) == ["bad-truncated.xlsx"]
    assert (landing.parent / "quarantine" / FIRST.isoformat() / "bad-zip_bomb.xlsx").exists()
    assert (landing.parent / "quarantine" / FIRST.isoformat() / "bad-truncated.xlsx").exists()
    with psycopg.connect(warehouse) as conn:
        assert (
            conn.execute("SELECT count(*) FROM operations.etl_file_ledger WHERE status = 'missing'").fetchone()[0] == 0
        )
    # The next day does not call the given-up workbook late (its ledger row is newer than its last
    # write), until it changes: the whole export written over it waits for a re-run of its date.
    following = FIRST + dt.timedelta(days=1)
    assert record_late_files(following, late_files(landing, following, 7), 7, conninfo=warehouse) == []
    (folder / "bad-truncated.xlsx").write_bytes(exports.render("zrsd006", exports.zrsd006_rows(), 14))
    waiting = record_late_files(following, late_files(landing, following, 7), 7, conninfo=warehouse)
    assert waiting == [f"{FIRST}/bad-truncated.xlsx"]


def test_raw_layer_links_batches_across_reports(warehouse: str, landing: Path, daily_dag) -> None:
    day = FIRST  # an odd ordinal: its MB51 export has the optional Order column
    assert day.toordinal() % 2 == 1
    written = exports.write_day(landing, day, rows=60, seed=17)

    assert run(daily_dag, day) == "success"

    [(sfg_links,)] = query(
        warehouse,
        "SELECT count(*) FROM raw.raw_zrpp062 z JOIN raw.raw_cooispi c "
        "ON ltrim(c.order_number, '0') = z.order_sfg_liquid AND c.mrp_controller = 'P02'",
    )
    [(issue_links,)] = query(
        warehouse,
        "SELECT count(*) FROM raw.raw_mb51 m "
        "JOIN raw.raw_cooispi consumer ON ltrim(consumer.order_number, '0') = m.order_number "
        "JOIN raw.raw_cooispi producer ON producer.batch = m.batch WHERE m.movement_type = '261'",
    )
    assert sfg_links == len(written["zrpp062"])
    assert issue_links == sum(1 for m in written["mb51"] if m.movement_type == "261" and m.order)


VIEWS = tuple(f"marts.{view.name}" for view in model.views())


def billing_file(day: dt.date, **changes) -> bytes:
    """An extra ZRSD002 export holding one generated billing line of ``day``, changed."""
    line = dict(exports.zrsd002_rows(day, exports.zrsd004_rows(day, 20, 7), 7)[0])
    line.update(billing_document="9099999991", billing_item="000010", cancelled="", doc_cancel="", **changes)
    return exports.render("zrsd002", [line], 7)


def task_states(dag_run) -> dict[str, str]:
    return {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}


def quality_results(url: str, day: dt.date, suite: str) -> list[tuple]:
    return query(
        url,
        "SELECT critical_failures, warning_failures, failures FROM operations.dq_validation_result "
        "WHERE business_date = %s AND suite_name = %s ORDER BY result_id",
        day,
        suite,
    )


def test_a_critical_defect_stops_the_run_at_the_gate_and_a_fixed_file_passes(
    warehouse: str, landing: Path, daily_dag
) -> None:
    write_mb51_days(landing, FIRST, SECOND, rows=200, seed=5)
    assert run(daily_dag, FIRST) == "success"
    with psycopg.connect(warehouse) as conn:
        views = {view: table_checksum(conn, view) for view in VIEWS}
    (landing / SECOND.isoformat() / "billing.xlsx").write_bytes(billing_file(SECOND, curr="VN$"))

    dag_run = daily_dag.test(run_conf={"business_date": SECOND.isoformat()})
    states = task_states(dag_run)
    assert str(dag_run.state) == "failed"
    assert states["load_raw_files"] == "success"  # the file loaded: the currency is text, not a typing error
    assert states["quality_gate_raw"] == "failed"
    for task_id in ("build_dimensions", "build_fact_billing", "quality_gate_facts", "refresh_views"):
        assert states[task_id] == "upstream_failed", task_id
    with psycopg.connect(warehouse) as conn:
        assert {view: table_checksum(conn, view) for view in VIEWS} == views
        assert conn.execute("SELECT count(*) FROM facts.fact_billing").fetchone()[0] == 0
    [(critical, _warnings, failures)] = quality_results(warehouse, SECOND, "raw_zrsd002")
    assert critical == 1
    assert (failures[0]["column"], failures[0]["sample"]) == ("curr", ["VN$"])

    # The corrected export (same billing line, currency fixed) arrives; re-running the date passes.
    (landing / SECOND.isoformat() / "billing-corrected.xlsx").write_bytes(billing_file(SECOND, curr="VND"))
    assert run(daily_dag, SECOND) == "success"
    assert [r[0] for r in quality_results(warehouse, SECOND, "raw_zrsd002")] == [1, 0]
    with psycopg.connect(warehouse) as conn:
        assert conn.execute("SELECT currency FROM facts.fact_billing").fetchall() == [("VND",)]
        assert table_checksum(conn, "marts.view_sales_performance") != views["marts.view_sales_performance"]


def test_a_warning_is_stored_and_the_run_goes_on(warehouse: str, landing: Path, daily_dag) -> None:
    write_mb51_days(landing, FIRST, FIRST, rows=200, seed=5)
    (landing / FIRST.isoformat() / "credit-memo.xlsx").write_bytes(billing_file(FIRST, net_value=Decimal("-125000")))

    assert run(daily_dag, FIRST) == "success"
    [(critical, warnings, failures)] = quality_results(warehouse, FIRST, "raw_zrsd002")
    assert (critical, warnings) == (0, 1)
    assert (failures[0]["severity"], failures[0]["column"], failures[0]["unexpected_count"]) == (
        "warning",
        "net_value",
        1,
    )
    with psycopg.connect(warehouse) as conn:
        gates = conn.execute(
            "SELECT gate, count(*), sum(critical_failures) FROM operations.dq_validation_result GROUP BY 1 ORDER BY 1"
        ).fetchall()
        # Every suite of each gate ran (one per fact; one per raw table and the file ledger), none failed.
        assert gates == [("facts", len(model.facts()), 0), ("raw", len(reports()) + 1, 0)]
        assert conn.execute("SELECT count(*) FROM marts.view_sales_performance").fetchone()[0] > 0


def test_the_daily_dags_role_cannot_drop_alter_truncate_or_create(warehouse: str, as_loader: str) -> None:
    """The connection the daily DAG runs with writes rows and nothing more (its runs above succeed
    with it); whatever it is tricked into, the tables themselves are out of its reach."""
    statements = [
        "DROP TABLE raw.raw_mb51",
        "ALTER TABLE facts.fact_billing ADD COLUMN x integer",
        "TRUNCATE operations.etl_file_ledger",
        "CREATE TABLE raw.extra (x integer)",
        "DROP MATERIALIZED VIEW marts.view_ar_aging",
        "REFRESH MATERIALIZED VIEW marts.view_ar_aging",
        "SELECT operations.refresh_materialized_view('raw.raw_mb51'::regclass)",
    ]
    refused = []
    with psycopg.connect(as_loader, autocommit=True) as conn:
        for statement in statements:
            try:
                conn.execute(statement)
            except (psycopg.errors.InsufficientPrivilege, psycopg.errors.RaiseException):
                refused.append(statement)
        conn.execute("SELECT operations.refresh_materialized_view('marts.view_ar_aging'::regclass)")
    assert refused == statements
    with psycopg.connect(warehouse) as conn:
        assert conn.execute("SELECT to_regclass('raw.raw_mb51')").fetchone()[0] is not None
