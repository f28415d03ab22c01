"""Alerts: the rules of include/sql/alerts/rules/ judged against the warehouse, kept in facts.fact_alert with a
lifecycle, and new critical alerts e-mailed in one message per run.

Each rule is one SQL file that writes the conditions it finds (rule, entity, severity, value,
threshold, message) into the temporary table ``alert_condition``; include/sql/alerts/lifecycle.sql
then opens an alert for each new condition, updates the open alert of a persisting one and resolves
the open alerts whose condition is gone. Thresholds are Airflow Variables (``THRESHOLDS`` holds the
names and defaults).

The alerts describe the warehouse as of the latest business date evaluated so far: a run for an older
date (a backfill, a corrected file) judges that latest date again, with the corrected history, rather
than rewinding the alerts to the past. Judging the same date twice changes nothing.

    sapwh alerts list [--all]           open alerts (or every alert), newest first
    sapwh alerts ack ALERT_ID... --by NAME [--note TEXT]   acknowledge open alerts
    sapwh alerts unack ALERT_ID --by NAME                  take an acknowledgement back
"""

from __future__ import annotations

import datetime as dt
import html
import json
import logging
import sys
from typing import Any

import psycopg
from psycopg.rows import dict_row

from sap_warehouse.core import settings
from sap_warehouse.core.db import column_names, connect, first_row, record_step, run_sql_file
from sap_warehouse.core.registry import SQL_DIR, site, sql_file
from sap_warehouse.core.run_info import MANUAL, RunInfo

log = logging.getLogger(__name__)

# The rules: every file of include/sql/alerts/rules/, each opening with what its condition means
# (docs/alerts.md). Beside them in include/sql/alerts/, what the rules share: the table they fill, the
# budget that groups a flood, the lifecycle that applies it.
RULES = tuple(sorted(p.stem for p in (SQL_DIR / "alerts" / "rules").glob("*.sql")))

# Airflow Variable -> default (sap_warehouse.core.settings: every alert_* setting). The SQL parameter is the
# name without the ``alert_`` prefix.
THRESHOLDS: dict[str, Any] = {name: settings.default(name) for name in settings.SETTINGS if name.startswith("alert_")}

ALERTS_LOCK = "sap_warehouse.signals.alerts"


def thresholds(values: dict[str, str | float | None] | None = None) -> dict[str, Any]:
    """The SQL parameters of the thresholds: ``values`` (by Variable name; missing or None = default),
    each checked to be a number (a whole one where the default is)."""
    values = values or {}
    return {
        name.removeprefix("alert_"): default
        if values.get(name) is None
        else settings.SETTINGS[name].parse(str(values[name]))
        for name, default in THRESHOLDS.items()
    }


def thresholds_from_variables() -> dict[str, float]:
    """The thresholds as the Airflow Variables set them (inside a task)."""
    return {name.removeprefix("alert_"): settings.value(name) for name in THRESHOLDS}


def _site_tolerances() -> dict[str, float]:
    """The tolerances the site sets in site.yaml (stock_drift: tolerance_qty, tolerance_pct)."""
    drift = site().get("stock_drift") or {}
    return {
        "stock_drift_tolerance_qty": float(drift.get("tolerance_qty", 1)),
        "stock_drift_tolerance_pct": float(drift.get("tolerance_pct", 0.5)),
    }


def evaluate(
    business_date: dt.date,
    *,
    limits: dict[str, float] | None = None,
    run: RunInfo = MANUAL,
    conninfo: str | None = None,
) -> dict:
    """Judge every rule as of the later of ``business_date`` and the latest date judged before, and
    apply the lifecycle, in one transaction; what it found and did."""
    started = dt.datetime.now(dt.UTC)
    params = limits or thresholds()
    with connect(conninfo) as conn:
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (ALERTS_LOCK,))
        as_of = conn.execute(
            "SELECT greatest(%s::date, max(as_of_date)) FROM operations.alert_evaluation", (business_date,)
        ).fetchone()[0]
        conn.execute(sql_file("alerts/condition_table.sql"))
        sql_params = {**params, **_site_tolerances(), "as_of": as_of, "rules": list(RULES)}
        for rule in RULES:
            run_sql_file(conn, f"alerts/rules/{rule}.sql", sql_params)
        conditions = dict(conn.execute("SELECT severity, count(*) FROM alert_condition GROUP BY severity").fetchall())
        run_sql_file(conn, "alerts/budget.sql", sql_params)
        grouped = [row[0] for row in conn.execute("SELECT rule_code FROM alert_condition WHERE entity_key = 'group'")]
        with psycopg.ClientCursor(conn) as cur:
            cur.execute(sql_file("alerts/lifecycle.sql"), sql_params)
            opened, updated, resolved = first_row(cur)
        conn.execute(
            """INSERT INTO operations.alert_evaluation (as_of_date, business_date, dag_id, run_id, conditions,
                                                        opened, updated, resolved, thresholds)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)""",
            (
                as_of,
                business_date,
                run.dag_id,
                run.run_id,
                sum(conditions.values()),
                opened,
                updated,
                resolved,
                json.dumps(params),
            ),
        )
        result = {
            "as_of": as_of.isoformat(),
            "conditions": conditions,
            "grouped": sorted(grouped),
            "opened": opened,
            "updated": updated,
            "resolved": resolved,
        }
        record_step(conn, run, business_date, "alerts", opened + updated + resolved, result, started)
    if as_of != business_date:
        log.info(
            "alerts judged as of %s, the latest business date evaluated (this run is for %s)", as_of, business_date
        )
    log.info("alerts as of %s: %s", as_of, result)
    return result


