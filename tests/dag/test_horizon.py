"""The warehouse calendar extends itself: a business date past the migrations' 2030 horizon runs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pendulum
import psycopg
import pytest
from airflow.dag_processing.dagbag import DagBag

from sap_warehouse.core.business_date import BUSINESS_TIMEZONE
from sap_warehouse.operations import horizon
from sap_warehouse_kit import exports

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PAST_HORIZON = dt.date(2031, 1, 6)  # the migrations make the calendar through 2030-12-31


def test_a_date_past_the_horizon_is_refused_clearly_then_runs_once_maintenance_extended_it(
    warehouse: str, as_loader: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The daily DAG connects as the loader, maintenance as the owner (warehouse_owner_db): making
    partitions is the owner's, and the loader could not."""
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE_OWNER_DB", warehouse)
    landing = tmp_path / "landing"
    monkeypatch.setenv("AIRFLOW_VAR_SAP_LANDING_PATH", f"file://{landing}")
    monkeypatch.setenv("AIRFLOW_VAR_SAP_QUARANTINE_PATH", f"file://{tmp_path / 'quarantine'}")
    monkeypatch.setenv("AIRFLOW_VAR_SAP_ARCHIVE_PATH", f"file://{tmp_path / 'archive'}")
    monkeypatch.setenv("AIRFLOW_VAR_SAP_EXPECTED_REPORTS", "mb51,zrsd002")
    exports.write_day(landing, PAST_HORIZON, rows=30, seed=5)
    bag = DagBag(dag_folder=str(PROJECT_ROOT / "dags"))
    assert {"sap_warehouse_daily", "warehouse_maintenance"} <= set(bag.dag_ids)
    daily, maintenance = bag.get_dag("sap_warehouse_daily"), bag.get_dag("warehouse_maintenance")

    with pytest.raises(horizon.HorizonError, match=r"2031-01-06 is outside .*warehouse_maintenance"):
        horizon.check(PAST_HORIZON)
    first = daily.test(run_conf={"business_date": PAST_HORIZON.isoformat()})
    assert str(first.state) == "failed"
    assert {ti.task_id: str(ti.state) for ti in first.get_task_instances()}["resolve_business_date"] == "failed"

    with psycopg.connect(warehouse) as conn:  # a January 2031 movement that was waiting in the DEFAULT partition
        conn.execute(
            """INSERT INTO raw.raw_mb51 (posting_date, movement_type, plant, material, material_document, occurrence,
                                         business_date, source_file, source_row, row_hash, raw_data)
               VALUES ('2031-01-02', '101', '1000', 'WAITING', 'W-1', 1, '2030-12-31', 'w.xlsx', 2,
                       md5('w'), '{}')"""
        )
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        horizon.extend(PAST_HORIZON, 1, conninfo=as_loader)
    # The maintenance DAG keeps the calendar this many months past its run date: far enough for 2031.
    today = pendulum.now(BUSINESS_TIMEZONE).date()
    months = (PAST_HORIZON.year - today.year) * 12 + PAST_HORIZON.month - today.month
    monkeypatch.setenv("AIRFLOW_VAR_WAREHOUSE_HORIZON_MONTHS", str(months))
    assert str(maintenance.test(run_conf={"dry_run": True}).state) == "success"
    with pytest.raises(horizon.HorizonError):  # a dry run changed nothing
        horizon.check(PAST_HORIZON)
    assert str(maintenance.test(run_conf={"dry_run": False}).state) == "success"
    again = horizon.extend(today, months)
    assert (again["partitions_made"], again["dates_added"]) == (0, 0), "extending twice added something"

    assert str(daily.test(run_conf={"business_date": PAST_HORIZON.isoformat()}).state) == "success"
    with psycopg.connect(warehouse) as conn:
        ends = conn.execute("SELECT max(calendar_date) FROM dims.dim_date").fetchone()[0]
        assert ends == dt.date(2031, 1, 31)
        assert conn.execute(
            "SELECT is_holiday, holiday_name FROM dims.dim_date WHERE calendar_date = '2031-01-01'"
        ).fetchone() == (True, "New Year's Day")
        in_month = conn.execute(
            "SELECT count(*) FILTER (WHERE material = 'WAITING'), count(*) FROM raw.raw_mb51_y2031m01"
        ).fetchone()
        assert in_month[0] == 1, "the row waiting in the DEFAULT partition moved to its month"
        assert in_month[1] > 1, "D's movements belong to January 2031"
        assert conn.execute("SELECT count(*) FROM raw.raw_mb51_default").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM facts.fact_billing_y2031m01").fetchone()[0] > 0
        assert (
            conn.execute(
                "SELECT count(*) FROM facts.fact_inventory WHERE movement_date = %s", (PAST_HORIZON,)
            ).fetchone()[0]
            > 0
        )


