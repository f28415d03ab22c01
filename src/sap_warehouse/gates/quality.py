"""Quality gates: the Great Expectations suites of include/quality/suites/ run on one business date.

Reads the suite files (one per raw table and one per fact; Great Expectations' own JSON with additions
in ``meta``: ``gate``, the gate the suite belongs to, and ``batch_query``, the SQL that selects
business date D's slice, ``:business_date`` standing for D; a raw suite names its ``report`` instead,
and its structural checks come from the registry: required columns filled, business key unique, code
formats, rows matching the ledger; the file adds what the registry cannot say; a fact's suite names its
``fact``, and its slice is the model's, the rows the fact's build of D rewrites: sap_warehouse.core.model)
and the warehouse through a GX SQL data source, so every expectation runs as SQL inside PostgreSQL on
D's slice only. Writes one row per suite to operations.dq_validation_result. A failed expectation of
severity ``critical`` raises QualityGateError after the results are stored (the gate task fails, the
layers downstream do not run); failed ``warning`` expectations are stored and logged and let the date
go on. A range of dates (a range run's) is screened first in SQL written from the suites' expectations
(sap_warehouse.gates.range_gate); GX validates the last date and, on the others, only what the screen found
failing there, but for warnings on column values, read in SQL as GX reports them: each date's stored
verdict is the one a run of that date alone stores.

Inside the SQL of a suite (``batch_query``, ``unexpected_rows_query``) ``:business_date`` is replaced by
D as a date literal; ``{batch}`` is D's slice (GX aliases it: select from it in a CTE, never alias it
yourself). Expectation parameters available to every suite: ``business_date``, ``month_ago`` (D - 31),
``next_day`` (D + 1) and ``future_limit`` (D + the days an export may run ahead of its business date,
Variable ``sap_future_days_max``: an export taken on the morning of D+1 carries D+1's first postings),
as ISO dates, and ``known_movement_types`` (the movement types of include/config/site.yaml).

Validate the suites of a date by hand (no task, nothing blocked; results stored like the DAG's):

    sapwh quality --gate raw --date 2026-01-05
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import datetime as dt
import json
import logging
import os
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

from sap_warehouse.core import model, settings
from sap_warehouse.core.business_date import DateSpan
from sap_warehouse.core.db import (
    column_names,
    connect,
    first_row,
    lock_business_date,
    sqlalchemy_url,
    warehouse_conninfo,
)
from sap_warehouse.core.progress import track
from sap_warehouse.core.registry import PROJECT_ROOT, Report, formats, reports, site
from sap_warehouse.core.run_info import MANUAL, RunInfo
from sap_warehouse.gates import range_gate

log = logging.getLogger(__name__)

SUITES_DIR = PROJECT_ROOT / "include" / "quality" / "suites"
GATES = ("raw", "facts")
SEVERITIES = ("critical", "warning")
DATE_TOKEN = model.DATE_TOKEN
SAMPLE_SIZE = 5
DATA_DOCS_SITE = "warehouse"  # the GX name of the Data Docs site (sap_warehouse.gates.data_docs)
FUTURE_DAYS = settings.default("sap_future_days_max")


class SuiteError(ValueError):
    """A suite file is not a valid Great Expectations suite for this project, or the gates' own
    configuration (the Data Docs location) is wrong: retrying cannot fix it."""


class QualityGateError(RuntimeError):
    """A critical expectation failed: the business date must not flow on until its data is fixed."""


@dataclass(frozen=True)
class Suite:
    name: str
    gate: str
    batch_query: str
    spec: dict  # the file's content, as written
    path: Path
    only: frozenset[int] | None = None  # validate these expectations (numbers) only: a range screen's failures

    def numbered(self) -> dict:
        """A copy of the suite's spec, each expectation's ``meta.number`` its place in the suite (the
        expectations of ``only`` alone, when set)."""
        spec = copy.deepcopy(self.spec)
        for number, expectation in enumerate(spec["expectations"], 1):
            expectation.setdefault("meta", {})["number"] = number  # which one failed, in the stored result
        if self.only is not None:
            spec["expectations"] = [e for e in spec["expectations"] if e["meta"]["number"] in self.only]
        return spec

    def for_date(self, business_date: dt.date):
        """The GX ExpectationSuite with D in its SQL."""
        from great_expectations.core.expectation_suite import ExpectationSuite

        spec = self.numbered()
        for expectation in spec["expectations"]:
            query = expectation["kwargs"].get("unexpected_rows_query")
            if isinstance(query, str):
                expectation["kwargs"]["unexpected_rows_query"] = with_date(query, business_date)
        return ExpectationSuite(**spec)


@dataclass
class SuiteResult:
    suite: str
    gate: str
    success: bool
    statistics: dict
    failures: list[dict] = field(default_factory=list)

    @property
    def critical(self) -> list[dict]:
        return [f for f in self.failures if f["severity"] == "critical"]

    @property
    def warnings(self) -> list[dict]:
        return [f for f in self.failures if f["severity"] == "warning"]


def with_date(text: str, business_date: dt.date) -> str:
    """``text`` with every ``:business_date`` replaced by D as an SQL date literal."""
    return DATE_TOKEN.sub(f"DATE '{business_date.isoformat()}'", text)


def _bound(text: str) -> str:
    """``text`` with every ``:business_date`` as the psycopg parameter ``%(business_date)s``."""
    return DATE_TOKEN.sub("%(business_date)s", text.replace("%", "%%"))


def expectation_parameters(business_date: dt.date, future_days: int = FUTURE_DAYS) -> dict:
    return {
        "business_date": business_date.isoformat(),
        "month_ago": (business_date - dt.timedelta(days=31)).isoformat(),
        "next_day": (business_date + dt.timedelta(days=1)).isoformat(),
        "future_limit": (business_date + dt.timedelta(days=future_days)).isoformat(),
        "known_movement_types": sorted(site()["movement_types"]),
    }


def _gx():
    """Great Expectations, imported on first use (3-4 s) and never phoning home."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    import great_expectations as gx

    return gx


