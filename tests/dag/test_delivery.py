"""On-call hears about every delivery problem (docs/alerts.md, docs/runbook.md): missing
reports, quarantined files, rejected rows, through the alert lifecycle; and one morning summary per
run, success or failure, by e-mail and to Slack. Real generated files, the daily DAG run through
dag.test(), a real SMTP server and a local stand-in for Slack's webhook endpoint."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import psycopg
import pytest

from sap_warehouse.gates.quality import load_suites
from sap_warehouse_kit import exports
from sap_warehouse_kit.generator import export_name, mb51_movements, mb51_workbook
from tests.helpers import Inbox, query

SEED = 23
RAW_SUITES, FACT_SUITES = len(load_suites("raw")), len(load_suites("facts"))
NOTHING, SHUTDOWN, BAD_FILES, BAD_DATA = (dt.date(2026, 3, d) for d in (2, 3, 4, 5))


class SlackStandIn(BaseHTTPRequestHandler):
    """Slack's incoming-webhook endpoint, as far as a sender can tell: POSTed JSON, answered "ok"."""

    received: ClassVar[list[dict]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(json.loads(body))
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args) -> None:  # quiet
        pass


@pytest.fixture
def slack(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict]]:
    """A local webhook server configured as the connection warehouse_slack; what it received."""
    handler = type("Received", (SlackStandIn,), {"received": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/services/T000/B000/XXXX"
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE_SLACK", json.dumps({"conn_type": "slackwebhook", "password": url}))
    yield handler.received
    server.shutdown()


def run(dag, day: dt.date) -> str:
    return str(dag.test(run_conf={"business_date": day.isoformat()}).state)


def deliver_good_day(landing: Path, day: dt.date) -> None:
    """The two expected reports of ``day``: an MB51 and a ZRSD002 export."""
    folder = landing / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / export_name("mb51", day, SEED)).write_bytes(
        mb51_workbook(mb51_movements(day, 30, SEED), SEED, header_row_zero=False)
    )
    billing = exports.zrsd002_rows(day, exports.zrsd004_rows(day, 20, SEED), SEED)
    (folder / export_name("zrsd002", day, SEED)).write_bytes(exports.render("zrsd002", billing, SEED))


def alerts(url: str, rule: str) -> dict[str, tuple[str, str]]:
    """entity -> (severity, status) of every alert of ``rule``, the latest per entity."""
    rows = query(
        url,
        "SELECT DISTINCT ON (entity_key) entity_key, severity, status FROM facts.fact_alert "
        "WHERE rule_code = %s ORDER BY entity_key, alert_id DESC",
        rule,
    )
    return {entity: (severity, status) for entity, severity, status in rows}


def last_summary(inbox: Inbox, day: dt.date) -> tuple[str, str]:
    """Subject and body of the latest morning summary of ``day``."""
    summaries = [m for _, m in inbox.messages if m["Subject"].startswith(f"[warehouse] {day}: ")]
    assert summaries, [m["Subject"] for _, m in inbox.messages]
    return summaries[-1]["Subject"], summaries[-1].get_body(("html", "plain")).get_content()


def test_a_day_without_files_stays_green_but_alerts_and_says_so(
    warehouse: str, landing: Path, daily_dag, inbox: Inbox, slack: list[dict]
) -> None:
    assert run(daily_dag, NOTHING) == "success"  # a day with nothing does not fail the run...
    assert alerts(warehouse, "missing_report") == {  # ...but every expected report is alerted
        f"mb51:{NOTHING}": ("critical", "active"),
        f"zrsd002:{NOTHING}": ("critical", "active"),
    }
    subject, body = last_summary(inbox, NOTHING)
    assert subject.startswith(f"[warehouse] {NOTHING}: NOTHING ARRIVED; 0 of 2 reports delivered")
    assert "mb51: MISSING" in body
    assert "zrsd002: MISSING" in body
    assert "NEW critical" in body
    assert "run: manual__" in body  # the run's id (its link when the api-server's base URL is set)
    assert [m["text"].splitlines()[0] for m in slack] == [subject]

    # A plant shutdown in the calendar: nothing is expected, the alert is only information.
    with psycopg.connect(warehouse) as conn:
        conn.execute(
            "INSERT INTO dims.holiday_calendar (calendar_date, holiday_name, kind) VALUES (%s, %s, 'plant_shutdown')",
            (SHUTDOWN, "Bảo trì nhà máy"),
        )
    assert run(daily_dag, SHUTDOWN) == "success"
    found = alerts(warehouse, "missing_report")
    assert found[f"mb51:{SHUTDOWN}"] == ("info", "active")
    assert found[f"mb51:{NOTHING}"] == ("critical", "active")  # still missing
    assert "NOTHING ARRIVED (Bảo trì nhà máy: none expected)" in last_summary(inbox, SHUTDOWN)[0]

    # The files of the first date arrive: its alerts resolve when they load.
    deliver_good_day(landing, NOTHING)
    assert run(daily_dag, NOTHING) == "success"
    found = alerts(warehouse, "missing_report")
    assert found[f"mb51:{NOTHING}"] == ("critical", "resolved")
    assert found[f"zrsd002:{NOTHING}"] == ("critical", "resolved")
    assert found[f"zrsd002:{SHUTDOWN}"] == ("info", "active")
    subject, body = last_summary(inbox, NOTHING)
    assert f"{NOTHING}: OK; 2 of 2 reports delivered, 0 quarantined" in subject
    assert "mb51: 1 loaded; rows 30 loaded" in body


def test_quarantined_files_and_rejected_rows_are_alerted_and_a_corrected_file_resolves(
    warehouse: str, landing: Path, daily_dag, inbox: Inbox, slack: list[dict]
) -> None:
    deliver_good_day(landing, BAD_FILES)
    folder = landing / BAD_FILES.isoformat()
    for kind in ("truncated", "text_in_number", "cell_issue"):
        (folder / f"bad-{kind}.xlsx").write_bytes(exports.bad_file(kind, BAD_FILES, SEED))

    assert run(daily_dag, BAD_FILES) == "success"  # a bad file costs itself, not the day
    assert alerts(warehouse, "quarantined_file") == {f"{BAD_FILES}/bad-truncated.xlsx": ("critical", "active")}
    # One order quantity of forty is text (a reject, 2.5 %); a third of ZRMM024's gross weights are
    # text (cells loaded as NULL).
    assert alerts(warehouse, "rejected_rows") == {
        f"{BAD_FILES}/bad-text_in_number.xlsx": ("warning", "active"),
        f"{BAD_FILES}/bad-cell_issue.xlsx": ("warning", "active"),
    }
    assert alerts(warehouse, "missing_report") == {}
    subject, body = last_summary(inbox, BAD_FILES)
    # The one critical alert is the quarantined file: a person asks for the export again today.
    assert subject.startswith(
        f"[warehouse] {BAD_FILES}: ATTENTION: 1 new critical; INCOMPLETE; 4 of 4 reports delivered, 1 quarantined"
    )
    assert "New critical alerts (1)" in body
    assert "<li>quarantined_file: 1</li>" in body
    assert "bad-truncated.xlsx (unknown layout): bad-truncated.xlsx" in body
    assert "(unknown layout): 1 quarantined; rows 0 loaded" in body
    assert "cooispi: 1 loaded; rows 39 loaded, 0 unchanged, 1 rejected, 0 cells as NULL" in body
    assert "zrmm024: 1 loaded; rows 30 loaded, 0 unchanged, 0 rejected, 10 cells as NULL" in body
    # One vocabulary: each gate passed / warning / failed, then its suites by result.
    assert re.search(rf"raw gate: (passed|warning); {RAW_SUITES} suites: \d+ passed, \d+ warning, 0 failed", body)
    assert re.search(rf"facts gate: (passed|warning); {FACT_SUITES} suites: \d+ passed, \d+ warning, 0 failed", body)
    assert "NEW critical" in body
    assert "quarantined_file" in body
    assert len(slack) == 1

    # The corrected file arrives under the same name: the quarantine alert resolves, the others stay.
    (folder / "bad-truncated.xlsx").write_bytes(exports.render("zrsd006", exports.zrsd006_rows(), SEED))
    assert run(daily_dag, BAD_FILES) == "success"
    assert alerts(warehouse, "quarantined_file") == {f"{BAD_FILES}/bad-truncated.xlsx": ("critical", "resolved")}
    assert set(alerts(warehouse, "rejected_rows").values()) == {("warning", "active")}


def test_a_failed_run_still_sends_its_summary_naming_the_failed_step(
    warehouse: str, landing: Path, daily_dag, inbox: Inbox, slack: list[dict]
) -> None:
    deliver_good_day(landing, BAD_DATA)
    line = dict(exports.zrsd002_rows(BAD_DATA, exports.zrsd004_rows(BAD_DATA, 20, 7), 7)[0])
    line.update(billing_document="9099999991", billing_item="000010", cancelled="", doc_cancel="", curr="VN$")
    (landing / BAD_DATA.isoformat() / "extra-billing.xlsx").write_bytes(exports.render("zrsd002", [line], 7))

    assert run(daily_dag, BAD_DATA) == "failed"
    subject, body = last_summary(inbox, BAD_DATA)
    assert subject.startswith(f"[warehouse] {BAD_DATA}: FAILED at quality_gate_raw; 2 of 2 reports delivered")
    assert f"raw gate: failed (critical in raw_zrsd002); {RAW_SUITES} suites: " in body
    assert ", 1 failed (1 critical, " in body
    assert "facts gate" not in body  # the run stopped before it
    assert [m["text"].splitlines()[0] for m in slack] == [subject]


HOSTILE = dt.date(2026, 3, 9)


def test_no_single_file_fails_the_date_and_nothing_is_passed_over(
    warehouse: str, landing: Path, daily_dag, inbox: Inbox, slack: list[dict], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hostile names, an oversized CSV cell, hidden and lock files, workbooks still being written:
    each costs at most itself, each is recorded with its reason, the date's good files load."""
    monkeypatch.setenv("AIRFLOW_VAR_SAP_FILE_GIVE_UP_MINUTES", "60")
    deliver_good_day(landing, HOSTILE)
    folder = landing / HOSTILE.isoformat()
    good = sorted(p.name for p in folder.iterdir())
    workbook = (folder / good[0]).read_bytes()
    (folder / "mb51\nsecond part.xlsx").write_bytes(workbook)  # a line break: a URL would drop it
    long_name = "x" * 220 + ".xlsx"
    (folder / long_name).write_bytes(workbook)
    os.close(os.open(os.fsencode(folder) + b"/caf\xe9.xlsx", os.O_CREAT | os.O_WRONLY, 0o644))  # not UTF-8
    (folder / "report..xlsx").write_bytes(b"not a workbook")
    (folder / "huge-cell.csv").write_text("Material;Plant\n" + "A" * 200_000 + ";1201\n")
    (folder / ".hidden.xlsx").write_bytes(workbook)
    (folder / "~$open.xlsx").write_bytes(b"lock")
    half = workbook[: len(workbook) // 2]  # a writer that paused half way: begun as a zip, no end yet
    (folder / "paused.xlsx").write_bytes(half)
    (folder / "abandoned.xlsx").write_bytes(half)
    hours_ago = dt.datetime.now().timestamp() - 2 * 3600
    os.utime(folder / "abandoned.xlsx", (hours_ago, hours_ago))

    assert run(daily_dag, HOSTILE) == "success"

    ledger = {
        name: (status, reason)
        for name, status, reason in query(
            warehouse,
            "SELECT file_name, status, reason FROM operations.etl_file_ledger WHERE business_date = %s",
            HOSTILE,
        )
    }
    assert [ledger[name][0] for name in good] == ["loaded", "loaded"]
    assert ledger["mb51\\nsecond part.xlsx"][0] == "quarantined"
    assert "control character" in ledger["mb51\\nsecond part.xlsx"][1]
    assert ledger["caf\\xe9.xlsx"][0] == "quarantined"
    long_entry = next(name for name in ledger if name.startswith("xxxx"))
    assert "over 200 bytes" in ledger[long_entry][1]
    assert ledger["report..xlsx"][0] == "quarantined"
    assert "not an xlsx workbook" in ledger["report..xlsx"][1]
    assert ledger["huge-cell.csv"][0] == "quarantined"
    assert "export it again" in ledger["huge-cell.csv"][1]
    assert ledger[".hidden.xlsx"][0] == "skipped"
    assert "hidden file" in ledger[".hidden.xlsx"][1]
    assert ledger["~$open.xlsx"][0] == "skipped"
    assert "lock file" in ledger["~$open.xlsx"][1]
    assert ledger["paused.xlsx"][0] == "skipped", "a workbook still being written was taken"
    assert "still being written" in ledger["paused.xlsx"][1]
    assert (folder / "paused.xlsx").read_bytes() == half, "a workbook still being written was touched"
    assert ledger["abandoned.xlsx"][0] == "quarantined"
    assert (folder / "abandoned.xlsx").exists(), "the given-up workbook was taken from under its writer"
    assert (landing.parent / "quarantine" / HOSTILE.isoformat() / "abandoned.xlsx").read_bytes() == half
    assert (landing.parent / "quarantine" / HOSTILE.isoformat() / "mb51\\nsecond part.xlsx").exists()
    assert alerts(warehouse, "quarantined_file")[f"{HOSTILE}/report..xlsx"] == ("critical", "active")

    # A second run records the skipped entries once, and takes the paused workbook once it is whole.
    (folder / "paused.xlsx").write_bytes(workbook)
    past = dt.datetime.now().timestamp() - 120
    os.utime(folder / "paused.xlsx", (past, past))
    assert run(daily_dag, HOSTILE) == "success"
    rows = query(
        warehouse,
        "SELECT file_name, status, count(*) FROM operations.etl_file_ledger WHERE business_date = %s "
        "AND file_name IN ('.hidden.xlsx', 'paused.xlsx') GROUP BY 1, 2 ORDER BY 1",
        HOSTILE,
    )
    assert rows == [(".hidden.xlsx", "skipped", 1), ("paused.xlsx", "duplicate", 1), ("paused.xlsx", "skipped", 1)]
    # The date is repaired (a later run loaded a file, no report is missing): the alert of the file
    # of unknown layout resolves too, though no file of its name ever loads.
    assert alerts(warehouse, "quarantined_file")[f"{HOSTILE}/report..xlsx"] == ("critical", "resolved")
