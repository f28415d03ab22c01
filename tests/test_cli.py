"""sapwh, the one command-line tool: its commands, their help, tables for people and JSON for scripts."""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from sap_warehouse import alerts, cli, quality
from sap_warehouse.raw_load import load_file
from sap_warehouse_kit import exports
from tests.helpers import load_day

COMMANDS = ["quality", "summary", "layers", "genealogy", "alerts", "backup", "run", "exports", "demo"]


@pytest.mark.unit
def test_the_console_script_lists_every_command() -> None:
    sapwh = shutil.which("sapwh")
    assert sapwh, "the package's console script is not installed"
    listed = subprocess.run([sapwh, "--help"], capture_output=True, text=True, check=True).stdout
    for command in COMMANDS:
        assert f"\n    {command} " in listed or f"\n    {command}\n" in listed, command


@pytest.mark.unit
@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_answers_its_own_help_under_its_sapwh_name(command: str, capsys) -> None:
    with pytest.raises(SystemExit) as done:
        cli.main([command, "--help"])
    assert done.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: sapwh {command} ")


@pytest.mark.unit
def test_defaults_are_shown_in_the_help(capsys) -> None:
    with pytest.raises(SystemExit):
        cli.main(["demo", "--help"])
    assert "(default: 3)" in capsys.readouterr().out  # --days


@pytest.mark.unit
def test_a_kit_command_without_the_kit_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    def missing(name: str):
        raise ModuleNotFoundError(f"No module named {name!r}", name="sap_warehouse_kit")

    monkeypatch.setattr(cli.importlib, "import_module", missing)
    assert cli.main(["demo"]) == 2
    assert "sapwh demo is part of the development kit" in capsys.readouterr().err


@pytest.mark.unit
def test_rows_show_as_a_table_or_as_json() -> None:
    rows = [
        {"alert_id": 12345, "severity": "critical", "rows": 1234567, "amount": Decimal("10.50"),
         "since": dt.date(2026, 1, 5)},
        {"alert_id": 7, "severity": "warning", "rows": 3, "amount": None, "since": dt.date(2026, 1, 6)},
    ]  # fmt: skip
    table = io.StringIO()
    cli.show(rows, title="open alerts", out=table)
    text = table.getvalue()
    assert "open alerts" in text
    line = next(line for line in text.splitlines() if "critical" in line)
    assert " 12345 " in line  # an id as `sapwh alerts ack` takes it back
    assert "1,234,567" in line  # a count, grouped for reading
    assert "2026-01-05" in line
    as_json = io.StringIO()
    cli.show(rows, as_json=True, out=as_json)
    assert json.loads(as_json.getvalue()) == [
        {"alert_id": 12345, "severity": "critical", "rows": 1234567, "amount": "10.50", "since": "2026-01-05"},
        {"alert_id": 7, "severity": "warning", "rows": 3, "amount": None, "since": "2026-01-06"},
    ]
    empty = io.StringIO()
    cli.show([], out=empty)
    assert empty.getvalue().strip() == "(none)"


@pytest.mark.db
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


@pytest.mark.db
def test_alert_ids_filters_summary_and_stored_gate_results(warehouse: str, tmp_path: Path, capsys) -> None:
    """What on-call types at 3 a.m.: the ids `alerts list` prints are the ones `alerts ack` takes, the
    list filters by severity and rule and says when it is cut; `summary --date` tells the date's
    headline; `quality results --date` shows the stored verdicts and validates nothing again."""
    day = dt.date(2026, 3, 2)
    exports.write_day(tmp_path, day, rows=20, seed=9, inject=("wrong_type", "truncated", "text_in_number"))
    for path in sorted((tmp_path / day.isoformat()).iterdir()):  # two of them quarantined
        load_file(path, day, quarantine_root=tmp_path / "quarantine", conninfo=warehouse)
    run = {"dag_id": "sap_warehouse_daily", "run_id": "cli test"}
    quality.validate_dates("raw", [day], run=run, conninfo=warehouse, data_docs=None)
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