# Every column a raw table has besides the report's own (the loader's provenance and key columns).
RAW_OWN_COLUMNS = {
    "raw_data",
    "source_file",
    "source_row",
    "loaded_at",
    "row_hash",
    "business_date",
    "occurrence",
    "superseded_on",
    "superseded_by",
}
RAW_BATCH = "SELECT * FROM raw.{table} WHERE business_date = :business_date"
LEDGER_CHECK = (
    "WITH slice AS (SELECT count(*) AS rows_in_slice FROM {{batch}}), ledger AS (SELECT coalesce(sum(rows_inserted "
    "+ rows_updated), 0) AS rows_written FROM operations.etl_file_ledger WHERE business_date = :business_date AND "
    "report = '{code}' AND status = 'loaded') SELECT rows_in_slice, rows_written FROM slice, ledger "
    "WHERE rows_in_slice > rows_written"
)


def unique_key(report: Report) -> list[str]:
    """The columns that tell the lines of one business date apart."""
    if report.key_strategy == "content_occurrence":
        return [*report.key, "row_hash", "occurrence", *([report.partition_column] if report.partition_column else [])]
    return list(report.key)


def registry_expectations(report: Report) -> list[dict]:
    """The raw gate's structural checks of ``report``, from sap_reports.yaml: required columns filled
    (but the partition column, which the table itself keeps NOT NULL), the business key unique, each
    code in its format, and the date's rows written by files the ledger records."""
    expectations = [
        {
            "type": "expect_column_values_to_not_be_null",
            "kwargs": {"column": col.name},
            "severity": "critical",
            "meta": {
                "why": f"{col.name} is required in {report.code}: the loader rejects a line without it, so an "
                "empty value means a line bypassed the load's checks and its totals cannot be trusted"
            },
        }
        for col in report.columns
        if col.required and col.name != report.partition_column
    ]
    key = unique_key(report)
    expectations.append(
        {
            "type": "expect_compound_columns_to_be_unique" if len(key) > 1 else "expect_column_values_to_be_unique",
            "kwargs": {"column_list": key} if len(key) > 1 else {"column": key[0]},
            "severity": "critical",
            "meta": {
                "why": f"the business key ({', '.join(key)}) must be unique: a repeated key means a line is "
                "counted twice"
            },
        }
    )
    for col in report.columns:
        if col.format:
            shape = formats()[col.format]
            expectations.append(
                {
                    "type": "expect_column_values_to_match_regex",
                    "kwargs": {"column": col.name, "regex": shape.regex},
                    "severity": shape.severity,
                    "meta": {"format": shape.name, "why": shape.why},
                }
            )
    expectations.append(
        {
            "type": "unexpected_rows_expectation",
            "kwargs": {"unexpected_rows_query": LEDGER_CHECK.format(code=report.code)},
            "severity": "critical",
            "meta": {
                "check": "rows_match_ledger",
                "why": "every raw row of the date was written by a file the ledger records: a row no file "
                "accounts for means the date's totals include data of unknown origin",
            },
        }
    )
    return expectations


