"""Every setting the pipeline reads, in one table: its name, type, default and what it does.

Airflow Variables (set in the UI, the CLI, a secrets backend or ``AIRFLOW_VAR_<NAME>``; read when a
task runs) and environment variables (read when a DAG file is parsed or a process starts). Code reads
a setting through ``value(name)`` and nowhere else, so a default is written once, here; a value that is
not of the setting's type fails with its name and what it must be. docs/configuration.md's table of
these settings is this table (``python -m sap_warehouse.core.settings`` prints it; a test keeps the two
equal), and airflow_settings.yaml gives the local Airflow every Variable with its default.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from typing import Any

VARIABLE, ENVIRONMENT = "Variable", "env"
KINDS = ("whole number", "number", "text", "time", "list", "location")
TIME = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")
# A setting's value: a whole number, a number, text, a list of text (its kind says which; callers read
# it as that kind, hence value() is typed Any).
Value = int | float | str | list[str]


@dataclass(frozen=True)
class Setting:
    name: str
    kind: str  # one of KINDS
    default: str  # as the Variable would hold it; "" = none (the doc says what happens then)
    doc: str
    source: str = VARIABLE

    def parse(self, raw: str) -> Value:
        """``raw`` as this setting's type; ValueError naming the setting when it is not one."""
        text = raw.strip()
        try:
            if self.kind == "whole number":
                return int(text)
            if self.kind == "number":
                return float(text)
        except ValueError:
            raise ValueError(
                f"{self.label} must be {'a whole number' if self.kind == 'whole number' else 'a number'}, not {raw!r}"
            ) from None
        if self.kind == "time" and not TIME.fullmatch(text):
            raise ValueError(f"{self.label} must be a time of day as HH:MM (plant time), not {raw!r}")
        if self.kind == "list":
            return [part.strip() for part in text.split(",") if part.strip()]
        if self.kind == "location":
            return text.replace("{local}", local_dir())
        return text

    @property
    def label(self) -> str:
        return f"Airflow Variable {self.name}" if self.source == VARIABLE else f"environment variable {self.name}"


def _v(name: str, kind: str, default: str, doc: str) -> Setting:
    return Setting(name, kind, default, doc)


def _env(name: str, kind: str, default: str, doc: str) -> Setting:
    return Setting(name, kind, default, doc, ENVIRONMENT)


