"""The on-call page's content (sap_warehouse.oncall.day_view), read as the analyst role, and its chart."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import psycopg
import pytest

from sap_warehouse import oncall
from tests.helpers import seeded_day

DAY = dt.date(2026, 3, 10)


@pytest.mark.db
def test_the_page_shows_what_the_day_left(warehouse: str, as_analyst: str, tmp_path: Path) -> None:
    results = seeded_day(tmp_path, warehouse, DAY)
    view = oncall.day_view(DAY, conninfo=as_analyst)

    assert view["business_date"] == DAY
    assert [d["business_date"] for d in view["dates"]] == [DAY]
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
def test_the_chart_draws_each_report_across_every_date() -> None:
    last = dt.date(2026, 3, 30)
    rows = [
        {"report": "mb51", "business_date": last - dt.timedelta(days=29), "rows_loaded": 200},
        {"report": "mb51", "business_date": last, "rows_loaded": 100},
        {"report": "cooispi", "business_date": last - dt.timedelta(days=10), "rows_loaded": 50},
    ]
    chart = oncall.chart(rows, last, days=30, width=356, height=130)
    # Plot area: x from 56 to 348 (29 steps of 292/29), y from 8 (the peak, 200) down to 108 (0).
    series = {s["report"]: s for s in chart["series"]}
    assert list(series) == ["cooispi", "mb51"]
    mb51 = [tuple(map(float, p.split(","))) for p in series["mb51"]["points"].split()]
    assert len(mb51) == 30
    assert mb51[0] == (56.0, 8.0)  # 200 rows, the peak, on the first date
    assert mb51[-1] == (348.0, 58.0)  # 100 rows on the last date: half way up
    assert mb51[1] == (66.1, 108.0)  # a date with no file: 0
    cooispi = [tuple(map(float, p.split(","))) for p in series["cooispi"]["points"].split()]
    assert cooispi[19] == (247.3, 83.0)  # 50 rows: a quarter of the way up, 19 dates in
    assert series["mb51"]["total"] == 300
    assert series["cooispi"]["total"] == 50
    assert chart["peak"] == 200
    assert series["mb51"]["color"] != series["cooispi"]["color"]


@pytest.mark.unit
def test_an_empty_chart_has_no_series() -> None:
    chart = oncall.chart([], dt.date(2026, 3, 30))
    assert chart["series"] == []
    assert chart["first"] == dt.date(2026, 3, 1)