def _with_registry(spec: dict, where: str) -> dict:
    """A raw suite (``meta.report``) whole: the registry's checks, then the file's own, which must
    neither repeat nor contradict the registry nor name a column the report does not have."""
    code = spec["meta"]["report"]
    report = reports().get(code)
    if report is None:
        raise SuiteError(f"{where}: meta.report {code!r} is not a report of sap_reports.yaml")
    columns = {c.name for c in report.columns} | RAW_OWN_COLUMNS
    required = {c.name for c in report.columns if c.required}
    shaped = {c.name: c.format for c in report.columns if c.format}
    for number, expectation in enumerate(spec["expectations"], 1):
        kind, kwargs = expectation.get("type"), expectation.get("kwargs") or {}
        named = kwargs.get("column_list") or [kwargs.get("column")]
        label = f"{where}: expectation {number} ({kind}"
        repeats = (
            (kind == "expect_column_values_to_not_be_null" and kwargs.get("column") in required)
            or kind in ("expect_compound_columns_to_be_unique", "expect_column_values_to_be_unique")
            or (kind == "expect_column_values_to_match_regex" and kwargs.get("column") in shaped)
        )
        if repeats:
            raise SuiteError(
                f"{label} on {', '.join(c for c in named if c)}) is the registry's to say (required, key or format "
                f"of {code} in include/config/sap_reports.yaml): remove it from the suite, or change the registry"
            )
        unknown = [c for c in named if c and c not in columns]
        if unknown:
            raise SuiteError(
                f"{label}) names {', '.join(unknown)}, which include/config/sap_reports.yaml does not list for "
                f"{code}: fix the column name in the suite or add the column to the registry"
            )
    batch_query = RAW_BATCH.format(table=report.raw_table)
    return {
        **spec,
        "meta": {"batch_query": batch_query, **spec["meta"]},
        "expectations": [*registry_expectations(report), *spec["expectations"]],
    }


def _with_model(spec: dict, where: str) -> dict:
    """A fact's suite (``meta.fact``) judges the fact's slice as the model defines it (sap_warehouse.core.model and
    include/sql/slices/): the rows the build of D rewrites, no more, no fewer."""
    fact = model.facts().get(spec["meta"]["fact"])
    if fact is None:
        raise SuiteError(
            f"{where}: meta.fact {spec['meta']['fact']!r} is not a fact of the model (src/sap_warehouse/core/model.py)"
        )
    if "batch_query" in spec["meta"]:
        raise SuiteError(
            f"{where}: a fact's slice is the model's (include/sql/slices/{fact.dates}.sql): remove meta.batch_query"
        )
    return {**spec, "meta": {**spec["meta"], "batch_query": fact.slice_query()}}


def load_suite(path: Path) -> Suite:
    """One suite file, checked: GX's schema (every expectation built and its arguments validated by
    GX), plus this project's rules (gate, batch_query, an explicit severity on every expectation)."""
    _gx()
    from great_expectations.core.expectation_suite import expectationSuiteSchema
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    where = str(path.relative_to(PROJECT_ROOT)) if path.is_relative_to(PROJECT_ROOT) else str(path)
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise SuiteError(f"{where}: not readable JSON ({error}); fix the file") from error
    if not isinstance(spec, dict) or not isinstance(spec.get("expectations"), list):
        raise SuiteError(f"{where}: a suite is a JSON object with a list of expectations")
    if spec.get("name") != path.stem:
        raise SuiteError(f"{where}: the suite's name must be the file's name ({path.stem!r}), not {spec.get('name')!r}")
    meta = spec.get("meta") or {}
    if meta.get("gate") not in GATES:
        raise SuiteError(f"{where}: meta.gate must be one of {', '.join(GATES)}, not {meta.get('gate')!r}")
    for number, expectation in enumerate(spec["expectations"], 1):  # numbered as in the file
        label = f"{where}: expectation {number} ({expectation.get('type')})"
        if expectation.get("severity") not in SEVERITIES:
            raise SuiteError(f'{label} needs "severity": "critical" or "warning", not {expectation.get("severity")!r}')
        try:  # GX's suite constructor logs and skips an invalid expectation; building one alone raises
            ExpectationConfiguration(**expectation).to_domain_obj()
        except Exception as error:  # unknown type (GX's error) or bad arguments (pydantic's)
            raise SuiteError(f"{label} is not a valid Great Expectations expectation: {error}") from error
    if meta.get("report"):
        spec = _with_registry(spec, where)
        meta = spec["meta"]
    elif meta.get("fact"):
        spec = _with_model(spec, where)
        meta = spec["meta"]
    query = meta.get("batch_query")
    if not isinstance(query, str) or not DATE_TOKEN.search(query):
        raise SuiteError(f"{where}: meta.batch_query must be a SELECT of the date's slice using :business_date")
    try:
        expectationSuiteSchema.load(spec)
    except Exception as error:  # marshmallow's ValidationError, or GX's own
        raise SuiteError(f"{where}: not a valid Great Expectations suite: {error}") from error
    return Suite(name=spec["name"], gate=meta["gate"], batch_query=query, spec=spec, path=path)


