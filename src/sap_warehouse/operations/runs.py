"""Which daily run covered which business date, and how it ended: Airflow's own record, read for the
on-call page and the summary command (inside the api-server, or wherever Airflow's metadata database
is configured). And the dates a run resolved, recorded once by its first task in the warehouse's run
log (step ``resolve_business_date``), which what reports on the run afterwards reads instead of
resolving them again (the morning summary).

A run covers the dates of its ``business_date`` / ``business_date_to`` Params, or the first day of
its data interval (business_date.resolve_span); the latest run of a date speaks for it.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import pendulum

from sap_warehouse.core import business_date as bd
from sap_warehouse.core.business_date import DateSpan
from sap_warehouse.core.run_info import RunInfo

log = logging.getLogger(__name__)

DAILY_DAG_ID = "sap_warehouse_daily"
RUNS_READ = 400  # the newest runs looked at: a year of daily runs and the repairs among them


@dataclass(frozen=True)
class RunOfDate:
    run_id: str
    state: str  # Airflow's: queued, running, success, failed
    failed_task: str | None
    started: dt.datetime | None
    span: DateSpan  # the business dates the run covers


def latest_due(now: dt.datetime) -> dt.date:
    """The latest business date whose scheduled run should have started by ``now``: the run of D
    starts at D+1 RUN_HOUR plant time."""
    local = pendulum.instance(now).in_timezone(bd.BUSINESS_TIMEZONE)
    return (local - dt.timedelta(hours=bd.RUN_HOUR)).date() - dt.timedelta(days=1)


def _span_of(conf: dict | None, data_interval_start: dt.datetime | None) -> DateSpan | None:
    conf = conf or {}
    try:
        return bd.resolve_span(conf.get("business_date"), conf.get("business_date_to"), data_interval_start)
    except ValueError:
        return None  # a run with a bad Param covers no date (it failed at resolve_business_date)


def by_date(dates: list[dt.date]) -> dict[dt.date, RunOfDate] | None:
    """The latest daily run of each of ``dates`` that has one; None when Airflow's metadata database
    cannot be read here (the page then says so rather than guessing)."""
    try:
        from airflow.models import DagRun, TaskInstance
        from airflow.utils.session import create_session
        from airflow.utils.state import TaskInstanceState

        wanted = set(dates)
        found: dict[dt.date, RunOfDate] = {}
        with create_session() as session:
            runs = (
                session.query(DagRun)
                .filter(DagRun.dag_id == DAILY_DAG_ID)
                .order_by(DagRun.id.desc())
                .limit(RUNS_READ)
                .all()
            )
            for run in runs:  # newest first: the first run found for a date is its latest
                covered = _span_of(run.conf, run.data_interval_start)
                todo = [d for d in covered or () if d in wanted and d not in found]
                if covered is None or not todo:
                    continue
                failed = None
                if run.state == "failed":
                    first = (
                        session.query(TaskInstance.task_id)
                        .filter(
                            TaskInstance.dag_id == DAILY_DAG_ID,
                            TaskInstance.run_id == run.run_id,
                            TaskInstance.state == TaskInstanceState.FAILED,
                        )
                        .order_by(TaskInstance.start_date)
                        .first()
                    )
                    failed = first[0] if first else None
                entry = RunOfDate(run.run_id, str(run.state), failed, run.start_date, covered)
                for day in todo:
                    found[day] = entry
    except Exception as error:  # the page stands without the runs (no metadata database here)
        log.warning("the daily runs cannot be read here (%s): verdicts without run states", error)
        return None
    return found


def verdict(
    run: RunOfDate | None,
    *,
    known: bool,
    due: bool,
    headline: str | None,
) -> str:
    """One word (and its detail) for a business date: FAILED at <task>, RUNNING, NOT RUN (due and no
    run covered it), else the summary's headline of the date (OK, ATTENTION, INCOMPLETE, NOTHING
    ARRIVED). ``known``: whether runs could be read at all; ``due``: whether the date's run should have
    started; ``headline``: the date's summary headline from the warehouse."""
    if known and run is not None:
        if run.state == "failed":
            return f"FAILED at {run.failed_task}" if run.failed_task else "FAILED"
        if run.state in ("running", "queued"):
            return "RUNNING"
    if known and run is None:
        return "NOT RUN" if due else "NOT DUE"
    return headline or "NOT RUN"


RESOLVED_STEP = "resolve_business_date"


def record_dates(span: DateSpan, run: RunInfo, *, conninfo: str | None = None) -> None:
    """The run's business dates, as its first task resolved them, in operations.etl_run_log."""
    from sap_warehouse.core.db import connect, record_step

    with connect(conninfo) as conn:
        details = {"dates": span.iso(), "through": span.last.isoformat()}
        record_step(conn, run, span.first, RESOLVED_STEP, len(span), details, dt.datetime.now(dt.UTC))


def recorded_dates(run_id: str, *, conninfo: str | None = None) -> DateSpan | None:
    """The business dates run ``run_id`` recorded when it resolved them (None: it recorded none, e.g. it
    failed before its dates were known)."""
    from sap_warehouse.core.db import read_only

    with read_only(conninfo) as conn:
        found = conn.execute(
            "SELECT details -> 'dates' FROM operations.etl_run_log WHERE run_id = %s AND step = %s "
            "ORDER BY started_at DESC LIMIT 1",
            (run_id, RESOLVED_STEP),
        ).fetchone()
    return DateSpan.from_iso(found[0]) if found else None
