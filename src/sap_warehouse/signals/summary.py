"""The morning summary: one message per business date after each daily run, success or failure.

Reads the warehouse (include/sql/summary/: the date's file ledger, this run's quality gate results,
the open alerts) and writes nothing. Sent by the daily DAG's run callbacks (MorningSummaryNotifier in
dag_support) through Airflow's notifiers: e-mail through the SMTP connection ``warehouse_smtp`` to
the Variable ``warehouse_summary_emails`` (default: ``warehouse_alert_emails``), and Slack through the
connection ``warehouse_slack`` (a Slack incoming webhook) when it exists. A channel whose connection
does not exist is skipped with a warning; one that is configured but cannot send raises.

The headline says what on-call must know first: FAILED (and at which task), NOTHING ARRIVED (no
report of the date; "holiday" when the calendar says no export is expected), INCOMPLETE (a report
missing or a file quarantined), or OK.

    sapwh summary --date 2026-01-07 [--json]     the summary of a date, as its latest run left it
"""

from __future__ import annotations

import datetime as dt
import html
import json
import logging
import sys
from urllib.parse import quote

from sap_warehouse.core import settings
from sap_warehouse.core.db import query_rows, read_only
from sap_warehouse.operations import runs
from sap_warehouse.signals.notify import SLACK_CONN_ID

log = logging.getLogger(__name__)

DAILY_DAG_ID = "sap_warehouse_daily"
SHOWN_ALERTS = 15
UNKNOWN_LAYOUT = "(unknown layout)"  # the report of a file no layout of the registry matched


def collect(
    business_date: dt.date,
    *,
    run_id: str,
    expected: list[str],
    since: dt.datetime | None = None,
    failed_task: str | None = None,
    run_url: str | None = None,
    conninfo: str | None = None,
) -> dict:
    """What the summary of ``business_date`` says: files per report, quarantined files, this run's
    gates, open alerts (new since ``since``), the calendar's word on the date, and the headline."""
    with read_only(conninfo) as conn:
        files = query_rows(conn, "summary/files.sql", {"day": business_date, "expected": expected})
        quarantined = query_rows(conn, "summary/quarantined.sql", {"day": business_date})
        gates = query_rows(conn, "summary/gates.sql", {"day": business_date, "run_id": run_id})
        alerts = query_rows(conn, "summary/alerts.sql", {"since": since})
        calendar = conn.execute(
            "SELECT holiday_name, kind FROM dims.holiday_calendar WHERE calendar_date = %s AND kind <> 'event' "
            "ORDER BY kind, holiday_name LIMIT 1",
            (business_date,),
        ).fetchone()
    missing = [f["report"] for f in files if f["missing"] and f["report"] in expected]
    new_critical = sum(a["is_new"] and a["severity"] == "critical" for a in alerts)
    return {
        "business_date": business_date.isoformat(),
        "run_id": run_id,
        "run_url": run_url,
        "headline": headline(
            failed_task=failed_task,
            nothing_arrived=bool(expected) and len(missing) == len(expected),
            incomplete=bool(missing or quarantined),
            new_critical=new_critical,
            holiday=calendar[0] if calendar else None,
        ),
        "holiday": calendar[0] if calendar else None,
        "files": files,
        "missing": missing,
        "quarantined": quarantined,
        "gates": gates,
        "alerts": alerts,
        "new_alerts": sum(a["is_new"] for a in alerts),
        "new_critical": new_critical,
        "open_critical": sum(a["severity"] == "critical" for a in alerts),
    }


def headline(
    *, failed_task: str | None, nothing_arrived: bool, incomplete: bool, new_critical: int, holiday: str | None
) -> str:
    """The summary's verdict, most urgent first. OK only when the run went through, every expected report
    arrived whole and no critical alert opened in this run: a new critical alert means a person must act
    today, so it is named in the headline ("ATTENTION: 3 new critical"), never folded into OK."""
    attention = f"{new_critical} new critical" if new_critical else ""
    if failed_task:
        return f"FAILED at {failed_task}" + (f"; {attention}" if attention else "")
    if nothing_arrived:
        return "NOTHING ARRIVED" + (f" ({holiday}: none expected)" if holiday else "")
    if attention:
        return f"ATTENTION: {attention}" + ("; INCOMPLETE" if incomplete else "")
    return "INCOMPLETE" if incomplete else "OK"


def _file_line(f: dict) -> str:
    counts = [f"{f[k]} {k.replace('_', ' ')}" for k in ("loaded", "duplicate", "stale_copy", "quarantined") if f[k]]
    if f["missing"] and f["report"] != UNKNOWN_LAYOUT:
        counts.append("MISSING")  # no usable file of the report for the date
    state = ", ".join(counts)
    return (
        f"{f['report']}: {state}; rows {f['rows_loaded']:,} loaded, {f['rows_unchanged']:,} unchanged, "
        f"{f['rows_rejected']:,} rejected, {f['cell_issues']:,} cells as NULL"
    )