def load_suites(gate: str | None = None, directory: Path | None = None) -> list[Suite]:
    """The suites of ``gate`` (all gates when None), in file name order."""
    if gate is not None and gate not in GATES:
        raise ValueError(f"unknown gate {gate!r}: one of {', '.join(GATES)}")
    suites = [load_suite(p) for p in sorted((directory or SUITES_DIR).glob("*.json"))]
    return [s for s in suites if gate is None or s.gate == gate]


def _context():
    gx = _gx()
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        progress_bars=ProgressBarsConfig(globally=False),
        analytics_enabled=False,
    )
    return gx.get_context(mode="ephemeral", project_config=config)


def _failure(result, suite: Suite, business_date: dt.date, conn: psycopg.Connection) -> dict:
    config = result.expectation_config
    kwargs = {k: v for k, v in config.kwargs.items() if k != "batch_id"}
    outcome = result.result or {}
    meta = config.meta or {}
    failure = {
        "number": meta.get("number"),
        "check": meta.get("check"),
        "expectation": config.type,
        "severity": str(getattr(config.severity, "value", config.severity)),
        "column": kwargs.get("column") or kwargs.get("column_list"),
        "description": meta.get("why") or config.description,
        "unexpected_count": outcome.get("unexpected_count", outcome.get("observed_value")),
        "unexpected_percent": outcome.get("unexpected_percent"),
        "sample": outcome.get("partial_unexpected_list", [])[:SAMPLE_SIZE],
    }
    if result.exception_info and result.exception_info.get("raised_exception"):
        failure["error"] = result.exception_info.get("exception_message")
    query = kwargs.get("unexpected_rows_query")
    if isinstance(query, str) and "error" not in failure:
        # GX reports only the count at SUMMARY: fetch a few of the rows for the reader, D bound as a
        # parameter. The suite file's own text, before for_date() wrote D into it.
        written = suite.spec["expectations"][meta["number"] - 1]["kwargs"]["unexpected_rows_query"]
        unexpected = written.replace("{batch}", f"({suite.batch_query}) AS subselect")
        statement = sql.SQL("SELECT * FROM ({}) AS unexpected LIMIT {}").format(
            sql.SQL(_bound(unexpected)), sql.Literal(SAMPLE_SIZE)
        )
        try:
            with conn.transaction(), conn.cursor() as cur:
                cur.execute(statement, {"business_date": business_date})
                names = column_names(cur)
                failure["sample"] = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
        except psycopg.Error as error:
            failure["sample_error"] = str(error).strip()
        failure["query"] = query
    return json.loads(json.dumps(failure, default=str))


def _run_name(run: RunInfo) -> str:
    """The gate run's name in Data Docs paths: the Airflow run id, in characters a path keeps as they are."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", run.run_id)


def _checkpoint(context, source, suites: list[Suite], business_date: dt.date, *, docs: bool):
    """The gate's GX Checkpoint for one date: a validation definition per suite (D's slice, D's
    suite), and the UpdateDataDocsAction when the date's pages are written."""
    gx = _gx()
    from great_expectations.checkpoint import UpdateDataDocsAction

    definitions = []
    for suite in suites:
        asset = source.add_query_asset(
            f"{suite.name} {business_date}", query=with_date(suite.batch_query, business_date)
        )
        batch = asset.add_batch_definition_whole_table(business_date.isoformat())
        expectations = context.suites.add_or_update(suite.for_date(business_date))
        definitions.append(
            context.validation_definitions.add(
                gx.ValidationDefinition(name=f"{suite.name} {business_date}", data=batch, suite=expectations)
            )
        )
    return context.checkpoints.add(
        gx.Checkpoint(
            name=f"{suites[0].gate} gate {business_date}",
            validation_definitions=definitions,
            actions=[UpdateDataDocsAction(name="data_docs", site_names=[DATA_DOCS_SITE])] if docs else [],
            result_format={"result_format": "SUMMARY", "partial_unexpected_count": SAMPLE_SIZE},
        )
    )


