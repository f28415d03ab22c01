"""The morning summary's text for a given state (docs/runbook.md): headline, subject, ordering and cutting
of alerts, escaping. Built from dictionaries, no database."""

from __future__ import annotations

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


def verdict(**changes) -> str:
    facts = {"failed_task": None, "nothing_arrived": False, "incomplete": False, "new_critical": 0, "holiday": None}
    return summary.headline(**{**facts, **changes})


def test_the_subject_counts_the_reports_not_the_unrecognised_files() -> None:
    assert summary.subject(state()) == (
        "[warehouse] 2026-03-04: INCOMPLETE; 1 of 2 reports delivered, 1 quarantined, 0 new alerts, 0 critical open"
    )


def test_a_report_with_only_a_quarantined_file_is_missing_and_says_why() -> None:
    text = summary.render_text(state())
    assert "- mb51: 2 loaded; rows 1,200 loaded, 0 unchanged, 3 rejected, 0 cells as NULL" in text
    assert "- zrsd002: 1 quarantined, MISSING;" in text
    assert "- (unknown layout): 1 quarantined; rows 0 loaded" in text
    assert "no gate ran in this run" in text


def test_file_names_and_reasons_are_escaped_in_the_mail() -> None:
    body = summary.render_html(state())
    assert "&lt;b&gt;x&lt;/b&gt;.xlsx (unknown layout): damaged &amp; unreadable" in body
    assert "<b>x</b>" not in body


def test_a_long_list_of_alerts_is_cut_with_the_command_for_the_rest() -> None:
    many = [
        {"alert_id": n, "rule_code": "low_stock", "severity": "warning", "message": f"m{n}", "is_new": n == 1}
        for n in range(1, summary.SHOWN_ALERTS + 4)
    ]
    text = summary.render_text(state(alerts=many, new_alerts=1))
    assert "- NEW warning #1 low_stock: m1" in text
    assert f"#{summary.SHOWN_ALERTS + 1} " not in text
    assert "... and 3 more: sapwh alerts list" in text


def test_the_headline_is_ok_only_without_new_critical_alerts() -> None:
    assert verdict() == "OK"
    assert verdict(new_critical=3) == "ATTENTION: 3 new critical"
    assert verdict(new_critical=1, incomplete=True) == "ATTENTION: 1 new critical; INCOMPLETE"
    assert verdict(incomplete=True) == "INCOMPLETE"
    assert verdict(failed_task="quality_gate_raw", new_critical=2) == "FAILED at quality_gate_raw; 2 new critical"
    assert verdict(nothing_arrived=True, holiday="Tết") == "NOTHING ARRIVED (Tết: none expected)"


def test_new_critical_alerts_come_first_grouped_by_rule() -> None:
    def alert(n: int, rule: str, severity: str = "critical", new: bool = True) -> dict:
        return {"alert_id": n, "rule_code": rule, "severity": severity, "message": f"m{n}", "is_new": new}

    alerts = [
        alert(1, "late_file"),
        alert(2, "low_yield"),
        alert(3, "low_yield"),
        alert(4, "low_yield", new=False),
        alert(5, "negative_stock", "warning"),
    ]
    text = summary.render_text(state(alerts=alerts, new_alerts=4, new_critical=3))
    section = text.split("New critical alerts (3):\n", 1)[1].split("\n\n", 1)[0]
    assert section.splitlines() == ["- low_yield: 2", "-   #2 m2", "-   #3 m3", "- late_file: 1", "-   #1 m1"]
    assert text.index("New critical alerts") < text.index("Files:")
