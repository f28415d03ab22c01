"""
### SAP warehouse: daily load of one business date (or a range of them)

Carries business date **D**'s SAP exports from the landing zone (`<sap_landing_path>/<D>/`, any file
names; each file's report is recognised from its header row) through the warehouse:

1. **resolve_business_date**: D = the `business_date` Param if given, else the first day of the run's
   data interval (Asia/Ho_Chi_Minh). Scheduled runs at 06:00 process the day before. D must lie in
   the warehouse calendar (dims.dim_date), which warehouse_maintenance keeps two years ahead.
   **A range run**: with `business_date_to` as well, the run processes every date D..to as one unit
   (on-call's backfill): every file of every date loaded, each gate once per date inside one task,
   each layer built once for the range, views refreshed once, alerts evaluated as of the last date.
   It does not wait for files (what landed is what there is) and holds every date's lock in order.
2. **wait_for_files**: until every expected report (`sap_expected_reports`) has a file (known by its
   header row, as the load knows it: several files of one report count once) or `sap_files_due_time`
   (plant time, on D+1) has passed; reschedule mode, so no worker slot is held.
3. **discover_files**: D's files, in name order; links, unsupported types and names that cannot travel
   (a line break, bytes that are not UTF-8, over 200 bytes) are quarantined; hidden files, Excel lock
   files and partial downloads are skipped and recorded in the ledger. A file is taken once it has not
   changed for `sap_file_stable_seconds` (60; a copy still being written waits, one still growing
   after five times that is left in the landing folder) and, for a workbook, once its zip is complete:
   an unfinished one is left in place until `sap_file_give_up_minutes` (60) after its last write,
   then copied to quarantine (critical alert).
   **report_late_files**: files waiting in the folders of the `sap_late_file_lookback_days` (7) dates
   before D (dropped there after that date's run, or never loaded) go to operations.late_file and
   raise the critical `late_file` alert naming them: re-run their date.
4. **load_raw_files** (mapped: the run's files cut into tasks of neighbouring files, about equal bytes,
   at least `SAP_WAREHOUSE_LOAD_PARALLELISM` of them (default 2, as many run at once) and one per 200
   files; a year's range run maps about 20): each task on one connection, each file in its own
   transaction: COPY, type, reject bad rows, upsert changed rows by business key, file ledger row;
   then the file moves to the archive. A file already loaded (same sha256) is skipped; an unusable
   file is quarantined and the others still load. The task's log has a line per file, the on-call page
   a row per file.
5. **record_missing_reports**: a `missing` ledger row for each expected report no file delivered.
6. **quality_gate_raw**: the raw suites of include/quality/suites/ (Great Expectations, run as SQL on
   D's raw rows only). A failed critical expectation fails this task and nothing after it runs;
   failed warnings are stored and logged. Results: operations.dq_validation_result.
7. **build_dimensions**: movement types, holidays, materials, customers, locations, kg per unit, for the
   codes D's files mention (inferred members for codes the master data lacks).
8. **build_fact_inventory / build_fact_billing / build_fact_production / build_fact_ar_aging**: each
   fact's slice for D (and the posting or billing dates D's files carried), one transaction each.
9. **build_fact_production_chain**: batch genealogy P03 -> P02 -> P01, after the production orders.
10. **reconcile**: facts against raw rows (revenue, quantities, row counts); a mismatch fails the run.
11. **quality_gate_facts**: the fact suites on D's fact slices (beside reconcile); a critical failure
    stops the run before the views, which keep serving the last good data.
12. **refresh_views**: the five marts views, `REFRESH ... CONCURRENTLY`, in dependency order.
13. **evaluate_alerts**: the alert rules (include/sql/alerts/rules/, thresholds in `alert_*` Variables) as of D
    (or the latest date evaluated, when D is older): new problems open alerts, persisting ones update
    theirs, cleared ones resolve (facts.fact_alert).
14. **notify_alerts**: one e-mail listing the critical alerts not announced yet; nothing when none.

After the run, successful or failed: the morning summary of D (files, rows, gates, alerts) by e-mail
and, with the connection `warehouse_slack`, to Slack.

Safe to re-run: every step is idempotent for D and holds D's advisory lock.
Runbook: docs/runbook.md.
"""