def _validate(
    suites: list[Suite],
    dates: list[dt.date],
    conninfo: str,
    conn: psycopg.Connection,
    future_days: int,
    *,
    run: RunInfo,
    data_docs: str | None,
) -> dict[dt.date, list[SuiteResult]]:
    """Every suite on each date's slice, through one GX context and data source for all the dates.
    A range's dates but the last are screened in SQL first (sap_warehouse.gates.range_gate); then one GX
    Checkpoint per date validates, with the suites as written, the range's last date (or the one
    date) and each date a screened suite failed on (but for warnings read in SQL). With ``data_docs`` (a
    location URL) the Checkpoint's UpdateDataDocsAction writes the last date's validation pages there,
    and on the other dates the pages of the suites GX validated there; the pages of the rest would cost
    about 0.1 s per suite and date and tell nothing the stored results do not."""
    context = _context()
    with contextlib.ExitStack() as published:
        if data_docs:
            from sap_warehouse.gates import data_docs as docs_site

            try:
                config = docs_site.site_config(data_docs)
            except ValueError as error:
                raise SuiteError(str(error)) from error
            # This run's pages are built apart and put into the site when the run is done (two runs
            # at once never see each other's half-written files).
            config, public = published.enter_context(docs_site.staged(config))
            context.add_data_docs_site(DATA_DOCS_SITE, config)
        else:
            public = None  # no site: no page is documented, so nothing is turned
        return _validate_in(
            context, suites, dates, conninfo, conn, future_days, run=run, data_docs=data_docs, public=public
        )


def _validate_in(
    context, suites, dates, conninfo, conn, future_days, *, run: RunInfo, data_docs: str | None, public
) -> dict[dt.date, list[SuiteResult]]:
    """_validate's work in the GX ``context`` (its Data Docs site configured; ``public`` turns a page's
    URL in the staged site into its URL in the published one)."""
    from great_expectations.core.run_identifier import RunIdentifier

    source = context.data_sources.add_postgres("warehouse", connection_string=sqlalchemy_url(conninfo))
    gate = suites[0].gate if suites else ""
    run_id = RunIdentifier(run_name=_run_name(run))
    last = max(dates)
    try:
        results: dict[dt.date, list[SuiteResult]] = {day: [] for day in dates}
        exact = {last: list(suites)}
        if len(dates) > 1:
            screened, exact_before = _screen(suites, sorted(set(dates) - {last}), future_days, conn)
            for day, of_day in screened.items():
                results[day].extend(of_day)
            exact.update({day: of_day for day, of_day in exact_before.items() if of_day})
        days = sorted(exact)
        for business_date in track(days, total=len(days), desc=f"{gate} gate", logger=log) if len(days) > 1 else days:
            started = time.perf_counter()
            docs = bool(data_docs) and business_date == last
            checkpoint = _checkpoint(context, source, exact[business_date], business_date, docs=docs)
            outcome = checkpoint.run(
                expectation_parameters=expectation_parameters(business_date, future_days), run_id=run_id
            )
            documented = set(outcome.run_results) if docs else set()
            if data_docs and not docs and not outcome.success:
                documented = {key for key, result in outcome.run_results.items() if not result.success}
                context.build_data_docs(site_names=[DATA_DOCS_SITE], resource_identifiers=list(documented))
            seconds = round((time.perf_counter() - started) / max(len(exact[business_date]), 1), 3)
            validated = {suite.name: suite for suite in exact[business_date]}
            for key, result in outcome.run_results.items():
                suite = validated[result.suite_name]
                failures = [_failure(r, suite, business_date, conn) for r in result.results if not r.success]
                statistics = {**result.statistics, "seconds": seconds}
                if suite.only is not None:  # the rest of the suite passed the range's screen
                    statistics = _with_screened(statistics, suite)
                if key in documented:
                    statistics["data_docs_page"] = public(_page(context, key))
                results[business_date].append(
                    SuiteResult(suite.name, suite.gate, bool(result.success), statistics, failures)
                )
            pages = [r.statistics["data_docs_page"] for r in results[business_date] if "data_docs_page" in r.statistics]
            if pages:
                from sap_warehouse.gates.data_docs import browser_link

                base = _ui_base_url()
                links = [browser_link(page, data_docs or "", base) for page in pages]
                log.info("%s gate, %s: Data Docs of this run: %s", gate, business_date, " ".join(filter(None, links)))
        for of_day in results.values():
            of_day.sort(key=lambda r: r.suite)
    finally:
        source.get_execution_engine().engine.dispose()
    return results


