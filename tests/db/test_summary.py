"""The morning summary against a warehouse: it reads through the read-only login, and it reports on the
dates its run resolved and recorded (its text is tests/unit/test_summary_text.py's)."""

from __future__ import annotations

import pytest

from sap_warehouse.signals import summary


def test_the_summary_reads_as_the_read_only_login(
    warehouse: str, as_analyst: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The summary runs in the dag-processor (a run callback), which holds only the reader's password:
    it reads through warehouse_analyst_db, in read-only transactions, never the loader's login."""
    import datetime as dt

    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE_DB", "postgresql://nobody:none@127.0.0.1:9/nowhere")
    collected = summary.collect(dt.date(2026, 3, 4), run_id="manual__x", expected=["mb51"])
    assert (collected["headline"], collected["missing"]) == ("NOTHING ARRIVED", ["mb51"])


def test_the_summary_is_of_the_dates_its_run_recorded_not_of_a_second_reading(warehouse: str, as_analyst: str) -> None:
    """A run records the dates its first task resolved; the summary reads them by run id. Only a run
    that recorded none (it failed resolving) is read by the rule again, which names its bad Param."""
    import datetime as dt

    from sap_warehouse.core.business_date import DateSpan
    from sap_warehouse.core.run_info import RunInfo
    from sap_warehouse.operations import runs

    run = RunInfo("sap_warehouse_daily", "manual__recorded", "resolve_business_date")
    runs.record_dates(DateSpan(dt.date(2026, 3, 2), dt.date(2026, 3, 4)), run, conninfo=warehouse)
    # Params that would read as another date: the record speaks for the run.
    context = {"run_id": "manual__recorded", "params": {"business_date": "2026-03-09"}, "reason": "success"}
    assert summary.send(context)["business_date"] == "2026-03-04"
    assert runs.recorded_dates("manual__recorded") == DateSpan(dt.date(2026, 3, 2), dt.date(2026, 3, 4))

    unrecorded = {"run_id": "manual__bad", "params": {"business_date": "2026-13-01"}, "reason": "failed"}
    assert summary.send(unrecorded) is None
    assert runs.recorded_dates("manual__bad") is None