def test_the_calendar_has_lunar_holidays_and_the_plants_own_days(warehouse: str) -> None:
    with psycopg.connect(warehouse) as conn:

        def day(date: str) -> tuple:
            return conn.execute(
                "SELECT is_holiday, is_working_day, holiday_name, events FROM dims.dim_date WHERE calendar_date = %s",
                (date,),
            ).fetchone()

        # Tet 2026 (lunar) starts on Tuesday 17 February; Hung Kings' day fell on Sunday 26 April and
        # was observed on Monday 27 April: neither was a working day, as the migrations alone had them.
        is_holiday, working, name, _ = day("2026-02-17")
        assert (is_holiday, working) == (True, False)
        assert "Lunar New Year" in name
        assert day("2026-04-27")[:2] == (True, False)
        assert day("2026-03-10")[:2] == (False, True)  # an ordinary Tuesday

        # The plant's own rows: a shutdown and two events on one date, an event alone on another; a
        # library row that is no holiday, and a public holiday someone deleted.
        conn.execute(
            """INSERT INTO dims.holiday_calendar (calendar_date, holiday_name, kind) VALUES
                   ('2026-03-10', 'Annual maintenance shutdown', 'plant_shutdown'),
                   ('2026-03-10', 'Fire drill', 'event'), ('2026-03-10', 'Customer audit', 'event'),
                   ('2026-03-12', 'Open day', 'event')"""
        )
        conn.execute(
            "INSERT INTO dims.holiday_calendar (calendar_date, holiday_name, source) "
            "VALUES ('2026-03-11', 'Stale', 'library')"
        )
        conn.execute("DELETE FROM dims.holiday_calendar WHERE calendar_date = '2026-09-02' AND source = 'library'")
        assert day("2026-09-02")[0] is True  # dims.dim_date follows at the next build, not before
        result = horizon.sync_holidays(conn, 2026, 2026)

        assert result["holidays_added"] >= 1
        assert result["holidays_removed"] == 1
        assert day("2026-03-10") == (True, False, "Annual maintenance shutdown", "Customer audit; Fire drill")
        assert day("2026-03-11")[:3] == (False, True, None)
        assert day("2026-03-12") == (False, True, None, "Open day")  # an event is not a day off
        assert day("2026-09-02")[0] is True
        plant = conn.execute("SELECT count(*) FROM dims.holiday_calendar WHERE source = 'plant'").fetchone()[0]
        assert plant == 4


def test_public_holidays_come_from_the_library_for_the_configured_country() -> None:
    vietnam = dict(horizon.public_holidays([2027]))
    assert vietnam[dt.date(2027, 2, 6)] == "Lunar New Year"
    assert vietnam[dt.date(2027, 9, 2)] == "National Day"
    germany = dict(horizon.public_holidays([2027], {"holidays": {"country": "DE", "subdivision": "BY"}}))
    assert dt.date(2027, 2, 6) not in germany
    assert dt.date(2027, 10, 3) in germany  # German Unity Day