def _screen(
    suites: list[Suite], dates: list[dt.date], future_days: int, conn: psycopg.Connection
) -> tuple[dict[dt.date, list[SuiteResult]], dict[dt.date, list[Suite]]]:
    """Screen ``dates`` together in SQL written from the suites (sap_warehouse.gates.range_gate): the results
    of the dates each suite passed on, and per date the suites GX validates on it as written: a suite
    the screen cannot judge, a screened one with only the expectations that found unexpected rows on
    that date (``Suite.only``). Each suite's screen reads in a savepoint of ``conn`` (which holds the
    dates' locks): a statement PostgreSQL refuses leaves that suite to GX, date by date."""
    started = time.perf_counter()
    exact: dict[dt.date, list[Suite]] = {day: [] for day in dates}
    passed: dict[dt.date, list[SuiteResult]] = {day: [] for day in dates}
    parameters = expectation_parameters(dates[-1], future_days)
    screened = 0
    for suite in suites:
        suite_started = time.perf_counter()
        try:
            statements = range_gate.screen(
                suite.numbered()["expectations"], suite.batch_query, parameters, dates, future_days
            )
            with conn.transaction():
                failing = range_gate.failing(conn, statements)
        except (range_gate.NotScreenable, psycopg.Error) as why:
            log.warning("%s gate screen: %s is validated date by date: %s", suite.gate, suite.name, why)
            for day in dates:
                exact[day].append(suite)
            continue
        screened += 1
        count = len(suite.spec["expectations"])
        statistics = {
            "evaluated_expectations": count,
            "successful_expectations": count,
            "unsuccessful_expectations": 0,
            "success_percent": 100.0,
            "seconds": round((time.perf_counter() - suite_started) / len(dates), 3),
            "range_screen": f"{dates[0]}..{dates[-1]}",
        }
        for day in dates:
            found = failing.get(day, {})
            warned = _warnings_from_screen(conn, suite, found, day, parameters, future_days) if found else None
            if warned is not None:  # only warnings: the date goes on, its result read in SQL as GX reads it
                successful = count - len(warned)
                read = {
                    "successful_expectations": successful,
                    "unsuccessful_expectations": len(warned),
                    "success_percent": round(100.0 * successful / count, 2),
                    "range_screen": "warnings read in SQL: " + ", ".join(f"#{n}" for n in sorted(found)),
                }
                passed[day].append(SuiteResult(suite.name, suite.gate, False, {**statistics, **read}, warned))
            elif found:
                exact[day].append(dataclasses.replace(suite, only=frozenset(found)))
            else:
                passed[day].append(SuiteResult(suite.name, suite.gate, True, dict(statistics)))
    log.info(
        "%s gate screen of %s..%s: %d suites screened in SQL in %.1f s; %d suites validated by GX on %d dates",
        suites[0].gate if suites else "",
        dates[0],
        dates[-1],
        screened,
        time.perf_counter() - started,
        len({s.name for of_day in exact.values() for s in of_day}),
        sum(1 for of_day in exact.values() if of_day),
    )
    return passed, exact


def _warnings_from_screen(
    conn: psycopg.Connection,
    suite: Suite,
    found: dict[int, int],
    day: dt.date,
    parameters: dict,
    future_days: int,
) -> list[dict] | None:
    """The failures GX would store for ``suite`` on ``day`` when the screen's unexpected rows there
    (``found``: expectation number -> rows) are all of warning expectations on column values: each
    one's count, share of the column's non-null values and first unexpected values, read in SQL.
    None when one is critical or of another kind, or its values are not text (GX then validates the
    date: its result is the one stored, with its Data Docs page)."""
    expectations = suite.numbered()["expectations"]
    chosen = [expectations[number - 1] for number in sorted(found)]
    if any(e.get("severity") != "warning" or e["type"] not in range_gate.DESCRIBED for e in chosen):
        return None
    failures = []
    for expectation in chosen:
        number, meta = expectation["meta"]["number"], expectation["meta"]
        try:
            statement = range_gate.described(
                expectation, suite.batch_query, parameters, day, future_days, limit=SAMPLE_SIZE
            )
            with conn.transaction(), conn.cursor() as cur:
                nonnull, sample = first_row(cur.execute(statement))
        except (range_gate.NotScreenable, psycopg.Error) as why:
            log.warning("%s gate screen: %s on %s is validated by GX: %s", suite.gate, suite.name, day, why)
            return None
        if not all(isinstance(value, str) for value in sample):
            return None  # numbers and dates: GX's own conversion of them is what a page and the store show
        failures.append(
            {
                "number": number,
                "check": meta.get("check"),
                "expectation": expectation["type"],
                "severity": "warning",
                "column": expectation["kwargs"].get("column"),
                "description": meta.get("why") or expectation.get("description"),
                "unexpected_count": found[number],
                "unexpected_percent": found[number] / nonnull * 100 if nonnull else None,
                "sample": sample,
            }
        )
    return failures


def _with_screened(statistics: dict, suite: Suite) -> dict:
    """A partly validated suite's statistics for the whole suite: the expectations not validated on
    the date passed the range's screen."""
    count = len(suite.spec["expectations"])
    successful = count - statistics.get("unsuccessful_expectations", 0)
    return {
        **statistics,
        "evaluated_expectations": count,
        "successful_expectations": successful,
        "success_percent": round(100.0 * successful / count, 2) if count else 100.0,
        "range_screen": "validated on this date: " + ", ".join(f"#{n}" for n in sorted(suite.only or ())),
    }