def _gate_line(g: dict) -> str:
    """A gate in the one vocabulary of results: failed / warning / passed, then its suites by result."""
    word = "failed" if g["failed"] else "warning" if g["warned"] else "passed"
    failed = f" (critical in {', '.join(g['failed_suites'])})" if g["failed_suites"] else ""
    passed = g["suites"] - g["failed"] - g["warned"]
    return (
        f"{g['gate']} gate: {word}{failed}; {g['suites']} suites: {passed} passed, {g['warned']} warning, "
        f"{g['failed']} failed ({g['critical']} critical, {g['warnings']} warning expectations)"
    )


def _alert_line(a: dict) -> str:
    return f"{'NEW ' if a['is_new'] else ''}{a['severity']} #{a['alert_id']} {a['rule_code']}: {a['message']}"


def _new_critical_lines(alerts: list[dict]) -> list[str]:
    """The critical alerts this run opened, by rule (the rule with the most first), each rule's count
    and its first alerts."""
    by_rule: dict[str, list[dict]] = {}
    for a in alerts:
        if a["is_new"] and a["severity"] == "critical":
            by_rule.setdefault(a["rule_code"], []).append(a)
    out = []
    for rule, found in sorted(by_rule.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        out.append(f"{rule}: {len(found)}")
        out += [f"  #{a['alert_id']} {a['message']}" for a in found[:5]]
        if len(found) > 5:
            out.append(f"  ... and {len(found) - 5} more: sapwh alerts list")
    return out


def lines(summary: dict) -> dict[str, list[str]]:
    """The summary's sections as lines of plain text: the new critical alerts first, by rule."""
    alerts = summary["alerts"]
    shown = [_alert_line(a) for a in alerts[:SHOWN_ALERTS]]
    if len(alerts) > SHOWN_ALERTS:
        shown.append(f"... and {len(alerts) - SHOWN_ALERTS} more: sapwh alerts list")
    return {
        f"New critical alerts ({summary.get('new_critical', 0)})": _new_critical_lines(alerts),
        "Files": [_file_line(f) for f in summary["files"]],
        "Quarantined": [
            f"{q['file_name']} ({q['report'] or 'unknown layout'}): {q['reason']}" for q in summary["quarantined"]
        ],
        "Quality gates": [_gate_line(g) for g in summary["gates"]] or ["no gate ran in this run"],
        f"Open alerts ({summary['new_alerts']} new, {summary['open_critical']} critical)": shown or ["none"],
        "Links": [
            f"run: {summary['run_url'] or summary['run_id']}",
            "runbook: docs/runbook.md",
        ],
    }


def subject(summary: dict) -> str:
    known = [f for f in summary["files"] if f["report"] != UNKNOWN_LAYOUT]
    delivered = sum(not f["missing"] for f in known)
    return (
        f"[warehouse] {summary['business_date']}: {summary['headline']}; {delivered} of {len(known)} "
        f"reports delivered, {len(summary['quarantined'])} quarantined, {summary['new_alerts']} new alerts, "
        f"{summary['open_critical']} critical open"
    )


def render_text(summary: dict) -> str:
    parts = [subject(summary)]
    for title, items in lines(summary).items():
        if items:
            parts.append(f"\n{title}:\n" + "\n".join(f"- {item}" for item in items))
    return "\n".join(parts)


def render_html(summary: dict) -> str:
    """The e-mail body: every value escaped (file names and reasons come from the data)."""
    out = [f"<h3>{html.escape(subject(summary))}</h3>"]
    for title, items in lines(summary).items():
        if items:
            out.append(f"<p><b>{html.escape(title)}</b></p><ul>")
            out.extend(f"<li>{html.escape(item)}</li>" for item in items)
            out.append("</ul>")
    return "\n".join(out)


def _configured(conn_id: str) -> bool:
    from sap_warehouse.signals.notify import connection_exists

    if not connection_exists(conn_id):
        log.warning("no Airflow connection %s: the morning summary is not sent there", conn_id)
        return False
    return True


def deliver(summary: dict, context) -> list[str]:
    """Send ``summary`` through every configured channel; the channels it went to."""
    from airflow.providers.slack.notifications.slack_webhook import SlackWebhookNotifier
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    from sap_warehouse.signals.notify import NOTIFY_CONN_ID

    sent = []
    # notify(), not the notifiers' __call__: the text comes from the data and must not be rendered
    # as a Jinja template.
    if _configured(NOTIFY_CONN_ID):
        SmtpNotifier(
            smtp_conn_id=NOTIFY_CONN_ID,
            to=settings.value("warehouse_summary_emails") or settings.value("warehouse_alert_emails"),
            from_email=settings.value("warehouse_alert_from"),
            subject=subject(summary),
            html_content=render_html(summary),
        ).notify(context)
        sent.append("email")
    if _configured(SLACK_CONN_ID):
        SlackWebhookNotifier(slack_webhook_conn_id=SLACK_CONN_ID, text=render_text(summary)).notify(context)
        sent.append("slack")
    return sent


def _run_url(dag_id: str, run_id: str) -> str | None:
    from airflow.configuration import conf

    base = conf.get("api", "base_url", fallback=None)
    return f"{base.rstrip('/')}/dags/{dag_id}/runs/{quote(run_id, safe='')}" if base else None


def send(context, *, conninfo: str | None = None) -> dict | None:
    """The daily run's callback: the summary of the run's business date, delivered. A run that failed
    before its date was known (a bad Param) has no date: that is logged, the failure e-mail of the
    task tells the rest."""
    from sap_warehouse.core import business_date as bd
    from sap_warehouse.ingest.landing import expected_reports

    run = context.get("dag_run")
    params = context.get("params") or {}
    # The dates the run resolved and recorded; a range run's summary is of its last date, as its alerts are.
    # A run that recorded none (it failed before its dates were known) is read by the same rule again,
    # which says what was wrong with its Params.
    span = runs.recorded_dates(context.get("run_id") or getattr(run, "run_id", ""), conninfo=conninfo)
    if span is None:
        try:
            span = bd.resolve_span(
                params.get("business_date"), params.get("business_date_to"), context.get("data_interval_start")
            )
        except ValueError as error:
            log.error("no morning summary for run %s: %s", context.get("run_id"), error)
            return None
    day = span.last
    ti = context.get("ti")
    failed = ti.task_id if ti is not None and context.get("reason") != "success" else None
    run_id = context.get("run_id") or getattr(run, "run_id", "")
    dag_id = getattr(context.get("dag"), "dag_id", DAILY_DAG_ID)
    summary = collect(
        day,
        run_id=run_id,
        expected=expected_reports(),
        since=getattr(run, "start_date", None),
        failed_task=failed,
        run_url=_run_url(dag_id, run_id),
        conninfo=conninfo,
    )
    summary["sent"] = deliver(summary, context)
    log.info("morning summary of %s (%s) sent to %s", day, summary["headline"], summary["sent"] or "no channel")
    return summary


def _last_run(business_date: dt.date, conninfo: str | None) -> tuple[str, dt.datetime] | None:
    """The latest daily run that recorded a step for the date (a range run counts for each of its
    dates): its run_id and when its first step started."""
    with read_only(conninfo) as conn:
        return conn.execute(
            """SELECT run_id, min(started_at) FROM operations.etl_run_log
                WHERE dag_id = %(dag)s
                  AND %(day)s BETWEEN business_date AND coalesce((details ->> 'through')::date, business_date)
                GROUP BY run_id ORDER BY min(started_at) DESC LIMIT 1""",
            {"dag": DAILY_DAG_ID, "day": business_date},
        ).fetchone()


def _failed_task(run_id: str) -> str | None:
    """The first task of the run that failed, from Airflow's own record (None when none failed or the
    metadata database cannot be read here)."""
    try:
        from airflow.models import TaskInstance
        from airflow.utils.session import create_session
        from airflow.utils.state import TaskInstanceState

        with create_session() as session:
            failed = (
                session.query(TaskInstance.task_id)
                .filter(
                    TaskInstance.dag_id == DAILY_DAG_ID,
                    TaskInstance.run_id == run_id,
                    TaskInstance.state == TaskInstanceState.FAILED,
                )
                .order_by(TaskInstance.start_date)
                .first()
            )
    except Exception as error:  # the summary stands without the run's state (no metadata database here)
        log.warning("the run's task states cannot be read here (%s): a failed task is not named", error)
        return None
    return failed[0] if failed else None


def of_date(business_date: dt.date, *, conninfo: str | None = None) -> dict | None:
    """The summary of ``business_date`` as its latest daily run left it (None: no run recorded a step)."""
    from sap_warehouse.ingest.landing import expected_reports

    found = _last_run(business_date, conninfo)
    if found is None:
        return None
    run_id, started = found
    return collect(
        business_date,
        run_id=run_id,
        expected=expected_reports(),
        since=started,
        failed_task=_failed_task(run_id),
        run_url=_run_url(DAILY_DAG_ID, run_id),
        conninfo=conninfo,
    )


def main(argv: list[str] | None = None) -> int:
    from sap_warehouse.cli import command_parser

    parser = command_parser("summary", "The morning summary of a business date, as its latest daily run left it.")
    parser.add_argument("--date", type=dt.date.fromisoformat, required=True, help="business date, YYYY-MM-DD")
    parser.add_argument("--json", action="store_true", help="the summary as JSON instead of text")
    args = parser.parse_args(argv)
    summary = of_date(args.date)
    if summary is None:
        print(f"{args.date}: NOT RUN (no daily run recorded a step of this date)", file=sys.stderr)
        return 1
    if args.json:
        json.dump(summary, sys.stdout, default=str, indent=2)
        print()
    else:
        print(render_text(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