TABLE: tuple[Setting, ...] = (
    # Locations: ObjectStoragePath URLs (file://, s3://, ...); {local} is WAREHOUSE_LOCAL_DIR.
    _v("sap_landing_path", "location", "file://{local}/landing", "where SAP exports land, a folder per business date"),
    _v("sap_archive_path", "location", "file://{local}/archive", "where loaded files are kept (never deleted)"),
    _v("sap_quarantine_path", "location", "file://{local}/quarantine", "where refused files go, with the reason"),
    _v("warehouse_backup_path", "location", "file://{local}/backups", "where backups and their manifests are kept"),
    _v(
        "warehouse_data_docs_path",
        "location",
        "file://{local}/data_docs",
        "the quality gates' GX Data Docs site (a local folder or s3://bucket/prefix; docs/quality.md)",
    ),
    # Files and loads
    _v(
        "sap_expected_reports",
        "list",
        "",
        "reports expected every business date (else a `missing` ledger row); empty: the reports "
        "include/config/sap_reports.yaml marks daily",
    ),
    _v(
        "sap_files_due_time",
        "time",
        "09:00",
        "when D's files are due (plant time, on D+1); the daily run waits until then at most",
    ),
    _v(
        "sap_file_stable_seconds",
        "whole number",
        "60",
        "how long a landed file must stay unchanged before it is read (a copy still being written waits; "
        "one still growing after 5x this is left in the landing folder)",
    ),
    _v(
        "sap_file_give_up_minutes",
        "whole number",
        "60",
        "how long an unfinished workbook (its writer paused) stays in the landing folder after its last write "
        "before it is copied to quarantine with a critical `quarantined_file` alert",
    ),
    _v(
        "sap_late_file_lookback_days",
        "whole number",
        "7",
        "how many dates before D the daily run searches for files left in their folders (`late_file` alert)",
    ),
    _v("sap_reject_ratio_max", "number", "0.05", "reject ratio above which a file is quarantined whole"),
    _v(
        "sap_future_days_max",
        "whole number",
        "1",
        "days after D a date in D's files may lie before the raw gate fails critically (after D it warns)",
    ),
    # Operations
    _v(
        "warehouse_horizon_months",
        "whole number",
        "24",
        "how far past its run date the maintenance DAG keeps the calendar and the monthly partitions",
    ),
    _v("warehouse_backup_compression", "whole number", "1", "pg_dump compression level (-Z)"),
    _v("warehouse_backup_keep_daily", "whole number", "7", "daily backups rotation keeps"),
    _v("warehouse_backup_keep_weekly", "whole number", "4", "weekly backups rotation keeps"),
    _v("warehouse_backup_keep_monthly", "whole number", "12", "monthly backups rotation keeps"),
    _v(
        "warehouse_vacuum_min_dead_tuples",
        "whole number",
        "1000",
        "VACUUM (ANALYZE) a table from this many dead tuples",
    ),
    _v("warehouse_vacuum_dead_ratio", "number", "0.1", "... and from this share of its tuples dead"),
    _v("warehouse_analyze_min_changes", "whole number", "1", "ANALYZE a table from this many changed rows"),
    # Who hears about it
    _v(
        "warehouse_alert_emails",
        "text",
        "data-platform@localhost",
        "failure, deadline and critical-alert e-mails go here (comma separated; needs connection warehouse_smtp)",
    ),
    _v("warehouse_alert_from", "text", "airflow@localhost", "the sender of every e-mail"),
    _v("warehouse_summary_emails", "text", "", "the morning summary's recipients; empty: warehouse_alert_emails"),
    # Alert thresholds; the SQL parameter of each is its name without "alert_".
    _v("alert_transit_days", "whole number", "7", "stuck_transit: a transport order in transit this many days warns"),
    _v("alert_transit_critical_days", "whole number", "14", "stuck_transit: ... and from this many it is critical"),
    _v(
        "alert_batch_transit_hours", "whole number", "48", "stuck_transit: a batch between plants this many hours warns"
    ),
    _v(
        "alert_batch_transit_critical_hours",
        "whole number",
        "72",
        "stuck_transit: ... and from this many it is critical",
    ),
    _v(
        "alert_batch_transit_lookback_days",
        "whole number",
        "30",
        "stuck_transit: how far back batch transfers are read",
    ),
    _v(
        "alert_yield_pct",
        "whole number",
        "85",
        "low_yield: a yield (%) below this alerts (info above the warning band)",
    ),
    _v("alert_yield_warning_pct", "whole number", "80", "low_yield: below this it is a warning"),
    _v("alert_yield_critical_pct", "whole number", "70", "low_yield: below this it is critical"),
    _v(
        "alert_yield_window_days",
        "whole number",
        "7",
        "low_yield: orders finished, links made, in this many days are judged",
    ),
    _v(
        "alert_low_stock_critical_ratio",
        "number",
        "0.5",
        "low_stock: on-hand at or below this x the safety stock is critical",
    ),
    _v(
        "alert_ar_min_amount",
        "number",
        "0",
        "ar_overdue: overdue amounts above this alert (91-180 days warn, > 180 critical)",
    ),
    _v(
        "alert_delivery_lookback_days",
        "whole number",
        "7",
        "missing_report, quarantined_file, rejected_rows: how many business dates back deliveries are judged",
    ),
    _v("alert_rejected_rows_pct", "number", "1", "rejected_rows: a file rejecting at least this % of its rows"),
    _v(
        "alert_cell_issues_pct",
        "number",
        "5",
        "rejected_rows: a file loading at least this % of its rows with a cell as NULL",
    ),
    _v(
        "alert_group_above",
        "whole number",
        "20",
        "the alert budget: more conditions of one rule in one evaluation than this are one grouped alert",
    ),
    # Environment variables
    _env(
        "SAP_WAREHOUSE_LOAD_PARALLELISM",
        "whole number",
        "2",
        "load tasks running at once (each loads its files one after another on one connection); read when "
        "the DAG is parsed",
    ),
    _env(
        "SAP_WAREHOUSE_DAILY_DEADLINE_MINUTES",
        "number",
        "240",
        "a daily run unfinished this many minutes after it was queued e-mails on-call once (06:00 -> 10:00)",
    ),
    _env("SAP_WAREHOUSE_BACKUP_DEADLINE_MINUTES", "number", "120", "the same for the backup DAG"),
    _env(
        "SAP_WAREHOUSE_DEADLINES",
        "text",
        "on",
        "`off` drops the deadlines (scripts/dev's test, exec and demo do: `dag.test()` cannot finish a run "
        "of a DAG with a deadline, apache/airflow#73428)",
    ),
    _env(
        "WAREHOUSE_PG_BIN_DIR",
        "text",
        "",
        "pg_dump / pg_restore to use (at least the server's major version); empty: "
        "/usr/lib/postgresql/<server major>/bin, else PATH",
    ),
    _env(
        "SAP_WAREHOUSE_ROOT",
        "text",
        "",
        "the project folder whose include/ the code reads (empty: the checkout or image it is installed from)",
    ),
    _env(
        "WAREHOUSE_LOCAL_DIR", "text", ".local", "the local runtime's folder (cluster, Airflow home, default locations)"
    ),
)
SETTINGS = {setting.name: setting for setting in TABLE}


def local_dir() -> str:
    """WAREHOUSE_LOCAL_DIR as an absolute path (relative to the working directory)."""
    return os.path.abspath(os.environ.get("WAREHOUSE_LOCAL_DIR") or SETTINGS["WAREHOUSE_LOCAL_DIR"].default)


def raw(name: str) -> str:
    """The setting as text: its Variable or environment variable, else its default."""
    setting = SETTINGS[name]
    if setting.source == ENVIRONMENT:
        found = os.environ.get(name)
    else:
        from airflow.sdk import Variable

        found = Variable.get(name, default=None)
    return setting.default if found is None else str(found)


def value(name: str) -> Any:
    """The setting, typed (whole number, number, text, list of text, a location URL)."""
    return SETTINGS[name].parse(raw(name))


def from_environment(name: str) -> Any:
    """A Variable outside Airflow's tasks (a command run by hand): ``AIRFLOW_VAR_<NAME>``, else its default."""
    return SETTINGS[name].parse(os.environ.get(f"AIRFLOW_VAR_{name.upper()}") or SETTINGS[name].default)


def default(name: str) -> Any:
    """The setting's default, typed."""
    return SETTINGS[name].parse(SETTINGS[name].default)


def markdown() -> list[str]:
    """docs/configuration.md's table of the settings."""
    lines = ["| setting | kind | default | what it does |", "| --- | --- | --- | --- |"]
    for s in TABLE:
        shown = f"`{s.default}`" if s.default else "(none)"
        lines.append(f"| `{s.name}` ({s.source}) | {s.kind} | {shown} | {s.doc} |")
    return lines


if __name__ == "__main__":
    print("\n".join(markdown()))
    sys.exit(0)