def _page(context, key) -> str | None:
    """The URL of a validation result's Data Docs page (file:// or https://)."""
    urls = context.get_docs_sites_urls(resource_identifier=key, site_name=DATA_DOCS_SITE, only_if_exists=False)
    return urls[0]["site_url"] if urls else None


def _store(conn: psycopg.Connection, results: list[SuiteResult], business_date: dt.date, run: RunInfo) -> None:
    with conn.cursor() as cur:
        cur.executemany(
            """INSERT INTO operations.dq_validation_result
                   (suite_name, gate, business_date, dag_id, run_id, success, statistics, failures,
                    critical_failures, warning_failures)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
            [
                (
                    r.suite,
                    r.gate,
                    business_date,
                    run.dag_id,
                    run.run_id,
                    r.success,
                    json.dumps(r.statistics),
                    json.dumps(r.failures),
                    len(r.critical),
                    len(r.warnings),
                )
                for r in results
            ],
        )


def _line(suite: str, failure: dict) -> str:
    column = failure["column"]
    column = ", ".join(column) if isinstance(column, list) else column
    what = f"#{failure['number']} {failure['check'] or failure['expectation']}" + (f" on {column}" if column else "")
    detail = failure.get("error") or f"{failure['unexpected_count']} unexpected, e.g. {failure['sample'][:3]}"
    why = f" ({failure['description']})" if failure.get("description") else ""
    return f"{suite}: {what}{why}: {detail}"


def validate_gate(
    gate: str,
    business_date: dt.date,
    *,
    run: RunInfo = MANUAL,
    conninfo: str | None = None,
    directory: Path | None = None,
    future_days: int = FUTURE_DAYS,
    data_docs: str | None = None,
) -> list[SuiteResult]:
    """Validate every suite of ``gate`` on ``business_date``'s slice, store the results, and raise
    QualityGateError naming each failed critical expectation (after storing). ``future_days``: how
    many days after D a date in D's files may lie before it is critical (after D it is a warning).
    ``data_docs``: the location (URL) the gate's Checkpoint writes its Data Docs pages to; None: none."""
    return validate_dates(
        gate,
        DateSpan.of(business_date),
        run=run,
        conninfo=conninfo,
        directory=directory,
        future_days=future_days,
        data_docs=data_docs,
    )[business_date]


def validate_dates(
    gate: str,
    span: DateSpan,
    *,
    run: RunInfo = MANUAL,
    conninfo: str | None = None,
    directory: Path | None = None,
    future_days: int = FUTURE_DAYS,
    data_docs: str | None = None,
) -> dict[dt.date, list[SuiteResult]]:
    """validate_gate for each date of ``span`` (a range run's): each date judged on its own slice and
    stored as its own results; one QualityGateError at the end names every date that failed."""
    dates = span.dates
    suites = load_suites(gate, directory)
    conninfo = warehouse_conninfo(conninfo)
    started = time.perf_counter()
    with connect(conninfo) as conn:
        # Shared: a build of D (exclusive) cannot change the slice while it is judged.
        for business_date in dates:
            lock_business_date(conn, business_date, shared=True)
        results = _validate(suites, dates, conninfo, conn, future_days, run=run, data_docs=data_docs)
        for business_date, of_date in results.items():
            _store(conn, of_date, business_date, run)
    failed = {}
    for business_date, of_date in results.items():
        words = [status_of(len(r.critical), len(r.warnings), None) for r in of_date]
        log.info(
            "%s gate, %s: %s",
            gate,
            business_date,
            ", ".join(f"{words.count(w)} {w}" for w in (PASSED, WARNING, FAILED) if w in words),
        )
        critical = [_line(r.suite, f) for r in of_date for f in r.critical]
        for line in (_line(r.suite, f) for r in of_date for f in r.warnings):
            log.warning("quality warning, %s: %s", business_date, line)
        if critical:
            failed[business_date] = critical
    log.info(
        "%s gate for %s: %d suites, %d expectations, %d dates with critical failures, %.1f s",
        gate,
        span.label,
        sum(len(of_date) for of_date in results.values()),
        sum(r.statistics.get("evaluated_expectations", 0) for of_date in results.values() for r in of_date),
        len(failed),
        time.perf_counter() - started,
    )
    if failed:
        days = ", ".join(str(day) for day in failed)
        shown = "\n".join(
            f"{gate} quality gate failed for {day}: {len(lines)} critical expectation(s) failed\n  "
            + "\n  ".join(lines)
            for day, lines in failed.items()
        )
        raise QualityGateError(
            (f"{gate} quality gate failed for {days}\n" if len(dates) > 1 else "")
            + f"{shown}\nThe layers after this gate were not built for {days}. Fix the data (a corrected export in "
            f"the landing zone, or the master data), or the suite in include/quality/suites/ if the expectation "
            f"is wrong, then re-run the date{'s' if len(failed) > 1 else ''}. History: operations.dq_validation_result."
        )
    return results


def _ui_base_url() -> str | None:
    """The Airflow UI's address ([api] base_url), where people open the Data Docs pages."""
    try:
        from airflow.configuration import conf

        return conf.get("api", "base_url", fallback=None)
    except ImportError:
        return None


# One vocabulary for a suite's result on a date, wherever it is shown (page, CLI, summary, logs).
PASSED, WARNING, FAILED, NOT_EVALUATED = "passed", "warning", "failed", "not evaluated"


def status_of(critical: int, warnings: int, rows: int | None) -> str:
    """A suite's result in words: failed (a critical expectation failed), warning (only warnings),
    not evaluated (its slice of the date held no row: nothing was judged), else passed."""
    if critical:
        return FAILED
    if rows == 0:
        return NOT_EVALUATED
    return WARNING if warnings else PASSED


def stored_results(business_date: dt.date, *, conninfo: str | None = None) -> list[dict]:
    """The latest stored result of each suite on ``business_date`` (what the gates said; nothing is
    validated again), raw gate first, with the rows of the suite's slice and its status_of."""
    from sap_warehouse.core.db import read_only

    suites = {s.name: s for s in load_suites()}
    with read_only(conninfo) as conn:
        stored = conn.execute(
            """SELECT DISTINCT ON (gate, suite_name) gate, suite_name, critical_failures, warning_failures,
                      statistics ->> 'data_docs_page', validated_at, run_id
                 FROM operations.dq_validation_result WHERE business_date = %s
                ORDER BY gate DESC, suite_name, validated_at DESC, result_id DESC""",
            (business_date,),
        ).fetchall()
        out = []
        for gate, name, critical, warnings, page, validated_at, run_id in stored:
            suite = suites.get(name)
            rows = None
            if suite is not None:
                counted = sql.SQL("SELECT count(*) FROM ({}) slice").format(
                    sql.SQL(with_date(suite.batch_query, business_date))
                )
                rows = conn.execute(counted).fetchone()[0]
            out.append(
                {
                    "gate": gate,
                    "suite": name,
                    "status": status_of(critical, warnings, rows),
                    "rows": rows,
                    "critical": critical,
                    "warnings": warnings,
                    "validated_at": validated_at,
                    "run_id": run_id,
                    "data_docs_page": page,
                }
            )
    return out


def _results_main(argv: list[str]) -> int:
    from sap_warehouse.cli import command_parser, show

    parser = command_parser("quality results", "The stored gate results of a business date (read-only).")
    parser.add_argument("--date", type=dt.date.fromisoformat, required=True, help="YYYY-MM-DD")
    parser.add_argument("--json", action="store_true", help="a JSON array instead of a table")
    args = parser.parse_args(argv)
    rows = stored_results(args.date)
    show(rows, as_json=args.json, title=f"stored gate results of {args.date}")
    return 0 if rows else 1


def main(argv: list[str] | None = None) -> int:
    from sap_warehouse.cli import command_parser

    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["results"]:
        return _results_main(argv[1:])
    parser = command_parser(
        "quality",
        "Run a quality gate's suites on a business date (the results are stored and replace what the "
        "on-call page shows). `sapwh quality results --date D` shows the stored results without running.",
    )
    parser.add_argument("--gate", choices=GATES, required=True)
    parser.add_argument("--date", type=dt.date.fromisoformat, required=True, help="YYYY-MM-DD")
    parser.add_argument(
        "--data-docs",
        default=settings.from_environment("warehouse_data_docs_path"),
        help="where the Data Docs pages go, file://... or s3://bucket/prefix (default: %(default)s); '' for none",
    )
    parser.add_argument("--json", action="store_true", help="the suites' results as a JSON array instead of a table")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        results = validate_gate(
            args.gate, args.date, run=RunInfo(run_id="quality cli"), data_docs=args.data_docs or None
        )
    except (SuiteError, QualityGateError) as error:
        print(error, file=sys.stderr)
        return 1
    from sap_warehouse.cli import show

    rows = [
        {
            "suite": r.suite,
            "status": status_of(len(r.critical), len(r.warnings), None),
            "checks": r.statistics["evaluated_expectations"],
            "warnings": len(r.warnings),
            "data_docs_page": r.statistics.get("data_docs_page"),
        }
        for r in results
    ]
    show(rows, as_json=args.json, title=f"{args.gate} gate, {args.date}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