from __future__ import annotations

import datetime as dt
import logging

import pendulum
from airflow.sdk import (
    PokeReturnValue,
    TaskGroup,
    cross_downstream,
    dag,
    get_current_context,
    task,
)

from sap_warehouse.core import business_date as bd
from sap_warehouse.core import settings
from sap_warehouse.core.business_date import DateSpan
from sap_warehouse.core.model import facts as model_facts
from sap_warehouse.dag_support import (
    DAILY_ACTIVE_RUNS,
    MARTS_REFRESHED,
    MorningSummaryNotifier,
    dag_args,
    optional_param,
    run_deadline,
    run_info,
)
from sap_warehouse.timetable import BusinessDayTimetable

# Load tasks run at once (reading is CPU-bound: one per core). Read from the environment, not
# a Variable, because it shapes the DAG and DAG files must not touch the database while parsed.
LOAD_PARALLELISM = settings.value("SAP_WAREHOUSE_LOAD_PARALLELISM")


@dag(
    dag_id="sap_warehouse_daily",
    schedule=BusinessDayTimetable(),
    **{**dag_args(__doc__), "max_active_runs": DAILY_ACTIVE_RUNS},
    deadline=run_deadline("SAP_WAREHOUSE_DAILY_DEADLINE_MINUTES"),
    # One morning summary per run for on-call, whatever the outcome (docs/runbook.md).
    on_success_callback=[MorningSummaryNotifier()],
    on_failure_callback=[MorningSummaryNotifier()],
    params={
        "business_date": optional_param(
            "string",
            "Business date",
            "YYYY-MM-DD. Leave empty to process the run's data interval (the previous day).",
            format="date",
        ),
        "business_date_to": optional_param(
            "string",
            "Business date to (range run)",
            "YYYY-MM-DD, on or after Business date: process every date from Business date to this one in one run "
            f"(a backfill; at most {bd.MAX_RANGE_DAYS} dates). Leave empty for one date.",
            format="date",
        ),
    },
    tags=["sap", "warehouse", "daily"],
)
def sap_warehouse_daily():
    @task
    def resolve_business_date(params=None, data_interval_start=None) -> list[str]:
        """The run's business dates: D, or D..business_date_to for a range run."""
        from airflow.sdk.exceptions import AirflowFailException

        from sap_warehouse.operations import horizon, runs

        try:
            span = bd.resolve_span(params.get("business_date"), params.get("business_date_to"), data_interval_start)
            horizon.check(span.first)
            horizon.check(span.last)
        except (ValueError, horizon.HorizonError) as error:
            raise AirflowFailException(str(error)) from error  # a wrong date or calendar: retries cannot fix it
        runs.record_dates(span, run_info())  # what reports on the run reads (the morning summary)
        return span.iso()  # the tasks after it take the dates as text (the grid shows them as they are)

    @task.sensor(poke_interval=300, timeout=36 * 3600, mode="reschedule", soft_fail=True)
    def wait_for_files(dates: list[str]) -> PokeReturnValue:
        """Until every expected report's file has landed or sap_files_due_time has passed (not for a range)."""
        from sap_warehouse.core.settings import value
        from sap_warehouse.ingest.landing import (
            expected_reports,
            files_due,
            landing_ready,
            location,
            quiet,
            reports_landed,
            reports_waited_for,
            scan,
            still_written,
        )

        span = DateSpan.from_iso(dates)
        if len(span) > 1:
            return PokeReturnValue(is_done=True)  # a range run backfills: what landed is what there is
        day = span.first
        files = quiet(scan(location("landing"), day).files, value("sap_file_stable_seconds"))
        landed = reports_landed([path for path in files if not still_written(path)])  # copies being written wait
        expected = expected_reports()
        due = files_due(day, value("sap_files_due_time"))
        waiting = reports_waited_for(landed, expected)
        if waiting:
            logging.getLogger(__name__).info("%s: waiting for %s (due %s)", day, ", ".join(waiting), due.isoformat())
        return PokeReturnValue(is_done=landing_ready(landed, expected, due, pendulum.now()))

    @task(trigger_rule="none_failed")
    def discover_files(dates: list[str]) -> list[dict]:
        """Each date's whole files, cut into the load tasks ({label, files}); refused entries
        quarantined, skipped ones (hidden, lock files) recorded in the ledger."""
        from sap_warehouse.core.settings import value
        from sap_warehouse.ingest.delivery import batches, discover
        from sap_warehouse.ingest.landing import location

        found = discover(
            DateSpan.from_iso(dates),
            landing=location("landing"),
            quarantine=location("quarantine"),
            stable_seconds=value("sap_file_stable_seconds"),
            give_up_seconds=60 * value("sap_file_give_up_minutes"),
            run=run_info(),
        )
        return batches(found, LOAD_PARALLELISM)

    @task(trigger_rule="none_failed")
    def report_late_files(dates: list[str]) -> list[str]:
        """Files waiting in the folders of the dates before the run's first date (a range loads its own)."""
        from sap_warehouse.core.settings import value
        from sap_warehouse.ingest.landing import late_files, location
        from sap_warehouse.ingest.raw_load import record_late_files

        day = DateSpan.from_iso(dates).first
        lookback = value("sap_late_file_lookback_days")
        return record_late_files(day, late_files(location("landing"), day, lookback), lookback)

    @task(
        max_active_tis_per_dagrun=LOAD_PARALLELISM,
        map_index_template="{{ files_label }}",
        multiple_outputs=False,
        # A mapped task does not take its doc from the docstring.
        doc_md="Neighbouring files of the run on one connection, each in its own transaction: read, type, reject "
        "bad rows, upsert by business key, ledger row; then archived (or quarantined with the reason).",
    )
    def load_raw_files(label: str, files: list[dict]) -> list[dict]:
        from sap_warehouse.core.settings import value
        from sap_warehouse.ingest.landing import location
        from sap_warehouse.ingest.raw_load import load_files

        get_current_context()["files_label"] = label
        landing = location("landing")
        results = load_files(
            [
                (
                    landing / f["business_date"] / f["file_name"],
                    dt.date.fromisoformat(f["business_date"]),
                    f["keep_source"],
                )
                for f in files
            ],
            quarantine_root=location("quarantine"),
            archive_root=location("archive"),
            reject_ratio_max=value("sap_reject_ratio_max"),
            run=run_info(),
        )
        return [result.as_dict() for result in results]

    @task(trigger_rule="none_failed")
    def record_missing_reports(dates: list[str]) -> list[str]:
        """A `missing` ledger row per expected report no file of the date delivered."""
        from sap_warehouse.ingest.landing import expected_reports, location
        from sap_warehouse.ingest.raw_load import record_missing

        missing = []
        for day in DateSpan.from_iso(dates):
            landing = str(location("landing") / day.isoformat())
            missing += [
                f"{day} {report}" for report in record_missing(day, expected_reports(), landing=landing, run=run_info())
            ]
        return missing

    @task(trigger_rule="none_failed", multiple_outputs=False)
    def quality_gate(gate: str, dates: list[str]) -> dict:
        """The gate's suites on each date's slice (a GX Checkpoint per date, its Data Docs pages written to
        Variable warehouse_data_docs_path and named in the log); every date is judged, then one failure
        names them all. The raw gate first ANALYZEs the raw partitions the loads changed much."""
        from airflow.sdk.exceptions import AirflowFailException

        from sap_warehouse.core.settings import value
        from sap_warehouse.gates.quality import QualityGateError, SuiteError, validate_dates
        from sap_warehouse.ingest.landing import location
        from sap_warehouse.operations.maintenance import analyze_changed

        if gate == "raw":  # the partitions the loads changed much get fresh statistics first
            analyze_changed(("raw",))
        try:
            results = validate_dates(
                gate,
                DateSpan.from_iso(dates),
                run=run_info(),
                future_days=value("sap_future_days_max"),
                data_docs=str(location("data_docs")),
            )
        except (QualityGateError, SuiteError) as error:
            raise AirflowFailException(str(error)) from error  # bad data or a bad suite: retries cannot fix it
        outcome = {
            day.isoformat(): {r.suite: {"success": r.success, "warnings": len(r.warnings)} for r in of_date}
            for day, of_date in results.items()
        }
        return outcome[dates[0]] if len(dates) == 1 else outcome

    @task(trigger_rule="none_failed", multiple_outputs=False)
    def build_dimensions(dates: list[str]) -> dict:
        """Dimension members for the codes the dates' rows mention (inferred ones for unknown codes)."""
        from sap_warehouse.build.layers import build_dimensions as build

        return build(DateSpan.from_iso(dates), run=run_info())

    @task(multiple_outputs=False)
    def build_fact(fact: str, dates: list[str]) -> dict:
        """The fact's slice of the dates, rebuilt from raw in one transaction."""
        from sap_warehouse.build.layers import build_fact as build

        return build(fact, DateSpan.from_iso(dates), run=run_info())

    @task
    def reconcile(dates: list[str]) -> list[dict]:
        """Facts against their raw rows (revenue, quantities, row counts); a mismatch fails without retry."""
        from airflow.sdk.exceptions import AirflowFailException

        from sap_warehouse.build.layers import ReconciliationError
        from sap_warehouse.build.layers import reconcile as check

        try:
            return check(DateSpan.from_iso(dates), run=run_info())
        except ReconciliationError as error:
            raise AirflowFailException(str(error)) from error  # the same data gives the same mismatch

    @task(outlets=[MARTS_REFRESHED])
    def refresh_views(dates: list[str]) -> list[str]:
        """REFRESH ... CONCURRENTLY each marts view; the asset event (extra: the dates) starts maintenance."""
        from sap_warehouse.build.layers import refresh_views as refresh

        span = DateSpan.from_iso(dates)
        refreshed = refresh(span, run=run_info())
        get_current_context()["outlet_events"][MARTS_REFRESHED].extra = {
            "business_date": span.first.isoformat(),
            "through": span.last.isoformat(),
        }
        return refreshed

    @task(multiple_outputs=False)
    def evaluate_alerts(dates: list[str]) -> dict:
        """The alert rules as of the (last) date: open new alerts, update persisting ones, resolve cleared ones."""
        from sap_warehouse.signals.alerts import evaluate, thresholds_from_variables

        return evaluate(DateSpan.from_iso(dates).last, limits=thresholds_from_variables(), run=run_info())

    @task
    def notify_alerts() -> list[int]:
        """One e-mail listing the critical alerts not announced yet."""
        from sap_warehouse.signals.alerts import notify_new_critical

        return notify_new_critical(get_current_context())

    day = resolve_business_date()
    files = discover_files(day)
    wait_for_files(day) >> files
    loads = load_raw_files.expand_kwargs(files)
    missing = record_missing_reports(day)
    dims = build_dimensions(day)
    raw_gate = quality_gate.override(task_id="quality_gate_raw")("raw", day)
    loads >> missing >> raw_gate >> dims
    files >> report_late_files(day) >> raw_gate
    # One group in the UI; the task ids stay build_<fact> (no group prefix), as runs, logs and the
    # run log (operations.etl_run_log) name them.
    with TaskGroup("facts", prefix_group_id=False, tooltip="the fact builds of the dates, from raw"):
        facts = {name: build_fact.override(task_id=f"build_{name}")(name, day) for name in model_facts()}
        for name, fact in model_facts().items():
            [facts[before] for before in fact.after] >> facts[name]
    dims >> [facts[name] for name, fact in model_facts().items() if not fact.after]
    checks = [
        reconcile(day),
        quality_gate.override(task_id="quality_gate_facts", trigger_rule="all_success")("facts", day),
    ]
    cross_downstream(list(facts.values()), checks)
    checks >> refresh_views(day) >> evaluate_alerts(day) >> notify_alerts()


sap_warehouse_daily()
