"""The on-call page's words and chart from given figures: a date's verdict, each report's arrival word
against its due time, the rows chart's series. No database."""

from __future__ import annotations

import dataclasses
import datetime as dt

from sap_warehouse.core.business_date import DateSpan
from sap_warehouse.core.registry import reports
from sap_warehouse.operations import runs
from sap_warehouse.signals import oncall


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
        "mb51": "OK",
        "zrsd002": "LATE",
        "zrsd004": "QUARANTINED",
        "cogs": "OK",
        "zrfi005": "MISSING",
        "(unknown layout)": "QUARANTINED",
    }
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


def test_an_empty_chart_has_no_series() -> None:
    chart = oncall.chart([], dt.date(2026, 3, 30))
    assert chart["series"] == []
    assert chart["first"] == dt.date(2026, 3, 1)


def test_a_verdict_follows_the_run_then_the_warehouse() -> None:
    day = dt.date(2026, 5, 4)
    run = runs.RunOfDate("r", "failed", "build_fact_billing", None, DateSpan.of(day))
    assert runs.verdict(run, known=True, due=True, headline="OK") == "FAILED at build_fact_billing"
    assert runs.verdict(dataclasses.replace(run, state="running"), known=True, due=True, headline="OK") == "RUNNING"
    assert runs.verdict(dataclasses.replace(run, state="success"), known=True, due=True, headline="INCOMPLETE") == (
        "INCOMPLETE"
    )
    assert runs.verdict(None, known=True, due=True, headline="OK") == "NOT RUN"
    assert runs.verdict(None, known=True, due=False, headline=None) == "NOT DUE"
    assert runs.verdict(None, known=False, due=True, headline="OK") == "OK"  # runs unreadable: the warehouse's word
    assert [
        oncall.severity_of(v)
        for v in ("FAILED at x", "NOT RUN", "ATTENTION: 2 new critical", "INCOMPLETE", "OK", "NOT DUE")
    ] == ["critical", "critical", "critical", "warning", "ok", "muted"]
    # The run of D starts at D+1 06:00 plant time (UTC+7): at 05:59 the latest date due is D-1.
    plant = dt.timezone(dt.timedelta(hours=7))
    assert runs.latest_due(dt.datetime(2026, 5, 5, 6, 0, tzinfo=plant)) == day
    assert runs.latest_due(dt.datetime(2026, 5, 5, 5, 59, tzinfo=plant)) == day - dt.timedelta(days=1)
    assert runs.latest_due(dt.datetime(2026, 5, 4, 23, 30, tzinfo=dt.UTC)) == day  # 06:30 on the 5th, plant time