def unnotified_critical(conn: psycopg.Connection) -> list[dict]:
    """Open critical alerts not e-mailed yet (new, or escalated to critical), oldest first."""
    cur = conn.execute(
        """SELECT alert_id, rule_code, entity_key, message, current_value, threshold_value, first_business_date,
                  last_business_date, status
             FROM facts.fact_alert
            WHERE status <> 'resolved' AND severity = 'critical' AND notified_at IS NULL
            ORDER BY alert_id"""
    )
    names = column_names(cur)
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def digest(alerts: list[dict]) -> tuple[str, str]:
    """Subject and HTML body of the one message that announces ``alerts`` (data escaped, never
    rendered as a template)."""
    as_of = max(a["last_business_date"] for a in alerts)
    subject = f"[warehouse] {len(alerts)} new critical alert{'s' if len(alerts) != 1 else ''} as of {as_of}"
    rows = "".join(
        f"<tr><td>{a['alert_id']}</td><td>{html.escape(a['rule_code'])}</td><td>{html.escape(a['entity_key'])}</td>"
        f"<td>{html.escape(a['message'])}</td><td>{a['first_business_date']}</td></tr>"
        for a in alerts
    )
    body = (
        f"<p>{len(alerts)} critical alert(s) opened or escalated as of business date {as_of}.</p>"
        "<table><tr><th>id</th><th>rule</th><th>entity</th><th>what</th><th>since</th></tr>"
        f"{rows}</table>"
        "<p>Acknowledge on the on-call page (Airflow UI, Browse &gt; Warehouse on-call) or with "
        "<code>sapwh alerts ack ID --by NAME</code>. "
        "Rules and what to do: docs/alerts.md.</p>"
    )
    return subject, body


def notify_new_critical(context, *, conninfo: str | None = None) -> list[int]:
    """E-mail the open critical alerts not announced yet, in one message, through the notifier of the
    connection ``warehouse_smtp``; mark them notified once sent. Nothing new: nothing is sent. Without
    the connection they are logged and stay unannounced; a connection that cannot send (wrong host,
    refused login) raises, the alerts stay unannounced and the task fails."""
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    from sap_warehouse.signals.notify import NOTIFY_CONN_ID, connection_exists

    with connect(conninfo) as conn:
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (ALERTS_LOCK,))
        alerts = unnotified_critical(conn)
        if not alerts:
            log.info("no new critical alerts: nothing sent")
            return []
        ids = [a["alert_id"] for a in alerts]
        if not connection_exists(NOTIFY_CONN_ID):  # e-mail not configured at all; a broken one fails below
            log.warning(
                "no Airflow connection %s: %d new critical alerts are not e-mailed: %s",
                NOTIFY_CONN_ID,
                len(alerts),
                ids,
            )
            return []
        subject, body = digest(alerts)
        notifier = SmtpNotifier(
            smtp_conn_id=NOTIFY_CONN_ID,
            to=settings.value("warehouse_alert_emails"),
            from_email=settings.value("warehouse_alert_from"),
            subject=subject,
            html_content=body,
        )
        # notify(), not the notifier's __call__: alert text comes from the data and must not be
        # rendered as a Jinja template.
        notifier.notify(context)
        conn.execute("UPDATE facts.fact_alert SET notified_at = clock_timestamp() WHERE alert_id = ANY(%s)", (ids,))
    log.info("e-mailed %d new critical alerts: %s", len(ids), ids)
    return ids


def acknowledge(alert_id: int, by: str, *, note: str | None = None, conninfo: str | None = None) -> None:
    """Mark an open alert acknowledged by ``by`` (with ``note``: what is being done); it stays
    acknowledged while its condition lasts."""
    acknowledge_many([alert_id], by, note=note, conninfo=conninfo)


def acknowledge_many(
    alert_ids: list[int], by: str, *, note: str | None = None, conninfo: str | None = None
) -> list[int]:
    """Acknowledge every one of ``alert_ids`` that is active, in one transaction, with one note; a
    ValueError names the ids that are not (unknown, already acknowledged, resolved) and changes nothing."""
    with connect(conninfo) as conn:
        done = [
            row[0]
            for row in conn.execute(
                """UPDATE facts.fact_alert SET status = 'acknowledged', acknowledged_at = clock_timestamp(),
                          acknowledged_by = %s, acknowledged_note = nullif(btrim(%s), '')
                    WHERE alert_id = ANY(%s) AND status = 'active' RETURNING alert_id""",
                (by, note, list(alert_ids)),
            )
        ]
        refused = sorted(set(alert_ids) - set(done))
        if refused:  # the error leaves the transaction: nothing is acknowledged
            states = dict(
                conn.execute(
                    "SELECT alert_id, status FROM facts.fact_alert WHERE alert_id = ANY(%s)", (refused,)
                ).fetchall()
            )
            why = "; ".join(
                f"alert {i} is {states[i]}, not active" if i in states else f"no alert {i}" for i in refused
            )
            raise ValueError(f"{why}: nothing acknowledged (see `sapwh alerts list`)")
    return done


