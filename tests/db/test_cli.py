"""sapwh, the one command-line tool: its commands, their help, tables for people and JSON for scripts."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import psycopg

from sap_warehouse import cli
from sap_warehouse.core.business_date import DateSpan
from sap_warehouse.core.run_info import RunInfo
from sap_warehouse.gates import quality
from sap_warehouse.ingest.raw_load import load_file
from sap_warehouse.signals import alerts
from sap_warehouse_kit import exports
from tests.helpers import load_day


def test_alerts_list_as_json_for_scripts(warehouse: str, tmp_path: Path, capsys) -> None:
    day = dt.date(2026, 3, 2)
    exports.write_day(tmp_path, day, rows=20, seed=9)
    load_day(warehouse, tmp_path / day.isoformat(), day)
    bad = tmp_path / "bad-wrong_type.xlsx"  # a quarantined file: a healthy day alone raises no alert
    bad.write_bytes(exports.bad_file("wrong_type", day, 9))
    load_file(bad, day, quarantine_root=tmp_path / "quarantine", conninfo=warehouse)
    alerts.evaluate(day, conninfo=warehouse)
    with psycopg.connect(warehouse) as conn:
        open_ids = {r[0] for r in conn.execute("SELECT alert_id FROM facts.fact_alert WHERE status <> 'resolved'")}
    assert open_ids, "the day raised no alert to list"
    assert cli.main(["alerts", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert {a["alert_id"] for a in listed} == open_ids
    assert {"severity", "status", "rule_code", "message", "acknowledged_by"} <= set(listed[0])


def test_alert_ids_filters_summary_and_stored_gate_results(warehouse: str, tmp_path: Path, capsys) -> None:
    """What on-call types at 3 a.m.: the ids `alerts list` prints are the ones `alerts ack` takes, the
    list filters by severity and rule and says when it is cut; `summary --date` tells the date's
    headline; `quality results --date` shows the stored verdicts and validates nothing again."""
    day = dt.date(2026, 3, 2)
    exports.write_day(tmp_path, day, rows=20, seed=9, inject=("wrong_type", "truncated", "text_in_number"))
    for path in sorted((tmp_path / day.isoformat()).iterdir()):  # two of them quarantined
        load_file(path, day, quarantine_root=tmp_path / "quarantine", conninfo=warehouse)
    run = RunInfo("sap_warehouse_daily", "cli test")
    quality.validate_dates("raw", DateSpan.of(day), run=run, conninfo=warehouse, data_docs=None)
    with psycopg.connect(warehouse) as conn:  # ids in the thousands, as a warehouse's soon are
        conn.execute("SELECT setval(pg_get_serial_sequence('facts.fact_alert', 'alert_id'), 100000)")
    alerts.evaluate(day, run=run, conninfo=warehouse)
    with psycopg.connect(warehouse) as conn:
        opened = conn.execute(
            "SELECT alert_id, severity, rule_code FROM facts.fact_alert WHERE status <> 'resolved' ORDER BY 1 DESC"
        ).fetchall()
    assert {severity for _, severity, _ in opened} >= {"critical", "warning"}
    assert min(alert_id for alert_id, _, _ in opened) > 100000

    assert cli.main(["alerts", "list", "--severity", "critical"]) == 0
    shown = capsys.readouterr().out
    for alert_id, severity, _ in opened:
        assert (f" {alert_id} " in shown) == (severity == "critical"), alert_id
    assert cli.main(["alerts", "list", "--rule", "rejected_rows", "--json"]) == 0
    assert {a["alert_id"] for a in json.loads(capsys.readouterr().out)} == {
        alert_id for alert_id, _, rule in opened if rule == "rejected_rows"
    }
    assert cli.main(["alerts", "list", "--limit", "1"]) == 0
    assert "the newest 1; --limit for more" in capsys.readouterr().out

    assert cli.main(["summary", "--date", day.isoformat()]) == 0
    text = capsys.readouterr().out
    assert text.startswith(f"[warehouse] {day}: ATTENTION: ")
    assert cli.main(["summary", "--date", "2026-03-03"]) == 1
    assert "NOT RUN" in capsys.readouterr().err

    with psycopg.connect(warehouse) as conn:
        before = conn.execute("SELECT count(*), max(validated_at) FROM operations.dq_validation_result").fetchone()
    assert cli.main(["quality", "results", "--date", day.isoformat(), "--json"]) == 0
    results = {r["suite"]: r for r in json.loads(capsys.readouterr().out)}
    with psycopg.connect(warehouse) as conn:
        assert (
            conn.execute("SELECT count(*), max(validated_at) FROM operations.dq_validation_result").fetchone() == before
        )
    assert results["raw_mb52"]["status"] == "not evaluated"  # no stock count that day: nothing judged
    assert results["raw_mb51"]["status"] in ("passed", "warning")
    assert results["raw_mb51"]["rows"] > 0
