"""The on-call page's content (sap_warehouse.oncall.day_view), read as the analyst role, and its chart."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest

from sap_warehouse import oncall, runs
from sap_warehouse.registry import reports
from sap_warehouse_kit import exports
from tests.helpers import seeded_day

DAY = dt.date(2026, 3, 10)


@pytest.mark.db
def test_the_page_shows_what_the_day_left(warehouse: str, as_analyst: str, tmp_path: Path) -> None:
    results = seeded_day(tmp_path, warehouse, DAY)
    view = oncall.day_view(DAY, conninfo=as_analyst)

    assert view["business_date"] == DAY
    listed = {d["business_date"]: d for d in view["dates"]}
    assert (listed[DAY]["loaded"], listed[DAY]["quarantined"], listed[DAY]["missing"]) == (
        sum(r.status == "loaded" for r in results.values()), 1, 1)  # fmt: skip
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


@pytest.mark.db
def test_the_page_reads_in_read_only_transactions(warehouse: str, as_analyst: str) -> None:
    """Even a login with write privileges cannot write through the page's connection."""
    view = oncall.day_view(DAY, conninfo=warehouse)  # the admin's URI: could write anything
    assert view["files"] == []
    assert view["health"] is None
    with oncall.read_only(warehouse) as conn, pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        conn.execute("UPDATE facts.fact_alert SET status = 'resolved'")


@pytest.mark.unit
def test_each_report_gets_one_arrival_word_against_the_due_time() -> None:
    due = dt.datetime(2026, 3, 11, 2, 0, tzinfo=dt.UTC)  # 09:00 plant time
    early, late = due - dt.timedelta(minutes=5), due + dt.timedelta(minutes=5)
    files = [
        {"report": "mb51", "status": "loaded", "recorded_at": late},
        {"report": "mb51", "status": "loaded", "recorded_at": early},  # the first load counts
        {"report": "zrsd002", "status": "quarantined", "recorded_at": early},
        {"report": "zrsd002", "status": "loaded", "recorded_at": late},
        {"report": "zrsd004", "status": "quarantined", "recorded_at": early},
        {"report": "cogs", "status": "duplicate", "recorded_at": early},
        {"report": "(unknown layout)", "status": "quarantined", "recorded_at": early},
    ]
    expected = ["mb51", "zrsd002", "zrsd004", "cogs", "zrfi005"]
    after = {a["report"]: a for a in oncall.arrivals(expected, files, [], due, now=late)}
    assert {r: a["arrival"] for r, a in after.items()} == {
        "mb51": "OK", "zrsd002": "LATE", "zrsd004": "QUARANTINED", "cogs": "OK", "zrfi005": "MISSING",
        "(unknown layout)": "QUARANTINED"}  # fmt: skip
    assert after["mb51"]["first_loaded"] == early
    assert after["mb51"]["loaded"] == 2
    assert (after["zrsd002"]["loaded"], after["zrsd002"]["quarantined"]) == (1, 1)
    assert not after["(unknown layout)"]["expected"]
    assert after["zrfi005"]["expected"]
    before = {a["report"]: a["arrival"] for a in oncall.arrivals(expected, [], [], due, now=early)}
    assert set(before.values()) == {"WAITING"}
    # A report a run recorded missing is MISSING, even if no longer expected or not due by the clock.
    recorded = {a["report"]: a for a in oncall.arrivals(["mb51"], [], ["zrfi005"], due, now=early)}
    assert recorded["zrfi005"]["arrival"] == "MISSING"
    assert not recorded["zrfi005"]["expected"]


