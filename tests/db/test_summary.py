"""The morning summary's text (docs/runbook.md): what it says for a given state, and that data
never becomes markup. Pure: the summary as collect() hands it over, written out here."""

from __future__ import annotations

import pytest

from sap_warehouse.signals import summary


def files(report: str, **counts) -> dict:
    row = dict.fromkeys(("loaded", "duplicate", "stale_copy", "quarantined"), 0)
    row.update(rows_loaded=0, rows_unchanged=0, rows_rejected=0, cell_issues=0, missing=False)
    row.update(report=report, **counts)
    return row


def state(**changes) -> dict:
    base = {
        "business_date": "2026-03-04",
        "run_id": "scheduled__2026-03-04T23:00:00+00:00",
        "run_url": None,
        "headline": "INCOMPLETE",
        "holiday": None,
        "files": [
            files("mb51", loaded=2, rows_loaded=1200, rows_rejected=3),
            files("zrsd002", quarantined=1, missing=True),
            files(summary.UNKNOWN_LAYOUT, quarantined=1, missing=True),
        ],
        "missing": ["zrsd002"],
        "quarantined": [{"file_name": "<b>x</b>.xlsx", "report": None, "reason": "damaged & unreadable"}],
        "gates": [],
        "alerts": [],
        "new_alerts": 0,
        "open_critical": 0,
    }
    return {**base, **changes}


def test_the_summary_reads_as_the_read_only_login(
    warehouse: str, as_analyst: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The summary runs in the dag-processor (a run callback), which holds only the reader's password:
    it reads through warehouse_analyst_db, in read-only transactions, never the loader's login."""
    import datetime as dt

    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE_DB", "postgresql://nobody:none@127.0.0.1:9/nowhere")
    collected = summary.collect(dt.date(2026, 3, 4), run_id="manual__x", expected=["mb51"])
    assert (collected["headline"], collected["missing"]) == ("NOTHING ARRIVED", ["mb51"])