def unacknowledge(alert_id: int, by: str, *, conninfo: str | None = None) -> None:
    """Take an acknowledgement back: the alert is active again (on-call's to act on), its
    acknowledgement cleared; logged with who did it."""
    with connect(conninfo) as conn:
        row = conn.execute(
            """UPDATE facts.fact_alert SET status = 'active', acknowledged_at = NULL, acknowledged_by = NULL,
                      acknowledged_note = NULL
                WHERE alert_id = %s AND status = 'acknowledged' RETURNING alert_id""",
            (alert_id,),
        ).fetchone()
        if row is None:
            state = conn.execute("SELECT status FROM facts.fact_alert WHERE alert_id = %s", (alert_id,)).fetchone()
            if state is None:
                raise ValueError(f"no alert {alert_id}: see `sapwh alerts list`")
            raise ValueError(f"alert {alert_id} is {state[0]}, not acknowledged: nothing to take back")
    log.info("alert %s: acknowledgement taken back by %s", alert_id, by)


def main(argv: list[str] | None = None) -> int:
    from sap_warehouse.cli import command_parser

    parser = command_parser("alerts", "The warehouse's alerts.")
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="open alerts, newest first")
    listing.add_argument("--all", action="store_true", help="resolved ones too")
    listing.add_argument("--severity", choices=("critical", "warning", "info"), help="only this severity")
    listing.add_argument("--rule", choices=RULES, help="only this rule's alerts")
    listing.add_argument("--limit", type=int, default=100, help="at most this many, newest first")
    listing.add_argument("--json", action="store_true", help="a JSON array instead of a table")
    detail = commands.add_parser("show", help="one alert in full; a grouped alert with every member")
    detail.add_argument("alert_id", type=int)
    detail.add_argument("--json", action="store_true", help="a JSON array instead of a table")
    ack = commands.add_parser("ack", help="acknowledge open alerts")
    ack.add_argument("alert_ids", type=int, nargs="+", metavar="ALERT_ID")
    ack.add_argument("--by", required=True, help="who takes care of it")
    ack.add_argument("--note", help="what is being done, by when")
    unack = commands.add_parser("unack", help="take an acknowledgement back: the alert is active again")
    unack.add_argument("alert_id", type=int)
    unack.add_argument("--by", required=True, help="who takes it back")
    args = parser.parse_args(argv)
    if args.command in ("ack", "unack"):
        try:
            if args.command == "ack":
                acknowledge_many(args.alert_ids, args.by, note=args.note)
            else:
                unacknowledge(args.alert_id, args.by)
        except ValueError as error:
            print(error, file=sys.stderr)
            return 1
        done = "acknowledged" if args.command == "ack" else "active again"
        ids = args.alert_ids if args.command == "ack" else [args.alert_id]
        print(f"alert{'s' if len(ids) > 1 else ''} {', '.join(map(str, ids))} {done} ({args.by})")
        return 0
    from sap_warehouse.cli import show

    if args.command == "show":
        return _show(args.alert_id, as_json=args.json)
    with connect() as conn, conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            """SELECT alert_id, severity, status, rule_code, entity_key, first_business_date, last_business_date,
                      acknowledged_by, message
                 FROM facts.fact_alert
                WHERE (%(all)s OR status <> 'resolved')
                  AND (%(severity)s::text IS NULL OR severity = %(severity)s)
                  AND (%(rule)s::text IS NULL OR rule_code = %(rule)s)
                ORDER BY alert_id DESC
                LIMIT %(limit)s""",
            {"all": args.all, "severity": args.severity, "rule": args.rule, "limit": args.limit + 1},
        ).fetchall()
    title = "alerts" if args.all else "open alerts"
    if len(rows) > args.limit:
        rows = rows[: args.limit]
        title += f" (the newest {args.limit}; --limit for more)"
    show(rows, as_json=args.json, title=title)
    return 0


def _show(alert_id: int, *, as_json: bool) -> int:
    """An alert's fields, then its members (a grouped alert) as a table."""
    from sap_warehouse.cli import show

    with connect() as conn, conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute("SELECT * FROM facts.fact_alert WHERE alert_id = %s", (alert_id,)).fetchone()
    if row is None:
        print(f"no alert {alert_id}: sapwh alerts list --all", file=sys.stderr)
        return 1
    details = row["details"] or {}
    members = details.get("members") or ([{"code": code} for code in details["codes"]] if "codes" in details else None)
    if members is None:
        show([row], as_json=as_json, title=f"alert {alert_id}")
    else:
        show(members, as_json=as_json, title=f"alert {alert_id}: {row['message']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