@pytest.mark.unit
def test_the_chart_draws_each_report_across_every_date() -> None:
    last = dt.date(2026, 3, 30)
    rows = [
        {"report": "mb51", "business_date": last - dt.timedelta(days=29), "rows_loaded": 200},
        {"report": "mb51", "business_date": last, "rows_loaded": 100},
        {"report": "mb51", "business_date": last - dt.timedelta(days=7), "rows_loaded": 150},
        {"report": "cooispi", "business_date": last - dt.timedelta(days=10), "rows_loaded": 50},
    ]
    chart = oncall.chart(rows, last, days=30, width=366, height=134)
    # Plot area: x from 64 to 354 (29 steps of 10), y from 10 (the peak, 200) down to 110 (0).
    series = {s["report"]: s for s in chart["series"]}
    assert list(series) == ["cooispi", "mb51"]
    mb51 = [tuple(map(float, p.split(","))) for p in series["mb51"]["points"].split()]
    assert len(mb51) == 30
    assert mb51[0] == (64.0, 10.0)  # 200 rows, the peak, on the first date
    assert mb51[-1] == (354.0, 60.0)  # 100 rows on the last date: half way up
    assert mb51[1] == (74.0, 110.0)  # a date with no file after the first: 0
    cooispi = [tuple(map(float, p.split(","))) for p in series["cooispi"]["points"].split()]
    assert len(cooispi) == 11  # drawn from its first file on: the 19 days before it are no data, not 0
    assert cooispi[0] == (254.0, 85.0)  # 50 rows: a quarter of the way up, 19 dates in
    assert chart["marker"] == 354.0  # the chosen date
    # The weekday band at the last date (a Monday): the other Mondays since the first data loaded 0 to
    # 150 rows, so the band spans y 110 (0) to 35 (150).
    assert "354.0,35.0" in chart["band"].split()[: len(chart["band"].split()) // 2]
    assert "354.0,110.0" in chart["band"].split()[len(chart["band"].split()) // 2 :]
    assert series["mb51"]["total"] == 450
    assert series["cooispi"]["total"] == 50
    assert chart["peak"] == 200
    assert series["mb51"]["color"] != series["cooispi"]["color"]
    assert len(oncall.PALETTE) >= len(reports())  # no two reports share a colour
    assert oncall.plant_time(dt.datetime(2026, 3, 11, 0, 42, tzinfo=dt.UTC)) == "2026-03-11 07:42 +07"


@pytest.mark.unit
def test_an_empty_chart_has_no_series() -> None:
    chart = oncall.chart([], dt.date(2026, 3, 30))
    assert chart["series"] == []
    assert chart["first"] == dt.date(2026, 3, 1)


FAILED_DAY, GOOD_DAY = dt.date(2027, 2, 16), dt.date(2027, 2, 17)


@pytest.mark.dag
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
        (folder / export_name("mb51", day, 5)).write_bytes(mb51_workbook(mb51_movements(day, 30, 5), 5,
                                                                        header_row_zero=False))  # fmt: skip
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


@pytest.mark.unit
def test_a_verdict_follows_the_run_then_the_warehouse() -> None:
    day = dt.date(2026, 5, 4)
    run = runs.RunOfDate("r", "failed", "build_fact_billing", None, (day,))
    assert runs.verdict(run, known=True, due=True, headline="OK") == "FAILED at build_fact_billing"
    assert runs.verdict(dataclasses.replace(run, state="running"), known=True, due=True, headline="OK") == "RUNNING"
    assert runs.verdict(dataclasses.replace(run, state="success"), known=True, due=True, headline="INCOMPLETE") == (
        "INCOMPLETE"
    )
    assert runs.verdict(None, known=True, due=True, headline="OK") == "NOT RUN"
    assert runs.verdict(None, known=True, due=False, headline=None) == "NOT DUE"
    assert runs.verdict(None, known=False, due=True, headline="OK") == "OK"  # runs unreadable: the warehouse's word
    assert [oncall.severity_of(v) for v in ("FAILED at x", "NOT RUN", "ATTENTION: 2 new critical", "INCOMPLETE",
                                            "OK", "NOT DUE")] == ["critical", "critical", "critical", "warning",
                                                                  "ok", "muted"]  # fmt: skip
    # The run of D starts at D+1 06:00 plant time (UTC+7): at 05:59 the latest date due is D-1.
    plant = dt.timezone(dt.timedelta(hours=7))
    assert runs.latest_due(dt.datetime(2026, 5, 5, 6, 0, tzinfo=plant)) == day
    assert runs.latest_due(dt.datetime(2026, 5, 5, 5, 59, tzinfo=plant)) == day - dt.timedelta(days=1)
    assert runs.latest_due(dt.datetime(2026, 5, 4, 23, 30, tzinfo=dt.UTC)) == day  # 06:30 on the 5th, plant time
