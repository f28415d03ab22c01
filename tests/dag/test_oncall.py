"""The on-call page's content (sap_warehouse.signals.oncall.day_view), read as the analyst role, and its chart."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest

from sap_warehouse.signals import oncall
from sap_warehouse_kit import exports
from tests.helpers import seeded_day

DAY = dt.date(2026, 3, 10)


def test_the_page_shows_what_the_day_left(warehouse: str, as_analyst: str, tmp_path: Path) -> None:
    results = seeded_day(tmp_path, warehouse, DAY)
    view = oncall.day_view(DAY, conninfo=as_analyst)

    assert view["business_date"] == DAY
    listed = {d["business_date"]: d for d in view["dates"]}
    assert (listed[DAY]["loaded"], listed[DAY]["quarantined"], listed[DAY]["missing"]) == (
        sum(r.status == "loaded" for r in results.values()),
        1,
        1,
    )
    by_name = {f["file_name"]: f for f in view["files"]}
    assert set(by_name) == set(results)
    for name, result in results.items():
        shown = by_name[name]
        assert shown["status"] == result.status
        assert shown["rows_read"] == result.rows_read
        assert shown["rows_loaded"] == result.rows_inserted + result.rows_updated
        assert shown["rows_summary"] == result.rows_summary
        # The seconds the ledger recorded: some of the file's whole load, never more.
        assert 0 <= shown["seconds"] <= result.seconds
    assert [(f["file_name"], f["reason"]) for f in view["quarantined"]] == [
        ("bad-truncated.xlsx", results["bad-truncated.xlsx"].reason)
    ]
    assert "bad-truncated.xlsx" in view["quarantined"][0]["reason"]
    assert [m["report"] for m in view["missing"]] == ["zrfi005"]
    # Loaded long after the date's due time (the seeding runs today): each loaded report is LATE.
    words = {a["report"]: a["arrival"] for a in view["arrivals"]}
    assert words["zrfi005"] == "MISSING"
    for result in results.values():
        if result.status == "loaded":
            assert words[result.report] == "LATE", result.report

    suites = {g["suite_name"] for g in view["gates"] if g["gate"] == "raw"}
    assert {"raw_mb51", "raw_zrsd002", "etl_file_ledger"} <= suites

    with psycopg.connect(warehouse) as conn:
        open_alerts = conn.execute("SELECT alert_id FROM facts.fact_alert WHERE status <> 'resolved'").fetchall()
    assert open_alerts, "the seeded day raises no alert: the page's alert list is not exercised"
    assert sorted(a["alert_id"] for a in view["alerts"]) == sorted(a[0] for a in open_alerts)

    loaded = {}
    for result in results.values():
        if result.status == "loaded":
            loaded[result.report] = loaded.get(result.report, 0) + result.rows_inserted + result.rows_updated
    assert {s["report"]: s["total"] for s in view["chart"]["series"]} == loaded

    health = view["health"]
    assert health is not None
    assert health["database_bytes"] > 0
    assert sum(health["connections"].values()) >= 1  # the snapshot's own session at least


def test_the_page_reads_in_read_only_transactions(warehouse: str, as_analyst: str) -> None:
    """Even a login with write privileges cannot write through the page's connection."""
    view = oncall.day_view(DAY, conninfo=warehouse)  # the admin's URI: could write anything
    assert view["files"] == []
    assert view["health"] is None
    with oncall.read_only(warehouse) as conn, pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        conn.execute("UPDATE facts.fact_alert SET status = 'resolved'")


FAILED_DAY, GOOD_DAY = dt.date(2027, 2, 16), dt.date(2027, 2, 17)


@pytest.mark.usefixtures("as_loader")
def test_each_date_has_its_verdict_from_its_run_and_the_default_is_the_date_due(
    warehouse: str, as_analyst: str, landing: Path, daily_dag
) -> None:
    """A run that failed at the raw gate is FAILED at quality_gate_raw, linked to the run and the task's
    log; a date that should have run and did not is NOT RUN; a good run is OK; the page opens on the
    latest date that should have run (its run starts the next morning at 06:00 plant time), whatever
    the newest file is."""
    from sap_warehouse_kit.generator import export_name, mb51_movements, mb51_workbook

    for day in (FAILED_DAY, GOOD_DAY):
        folder = landing / day.isoformat()
        folder.mkdir(parents=True)
        (folder / export_name("mb51", day, 5)).write_bytes(
            mb51_workbook(mb51_movements(day, 30, 5), 5, header_row_zero=False)
        )
        billing = exports.zrsd002_rows(day, exports.zrsd004_rows(day, 10, 5), 5)
        if day == FAILED_DAY:
            billing[0]["curr"] = "VN$"  # a currency that is none: the raw gate's critical failure
        (folder / export_name("zrsd002", day, 5)).write_bytes(exports.render("zrsd002", billing, 5))
    (landing / "2027-02-20").mkdir()
    (landing / "2027-02-20" / "early.xlsx").write_bytes(b"not yet")  # a newer file than the date due
    assert str(daily_dag.test(run_conf={"business_date": FAILED_DAY.isoformat()}).state) == "failed"
    # The good date's late postings reach lines the failed date's file delivered, whose dimensions that
    # run never built: the good date's build covers them (its facts gate would fail otherwise).
    assert str(daily_dag.test(run_conf={"business_date": GOOD_DAY.isoformat()}).state) == "success"

    morning = dt.datetime(2027, 2, 18, 7, 0, tzinfo=dt.timezone(dt.timedelta(hours=7)))  # 07:00 plant time
    view = oncall.day_view(None, conninfo=as_analyst, now=morning)
    assert view["business_date"] == GOOD_DAY
    assert view["verdict"] == "OK"
    failed = oncall.day_view(FAILED_DAY, conninfo=as_analyst, now=morning)
    assert failed["verdict"] == "FAILED at quality_gate_raw"
    assert failed["verdict_severity"] == "critical"
    assert failed["failed_task_link"] == (
        f"../dags/sap_warehouse_daily/runs/{quote(failed['run'].run_id, safe='')}/tasks/quality_gate_raw"
    )
    listed = {d["business_date"]: d["verdict"] for d in failed["dates"]}
    assert listed[GOOD_DAY] == "OK"
    assert listed[FAILED_DAY] == "FAILED at quality_gate_raw"
    assert listed[FAILED_DAY - dt.timedelta(days=1)] == "NOT RUN"  # due, never run: stale, and said so
    early = oncall.day_view(None, conninfo=as_analyst, now=morning - dt.timedelta(hours=2))  # before 06:00
    assert early["business_date"] == FAILED_DAY
