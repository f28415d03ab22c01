"""Loading one landed SAP export into its raw table.

Reads one file from the landing zone (any ObjectStoragePath). Writes raw.<report table>,
operations.etl_file_ledger, operations.etl_row_reject and operations.etl_cell_issue (and, only inside
its own transaction, its scratch tables), all in ONE transaction that also holds the business date's
advisory lock. The stages, each a function handing the next what it made: land (the bytes, sha256)
-> parse (the workbook, before the transaction) -> stage (the cells as text, COPY) -> type (the SQL
parsers; rejects, cell issues, list totals; every row's row_hash, md5 of its typed business values,
never of the file name) -> key (one row per business key) -> write (only rows that are new or whose
hash changed; moved and superseded lines) -> ledger (the file's row and its evidence) -> settle (the
move to the archive or quarantine, after the commit).
A cell never costs its row unless the row cannot be counted without it: a missing required value,
or a value of a key or fact-critical column (registry) that fails typing, makes the row a reject;
a value of any other column that fails typing becomes NULL, stays as text in raw_data and is
recorded as a cell issue. SAP list totals (identity column blank, only measures and units) are
counted as summary rows, neither loaded nor rejected. Per file: non-blank rows = rows read + summary
rows; rows read = inserted + updated + unchanged + rejected.
Idempotent: a file whose sha256 was already loaded is recorded as a duplicate and not read again;
loading the same rows again changes nothing. After the commit a loaded or known file moves to the
archive location; a file that cannot be used (content not matching its extension, damaged, unknown
layout, missing required column, rejects over the ratio, content PostgreSQL refuses) moves to the
quarantine location with the reason in the ledger and the log (a file over the reject ratio keeps its
rejects and cell issues as evidence), and the day's other files still load. Also records landing
entries refused unread (quarantine_entry) and the expected reports that never arrived
(record_missing)."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import logging
import os
import time
from dataclasses import asdict, dataclass, field

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from sap_warehouse.db import connect, lock_business_date, lock_raw_table
from sap_warehouse.landing import archived_copy, move_file, shown_name
from sap_warehouse.layers import raw_retired_before
from sap_warehouse.registry import Column, Report, reports
from sap_warehouse.workbook import BadFileError, Sheet, read_sheet

log = logging.getLogger(__name__)

REFUSED_CONTENT = ("22", "54")  # SQLSTATE classes a file's content can cause
TRUNCATED = (
    "the sheet ends at Excel's last row (1,048,576): the export was probably cut off there; its rows loaded, "
    "export the rest of the report (a narrower selection) and deliver it too"
)
DUPLICATE_KEY = "duplicate business key in this file; a later row wins"
PROBLEM = {
    "date": "not a date (expected an Excel date, dd.mm.yyyy or yyyy-mm-dd)",
    "number": "not a number (expected 1234.5, 1.234,50 or 1.234,50-)",
}


@dataclass(frozen=True)
class _Known:
    """A loaded file with the same content: its report, business date and name; ``same_rows`` when
    the bytes differ and the rows are the same (a re-saved copy)."""

    report: str
    business_date: dt.date
    file_name: str
    same_rows: bool = False


class _AlreadyLoaded(Exception):
    """Another load of the same content committed while this one staged it."""

    def __init__(self, known: _Known) -> None:
        super().__init__(known.report)
        self.known = known


@dataclass
class FileResult:
    file_name: str
    business_date: str
    status: str
    report: str | None = None
    rows_read: int = 0
    rows_inserted: int = 0
    rows_updated: int = 0
    rows_unchanged: int = 0
    rows_rejected: int = 0
    rows_summary: int = 0  # SAP list totals: neither loaded nor rejected
    cell_issues: int = 0  # values that failed typing in a column that does not cost the row
    cell_issue_columns: dict[str, int] = field(default_factory=dict)  # header -> cell issues
    reason: str | None = None
    seconds_read: float = 0.0  # parsing the file (outside the transaction); 0 when it was not parsed
    seconds: float = 0.0  # the whole load of the file, reading included

    def as_dict(self) -> dict:
        return asdict(self)


def _stage_csv(sheet: Sheet, chunk_rows: int = 20_000):
    """The sheet's rows as CSV text, in chunks: the server parses one chunk of the COPY while the
    next is written."""
    for start in range(0, len(sheet.rows), chunk_rows):
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows(sheet.rows[start : start + chunk_rows])
        yield buf.getvalue()


def _cell(sheet: Sheet, col: Column) -> sql.Composable:
    """The staged text of a column, with its placeholders (the report's and its own) and its suffix
    removed."""
    pos = sheet.column_of.get(col.name)
    if pos is None:
        return sql.SQL("NULL::text")
    expr: sql.Composable = sql.Identifier(f"c{pos}")
    if col.strip_suffix:
        expr = sql.SQL("rtrim({}, {})").format(expr, sql.Literal(col.strip_suffix))
    placeholders = sheet.report.placeholders_of(col)
    if placeholders:
        expr = sql.SQL("CASE WHEN btrim({0}) = ANY({1}) THEN NULL ELSE {0} END").format(
            expr, sql.Literal(list(placeholders))
        )
    return expr


def _blank(expr: sql.Composable) -> sql.Composed:
    return sql.SQL("coalesce({} !~ '\\S', true)").format(expr)


def _summary_test(sheet: Sheet) -> sql.Composable:
    """True for a SAP list total: the report's identity column blank and nothing filled but measures,
    units and the columns the registry lets totals carry (cells outside the registry included)."""
    report = sheet.report
    identity = sheet.column_of.get(report.identity) if report.identity else None
    if identity is None:
        return sql.SQL("false")
    allowed = {
        sheet.column_of[c.name] for c in report.file_columns if c.name in sheet.column_of and report.may_fill_summary(c)
    }
    blank = [_blank(sql.Identifier(f"c{i}")) for i in range(len(sheet.headers)) if i not in allowed]
    return sql.SQL(" AND ").join(blank)


def _parser(col: Column) -> sql.Identifier:
    """The database function that parses a cell of the column's registry type (operations.sap_date,
    sap_number, sap_code or sap_text: migrations define one per type)."""
    return sql.Identifier("operations", f"sap_{col.type}")


def _typed_select(sheet: Sheet, business_date: dt.date, stage: sql.Identifier, ranges: dict[str, int]) -> sql.Composed:
    """SELECT typing the staged text cells into the registry's columns, with the row's problems (an
    array of reject reasons: a missing required value, or a value of a key or fact-critical column
    that fails typing), its cell issues (values of other columns that fail typing: NULL in the typed
    column, kept as text in raw_data), whether it is a SAP list total (is_summary: neither problems
    nor issues, never written), its row_hash and raw_data; identifiers come from the registry only.
    ``ranges``: number columns -> the power of ten their raw column must stay below. The per-cell
    work is in a fenced (OFFSET 0) subquery: each parser runs once per cell, and PostgreSQL's
    parallel workers evaluate that subquery's columns in their scans of the staging table."""
    report = sheet.report
    inner, checks, final = [], [], {}
    for col in report.columns:
        name = sql.Identifier(col.name)
        final[col.name] = sql.SQL("t.") + name
        if col.source == "business_date":
            inner.append(sql.SQL("{}::date AS {}").format(sql.Literal(business_date), name))
            continue
        cell = _cell(sheet, col)
        inner.append(sql.SQL("{}({}) AS {}").format(_parser(col), cell, name))
        pos = sheet.column_of.get(col.name)
        failed = sql.SQL("t.{} IS NULL").format(name)
        if col.type == "number" and col.name in ranges and pos is not None:
            # Beyond the raw column's precision is a failed value like any other, not a database error.
            bound = sql.Literal(10 ** ranges[col.name])
            final[col.name] = sql.SQL("CASE WHEN abs(t.{0}) < {1} THEN t.{0} END").format(name, bound)
            failed = sql.SQL("(t.{0} IS NULL OR abs(t.{0}) >= {1})").format(name, bound)
        if pos is None or not (col.required or col.type in PROBLEM):
            continue
        header, original = sheet.headers[pos], sql.SQL("t.") + sql.Identifier(f"c{pos}")
        present = sql.Identifier(f"present_{pos}")
        inner.append(sql.SQL("coalesce({} ~ '\\S', false) AS {}").format(cell, present))
        if col.type in PROBLEM:
            reason = PROBLEM[col.type] + (" or beyond the column's range" if col.name in ranges else "")
            kind = "problem" if sheet.report.is_critical(col) else "issue"
            checks.append((kind, header, original, sql.SQL("t.{} AND {}").format(present, failed), reason))
        if col.required:
            # Only an empty cell: a value that fails typing is already reported above.
            checks.append(
                ("problem", header, original, sql.SQL("NOT t.{}").format(present), "required value is missing")
            )

    def reasons(kind: str) -> sql.Composable:
        items = [
            sql.SQL("CASE WHEN {} THEN ROW({}, {}, {})::operations.reject_reason END").format(
                cond, sql.Literal(header), original, sql.Literal(reason)
            )
            for k, header, original, cond, reason in checks
            if k == kind
        ]
        if not items:
            return sql.SQL("'{}'::operations.reject_reason[]")
        return sql.SQL(
            "CASE WHEN t.is_summary THEN '{{}}' ELSE array_remove(ARRAY[{}]::operations.reject_reason[], NULL) END"
        ).format(sql.SQL(", ").join(items))

    return sql.SQL(
        "SELECT t.source_row, {names}, {problems} AS problems, {issues} AS issues, t.is_summary, "
        "{row_hash} AS row_hash, t.raw_data "
        "FROM (SELECT s.*, {inner}, {summary} AS is_summary, {raw_data} AS raw_data FROM {stage} s "
        "WHERE NOT (ROW({cells}) IS NULL) OFFSET 0) t"  # blank rows are not rows
    ).format(
        names=sql.SQL(", ").join(
            sql.SQL("{} AS {}").format(final[c.name], sql.Identifier(c.name)) for c in report.columns
        ),
        problems=reasons("problem"),
        issues=reasons("issue"),
        # char(32), the raw tables' type: compared as text, the key index could not match it.
        row_hash=sql.SQL("md5(ROW({})::text)::char(32)").format(
            sql.SQL(", ").join(final[c.name] for c in report.columns)
        ),
        inner=sql.SQL(", ").join(inner),
        summary=_summary_test(sheet),
        raw_data=_raw_data(sheet),
        stage=stage,
        cells=sql.SQL(", ").join(sql.SQL("s.") + sql.Identifier(f"c{i}") for i in range(len(sheet.headers))),
    )


def _raw_data(sheet: Sheet) -> sql.Composed:
    """The whole source row as JSONB (header -> cell text, null for an empty cell), from the staged
    cells. Empty cells stay as nulls: stripping them cost a third of building the object."""
    return sql.SQL("jsonb_object({}::text[], ARRAY[{}]::text[])").format(
        sql.Literal(sheet.headers), sql.SQL(", ").join(sql.Identifier(f"c{i}") for i in range(len(sheet.headers)))
    )


# ---------------------------------------------------------------------------------------------------
# The stages of one file's load, in order: land (read the bytes) -> parse (the workbook, outside the
# transaction) -> stage (COPY the cells as text) -> type (SQL parsers, rejects, cell issues, list
# totals) -> key (one row per business key) -> write (new and changed rows, moved and superseded
# lines) -> ledger (the file's row and its evidence). Each stage hands the next what it made.


@dataclass(frozen=True)
class Landed:
    """A file as read from the landing zone, or from the archive when another run moved it there."""

    path: object  # ObjectStoragePath or pathlib.Path
    data: bytes
    sha256: str
    in_archive: bool
    started: float  # time.perf_counter() when the load of the file began (the ledger's seconds)


# Below this many cells a staged sheet is smaller than PostgreSQL's min_parallel_table_scan_size
# (8 MB) and is never scanned in parallel: its scratch tables are temporary, created in less than
# half the time of unlogged ones (no init forks synced to disk: table, TOAST table and its index).
PARALLEL_CELLS = 500_000


@dataclass(frozen=True)
class Scratch:
    """The scratch tables of one load, dropped before the commit: ``stage`` (the cells as text),
    ``typed`` (the typed rows) and ``keyed`` (one row per business key, a temporary table). A large
    sheet's stage and typed are unlogged tables named after this session's backend, so PostgreSQL's
    parallel workers can scan them (typing uses both cores; workers cannot read temporary tables);
    a small sheet's are temporary, which cost less to create."""

    stage: sql.Identifier
    typed: sql.Identifier
    keyed: sql.Identifier
    persistence: sql.SQL  # UNLOGGED or TEMP

    @classmethod
    def of(cls, conn: psycopg.Connection, sheet: Sheet) -> Scratch:
        pid = conn.info.backend_pid
        if len(sheet.rows) * len(sheet.headers) < PARALLEL_CELLS:
            schema, persistence = "pg_temp", sql.SQL("TEMP")
        else:
            schema, persistence = "operations", sql.SQL("UNLOGGED")
        return cls(
            stage=sql.Identifier(schema, f"load_stage_{pid}"),
            typed=sql.Identifier(schema, f"load_typed_{pid}"),
            keyed=sql.Identifier("pg_temp", f"load_keyed_{pid}"),
            persistence=persistence,
        )

    def drop(self, conn: psycopg.Connection) -> None:
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}, {}, {}").format(self.stage, self.typed, self.keyed))


@dataclass(frozen=True)
class Typed:
    """The typed rows of a sheet and what they hold."""

    table: sql.Identifier
    rows_read: int  # data rows: not blank, not a list total
    rejected: int  # rows with a problem (missing required value, critical value that failed typing)
    summary: int  # SAP list totals
    issue_columns: dict[str, int]  # header -> values that failed typing and loaded as NULL

    def reject_ratio(self) -> float:
        return self.rejected / self.rows_read if self.rows_read else 0.0


@dataclass(frozen=True)
class Keyed:
    """The rows to write, one per business key: ``rows`` (a table, or for content-keyed reports a
    subquery of the typed rows), the columns that identify a row in the raw table, and how many
    rows the file kept (the others repeated a key of the file and are rejects)."""

    rows: sql.Composable
    key: list[str]
    kept: int


@dataclass(frozen=True)
class Written:
    """What the write did to the raw table."""

    inserted: int
    updated: int
    newer: int  # rows left alone because a file of a later business date wrote them
    superseded: int | None  # lines of the file's snapshot scopes it superseded; None: rejects kept it from it


def _land(path, business_date: dt.date, archive_root) -> Landed:
    """The file's bytes. A file another run of the date (or this task's earlier try) loaded and
    moved to the archive is read from there: the ledger then knows it as a duplicate."""
    started = time.perf_counter()
    try:
        data, in_archive = path.read_bytes(), False
    except FileNotFoundError:
        archived = archived_copy(archive_root, business_date, path.name)
        if archived is None:
            raise FileNotFoundError(
                f"{path}: the file left the landing folder and is not in the archive of {business_date}; "
                "look for it in the quarantine folder or deliver it again"
            ) from None
        path, data, in_archive = archived, archived.read_bytes(), True
    return Landed(path, data, hashlib.sha256(data).hexdigest(), in_archive, started)


def _parse(landed: Landed, file_name: str) -> tuple[Sheet | None, str | None]:
    """The recognised sheet, or why the file cannot be used. Whatever a reader raises on the file's
    bytes (BadFileError for what the guards foresee; a parser's own error or MemoryError for what
    they do not) is about this file: it is quarantined with the error, the date's other files load."""
    try:
        return read_sheet(landed.data, file_name), None
    except BadFileError as exc:
        return None, str(exc)
    except Exception as exc:  # any reader failure on this file's bytes means the file is unusable
        log.exception("%s: the reader failed", file_name)
        return None, (
            f"{file_name}: could not be read ({type(exc).__name__}: {str(exc)[:300]}); export the report again; "
            "if a fresh export fails the same way, keep this file for the warehouse team"
        )


def _stage(conn: psycopg.Connection, sheet: Sheet, scratch: Scratch) -> None:
    """The sheet's cells as text in ``scratch.stage`` (COPY); source_row numbers the rows in COPY
    order, starting at the sheet row of the first data row."""
    width, stage = range(len(sheet.headers)), scratch.stage
    conn.execute(
        sql.SQL("CREATE {} TABLE {} (source_row integer GENERATED ALWAYS AS IDENTITY (START WITH {}), {})").format(
            scratch.persistence,
            stage,
            sql.Literal(sheet.first_row),
            sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(f"c{i}")) for i in width),
        )
    )
    cells = sql.SQL(", ").join(sql.Identifier(f"c{i}") for i in width)
    with conn.cursor().copy(sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(stage, cells)) as copy:
        for chunk in _stage_csv(sheet):
            copy.write(chunk)


def _type(conn: psycopg.Connection, sheet: Sheet, scratch: Scratch, business_date: dt.date) -> Typed:
    """The staged cells typed into ``scratch.typed`` (see _typed_select), and their counts."""
    ranges = _numeric_ranges(conn, sheet.report.raw_table)
    typed = scratch.typed
    conn.execute(
        sql.SQL("CREATE {} TABLE {} AS {}").format(
            scratch.persistence, typed, _typed_select(sheet, business_date, scratch.stage, ranges)
        )
    )
    rows_read, rejected, summary = conn.execute(
        sql.SQL(
            "SELECT count(*) FILTER (WHERE NOT is_summary), "
            "count(*) FILTER (WHERE NOT is_summary AND cardinality(problems) > 0), "
            "count(*) FILTER (WHERE is_summary) FROM {}"
        ).format(typed)
    ).fetchone()
    issue_columns = conn.execute(
        sql.SQL("SELECT p.column_name, count(*)::integer FROM {} t, unnest(t.issues) p GROUP BY 1 ORDER BY 1").format(
            typed
        )
    ).fetchall()
    return Typed(typed, rows_read, rejected, summary, dict(issue_columns))


def _key(conn: psycopg.Connection, report: Report, scratch: Scratch, typed: Typed) -> Keyed:
    """One row per business key, with its row_hash (and occurrence). Columns-keyed reports keep the
    file's last row of a key in ``scratch.keyed``; the earlier ones get the problem "duplicate
    business key" in the typed rows, so they are rejects like any other. Content-keyed reports (MB51)
    carry the hash in the key: no two rows share one, and they are written straight from typed."""
    names = sql.SQL(", ").join(sql.Identifier(c.name) for c in report.columns)
    valid = sql.SQL("cardinality(problems) = 0 AND NOT is_summary")
    if report.key_strategy == "content_occurrence":
        select = sql.SQL(
            "SELECT {names}, source_row, row_hash, raw_data, "
            "row_number() OVER (PARTITION BY {partition}, row_hash ORDER BY source_row)::integer AS occurrence "
            "FROM {typed} WHERE {valid}"
        ).format(
            names=names,
            partition=sql.SQL(", ").join(sql.Identifier(k) for k in report.key),
            typed=typed.table,
            valid=valid,
        )
        rows, key, kept = sql.SQL("({})").format(select), [*report.key, "row_hash", "occurrence"], None
    else:
        key_cols = sql.SQL(", ").join(sql.Identifier(k) for k in report.key)
        conn.execute(
            sql.SQL(
                "CREATE TEMP TABLE {keyed} ON COMMIT DROP AS SELECT DISTINCT ON ({key}) {names}, source_row, "
                "row_hash, raw_data FROM {typed} WHERE {valid} ORDER BY {key}, source_row DESC"
            ).format(keyed=scratch.keyed, key=key_cols, names=names, typed=typed.table, valid=valid)
        )
        rows, key = scratch.keyed, list(report.key)
        kept = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(rows)).fetchone()[0]
        if kept < typed.rows_read - typed.rejected:
            conn.execute(
                sql.SQL(
                    "UPDATE {typed} t SET problems = ARRAY[ROW(NULL, NULL, {reason})::operations.reject_reason] "
                    "WHERE {valid} AND NOT EXISTS (SELECT FROM {keyed} k WHERE k.source_row = t.source_row)"
                ).format(typed=typed.table, valid=valid, keyed=rows, reason=sql.Literal(DUPLICATE_KEY))
            )
    if report.partition_column and report.partition_column not in key:
        key.append(report.partition_column)
    return Keyed(rows, key, typed.rows_read - typed.rejected if kept is None else kept)


def _match(conn: psycopg.Connection, report: Report, keyed: Keyed, typed: Typed) -> tuple[sql.Composable, tuple]:
    """The condition that pairs a raw row ``t`` with a keyed row ``k``, and the file's partition date
    range (None, None without partitions). A key column that may be blank (ZRFI005's channel) matches
    blank to blank; the others use plain equality, which the key's index serves."""
    nullable = {c.name for c in report.columns if not c.required and c.name in report.key}
    match = sql.SQL(" AND ").join(
        sql.SQL("t.{0} IS NOT DISTINCT FROM k.{0}" if k in nullable else "t.{0} = k.{0}").format(sql.Identifier(k))
        for k in keyed.key
    )
    if not report.partition_column:
        return match, (None, None)
    # Bound the probe to the partitions this file touches, as literals: the planner then prunes
    # the other partitions itself instead of planning all of them (a daily file's whole write
    # took 0.3-0.4 s, most of it planning over the 133 monthly partitions).
    part = sql.Identifier(report.partition_column)
    low, high = conn.execute(sql.SQL("SELECT min({p}), max({p}) FROM {t}").format(p=part, t=typed.table)).fetchone()
    bounded = sql.SQL("{} AND t.{p} BETWEEN {low} AND {high}").format(
        match, p=part, low=sql.Literal(low), high=sql.Literal(high)
    )
    return bounded, (low, high)


def _write(
    conn: psycopg.Connection, report: Report, keyed: Keyed, typed: Typed, file_name: str, business_date: dt.date
) -> Written:
    """Move lines whose partition date changed, update rows whose hash changed, insert new rows,
    record the lines' dates and supersede what a snapshot lacks. Newer wins: a row's business_date is
    the date of the file that last wrote it, and a file of an older date (a late re-delivery, a
    backfill in reverse order) never replaces it. Unchanged rows cost the probe alone."""
    match, (low, high) = _match(conn, report, keyed, typed)
    columns = [c.name for c in report.columns] + (["occurrence"] if report.key_strategy == "content_occurrence" else [])
    columns += ["row_hash", "raw_data", "source_file", "source_row", "business_date"]
    # Literals, not parameters: the raw_data headers may hold a '%' (ZRMM024's "Tolerance (%)").
    given = {"source_file": sql.Literal(file_name), "business_date": sql.Literal(business_date)}
    values = {c: given.get(c, sql.SQL("k.") + sql.Identifier(c)) for c in columns}
    newer = moved = 0
    if report.line_directory:
        newer, moved = _move_lines(conn, report, keyed, business_date)
    updated = 0
    if report.key_strategy != "content_occurrence":  # a content-keyed row is new or unchanged, never updated
        changed, updated = _update_changed(conn, report, keyed, match, values, business_date)
        newer += changed
    inserted = _insert_new(conn, report, keyed, match, values)
    if report.line_directory:
        _record_line_dates(conn, report, keyed, business_date)
    superseded = 0
    if report.snapshot_scope is not None:
        bound = sql.SQL("true")
        if report.partition_column and report.partition_column in report.snapshot_scope:
            bound = sql.SQL("t.{p} BETWEEN {low} AND {high}").format(
                p=sql.Identifier(report.partition_column), low=sql.Literal(low), high=sql.Literal(high)
            )
        superseded = _supersede(conn, report, typed.rejected, keyed.rows, match, bound, file_name, business_date)
    # A moved line was deleted from its old date and inserted at its new one: one update.
    return Written(inserted=inserted - moved, updated=updated + moved, newer=newer, superseded=superseded)


def _update_changed(
    conn: psycopg.Connection,
    report: Report,
    keyed: Keyed,
    match: sql.Composable,
    values: dict[str, sql.Composable],
    business_date: dt.date,
) -> tuple[int, int]:
    """Update the rows whose hash changed; returns (rows a later date's file wrote, left alone; updated)."""
    table, day = sql.Identifier("raw", report.raw_table), sql.Literal(business_date)
    newer = 0
    # Rows a later date's file wrote: counted, never replaced. Checked only when the table holds any
    # (the business_date index answers that at once), which a load in date order never meets.
    later = sql.SQL("SELECT EXISTS (SELECT FROM {} WHERE business_date > {})").format(table, day)
    if conn.execute(later).fetchone()[0]:
        newer = conn.execute(
            sql.SQL(
                "SELECT count(*) FROM {table} t JOIN {keyed} k ON {match} "
                "WHERE t.row_hash <> k.row_hash AND t.business_date > {day}"
            ).format(table=table, keyed=keyed.rows, match=match, day=day)
        ).fetchone()[0]
    updates = sql.SQL(", ").join(
        sql.SQL("{} = {}").format(sql.Identifier(c), v) for c, v in values.items() if c not in keyed.key
    )
    updated = conn.execute(
        sql.SQL(
            "UPDATE {table} t SET {updates}, loaded_at = now() FROM {keyed} k "
            "WHERE {match} AND t.row_hash <> k.row_hash AND t.business_date <= {day}"
        ).format(table=table, updates=updates, keyed=keyed.rows, match=match, day=day)
    ).rowcount
    return newer, updated


def _insert_new(
    conn: psycopg.Connection, report: Report, keyed: Keyed, match: sql.Composable, values: dict[str, sql.Composable]
) -> int:
    """Insert the rows whose key the raw table does not hold yet."""
    table = sql.Identifier("raw", report.raw_table)
    return conn.execute(
        sql.SQL(
            "INSERT INTO {table} ({cols}) SELECT {vals} FROM {keyed} k "
            "WHERE NOT EXISTS (SELECT FROM {table} t WHERE {match})"
        ).format(
            table=table,
            cols=sql.SQL(", ").join(map(sql.Identifier, values)),
            vals=sql.SQL(", ").join(values.values()),
            keyed=keyed.rows,
            match=match,
        )
    ).rowcount


def _record_line_dates(conn: psycopg.Connection, report: Report, keyed: Keyed, business_date: dt.date) -> None:
    """The line directory (raw.<table>_line) learns each written line's partition date."""
    names = [*report.key, report.partition_column]
    part = sql.Identifier(report.partition_column)
    conn.execute(
        sql.SQL(
            "INSERT INTO {d} AS d ({cols}, business_date) SELECT {kcols}, {day} FROM {keyed} k "
            "ON CONFLICT ({key}) DO UPDATE SET {p} = excluded.{p} WHERE d.{p} <> excluded.{p}"
        ).format(
            d=sql.Identifier("raw", report.line_directory),
            cols=sql.SQL(", ").join(map(sql.Identifier, names)),
            kcols=sql.SQL(", ").join(sql.SQL("k.") + sql.Identifier(n) for n in names),
            day=sql.Literal(business_date),
            keyed=keyed.rows,
            key=sql.SQL(", ").join(map(sql.Identifier, report.key)),
            p=part,
        )
    )


def _supersede(
    conn: psycopg.Connection,
    report: Report,
    rejected: int,
    keyed: sql.Composable,
    match: sql.Composable,
    bound: sql.Composable,
    file_name: str,
    business_date: dt.date,
) -> int | None:
    """A snapshot file is the whole truth for the scopes its lines name (registry snapshot_scope):
    lines of those scopes that rows of this date or older wrote and this file lacks are marked
    superseded by it; lines it lists again are revived; and lines it wrote into scopes a later
    date's file already covered (a backfill in reverse) are superseded by that later file, which
    lacked them. Returns how many lines it superseded, or None when it had rejected rows: a rejected
    row may be one of the "missing" lines, so such a file supersedes nothing."""
    if rejected:
        return None
    if set(report.key) <= set(report.snapshot_scope):
        return 0  # each scope is one line (COOISPI's order): a file cannot lack a line of a scope it names
    table = sql.Identifier("raw", report.raw_table)
    day, file = sql.Literal(business_date), sql.Literal(file_name)
    scope = [sql.Identifier(c) for c in report.snapshot_scope]
    if scope:
        t_scope = sql.SQL(", ").join(sql.SQL("t.") + c for c in scope)
        in_scope = sql.SQL("({}) IN (SELECT DISTINCT {} FROM {})").format(t_scope, sql.SQL(", ").join(scope), keyed)
    else:
        t_scope, in_scope = sql.SQL("true"), sql.SQL("true")
    conn.execute(
        sql.SQL(
            "UPDATE {t} t SET superseded_on = NULL, superseded_by = NULL FROM {keyed} k "
            "WHERE {match} AND t.superseded_on <= {day}"
        ).format(t=table, keyed=keyed, match=match, day=day)
    )
    superseded = conn.execute(
        sql.SQL(
            "UPDATE {t} t SET superseded_on = {day}, superseded_by = {file} "
            "WHERE {in_scope} AND {bound} AND t.business_date <= {day} "
            "AND (t.superseded_on IS NULL OR t.superseded_on > {day}) "
            "AND NOT EXISTS (SELECT FROM {keyed} k WHERE {match})"
        ).format(t=table, day=day, file=file, in_scope=in_scope, bound=bound, keyed=keyed, match=match)
    ).rowcount
    later_rows = sql.SQL("SELECT EXISTS (SELECT FROM {} WHERE business_date > {})").format(table, day)
    if conn.execute(later_rows).fetchone()[0]:
        row_scope = sql.SQL("row({})").format(t_scope) if scope else sql.SQL("true")
        later = sql.SQL(
            "SELECT {s} AS scope, min(business_date) AS first, "
            "(array_agg(source_file ORDER BY business_date, source_file))[1] AS file "
            "FROM {t} t WHERE business_date > {day} AND {in_scope} GROUP BY 1"
        ).format(s=row_scope, t=table, day=day, in_scope=in_scope)
        conn.execute(
            sql.SQL(
                "UPDATE {t} t SET superseded_on = n.first, superseded_by = n.file FROM ({later}) n "
                "WHERE n.scope = {s} AND t.business_date = {day} AND t.source_file = {file} "
                "AND t.loaded_at = now() AND t.superseded_on IS NULL"
            ).format(t=table, later=later, s=row_scope, day=day, file=file)
        )
    return superseded


def _move_lines(conn: psycopg.Connection, report: Report, keyed: Keyed, business_date: dt.date) -> tuple[int, int]:
    """Lines of this file that the warehouse holds under another partition date (an export
    corrected a billing date). A line a file of a later business date wrote stays as it is and is
    dropped from this file's write; any other is deleted from its old date, which the line directory
    records as its previous date (the layers rebuild that date's facts too), and the write inserts
    it at its new date. Returns (left to newer rows, moved)."""
    directory = sql.Identifier("raw", report.line_directory)
    table = sql.Identifier("raw", report.raw_table)
    part = sql.Identifier(report.partition_column)
    on = sql.SQL(" AND ").join(sql.SQL("d.{0} = k.{0}").format(sql.Identifier(k)) for k in report.key)
    at = sql.SQL(" AND ").join(
        sql.SQL("t.{0} = d.{0}").format(sql.Identifier(k)) for k in [*report.key, report.partition_column]
    )
    day = sql.Literal(business_date)
    # Dropped from the keyed rows: neither written nor rejects (counted as unchanged).
    newer = conn.execute(
        sql.SQL(
            "DELETE FROM {keyed} k USING {d} d, {t} t "
            "WHERE {on} AND d.{p} <> k.{p} AND {at} AND t.business_date > {day}"
        ).format(keyed=keyed.rows, d=directory, t=table, on=on, p=part, at=at, day=day)
    ).rowcount
    moved = conn.execute(
        sql.SQL(
            "WITH gone AS (DELETE FROM {t} t USING {d} d, {keyed} k "
            "WHERE {on} AND d.{p} <> k.{p} AND {at} AND t.business_date <= {day} RETURNING {tkey}) "
            "UPDATE {d} d SET {prev} = d.{p}, {p} = k.{p}, business_date = {day} FROM gone g, {keyed} k "
            "WHERE {gone_on} AND {on}"
        ).format(
            t=table,
            d=directory,
            keyed=keyed.rows,
            on=on,
            p=part,
            at=at,
            day=day,
            tkey=sql.SQL(", ").join(sql.SQL("t.") + sql.Identifier(k) for k in report.key),
            prev=sql.Identifier(f"previous_{report.partition_column}"),
            gone_on=sql.SQL(" AND ").join(sql.SQL("d.{0} = g.{0}").format(sql.Identifier(k)) for k in report.key),
        )
    ).rowcount
    return newer, moved


def _ledger(
    conn: psycopg.Connection,
    result: FileResult,
    *,
    path: str,
    sha256: str | None,
    size: int | None,
    reader: str | None,
    run: dict,
    started: float | None = None,
    rows_digest: str | None = None,
) -> int:
    row = conn.execute(
        """INSERT INTO operations.etl_file_ledger
               (path, file_name, report, business_date, sha256, size_bytes, status, reader, rows_read,
                rows_inserted, rows_updated, rows_unchanged, rows_rejected, rows_summary, cell_issues,
                cell_issue_columns, reason, dag_id, run_id, seconds, rows_digest)
           VALUES (%(path)s, %(file_name)s, %(report)s, %(business_date)s, %(sha256)s, %(size)s, %(status)s,
                   %(reader)s, %(rows_read)s, %(rows_inserted)s, %(rows_updated)s, %(rows_unchanged)s,
                   %(rows_rejected)s, %(rows_summary)s, %(cell_issues)s, %(cell_issue_columns)s, %(reason)s,
                   %(dag_id)s, %(run_id)s, %(seconds_so_far)s, %(rows_digest)s)
           RETURNING file_id""",
        {
            **result.as_dict(),
            "cell_issue_columns": Jsonb(result.cell_issue_columns),
            "path": path,
            "sha256": sha256,
            "size": size,
            "reader": reader,
            "dag_id": run.get("dag_id"),
            "run_id": run.get("run_id"),
            "seconds_so_far": None if started is None else round(time.perf_counter() - started, 3),
            "rows_digest": rows_digest if result.status == "loaded" else None,
        },
    ).fetchone()
    return row[0]


def _numeric_ranges(conn: psycopg.Connection, raw_table: str) -> dict[str, int]:
    """Number columns of a raw table -> the power of ten their values must stay below (numeric(p, s):
    p - s digits before the point)."""
    # From pg_attribute (typmod = (p << 16 | s) + 4): information_schema.columns took 10 ms on a fresh
    # connection, a fifth of a small file's load.
    rows = conn.execute(
        """SELECT attname, ((atttypmod - 4) >> 16) - ((atttypmod - 4) & 65535) FROM pg_attribute
            WHERE attrelid = format('raw.%%I', %s::text)::regclass AND atttypid = 'numeric'::regtype
              AND atttypmod >= 0 AND attnum > 0 AND NOT attisdropped""",
        (raw_table,),
    ).fetchall()
    return dict(rows)


def _worst_columns(conn: psycopg.Connection, typed: sql.Identifier, limit: int = 3) -> str:
    """The columns that rejected most rows, with counts and one sample each (row and value)."""
    rows = conn.execute(
        sql.SQL(
            "SELECT p.column_name, count(*), min(t.source_row), "
            "(array_agg(p.value ORDER BY t.source_row))[1], (array_agg(p.reason ORDER BY t.source_row))[1] "
            "FROM {} t, unnest(t.problems) p GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT %s"
        ).format(typed),
        (limit,),
    ).fetchall()
    return "; ".join(
        f"{column} {count:,} (e.g. row {row}: {value!r}, {reason})" for column, count, row, value, reason in rows
    )


def _record_evidence(conn: psycopg.Connection, typed: sql.Identifier, file_id: int, result: FileResult) -> None:
    """The file's rejects (etl_row_reject) and cell issues (etl_cell_issue), from the typed rows; a
    file with none of a kind does not scan for them."""
    kinds = (("etl_row_reject", "problems", result.rows_rejected), ("etl_cell_issue", "issues", result.cell_issues))
    for table, array, count in kinds:
        if not count:
            continue
        conn.execute(
            sql.SQL(
                "INSERT INTO operations.{} (file_id, source_file, source_row, column_name, value, reason) "
                "SELECT %s, %s, t.source_row, p.column_name, p.value, p.reason FROM {} t, unnest(t.{}) p"
            ).format(sql.Identifier(table), typed, sql.Identifier(array)),
            (file_id, result.file_name),
        )


def _sheet_notes(sheet: Sheet) -> str | None:
    """What on-call should know about a loaded sheet's shape: cut off at Excel's last row, or stray
    values far right of the header that no column holds."""
    notes = [TRUNCATED] if sheet.truncated else []
    if sheet.ignored_cells:
        notes.append(
            f"{sheet.ignored_cells} value(s) lie far right of the last header column and belong to no column; "
            "they were not loaded (look at the sheet's used range)"
        )
    return "; ".join(notes) or None


def _result(
    sheet: Sheet,
    file_name: str,
    business_date: dt.date,
    typed: Typed,
    *,
    reject_ratio_max: float,
    keyed: Keyed | None = None,
    written: Written | None = None,
    worst: str = "",
) -> FileResult:
    """The FileResult of a read sheet: quarantined over the reject ratio (nothing written, every row
    counted as refused), else loaded, with the notes on-call should read."""
    result = FileResult(
        file_name=file_name,
        business_date=business_date.isoformat(),
        status="loaded",
        report=sheet.report.code,
        rows_read=typed.rows_read,
        rows_summary=typed.summary,
        cell_issues=sum(typed.issue_columns.values()),
        cell_issue_columns=typed.issue_columns,
    )
    if written is None:
        result.status, result.rows_rejected = "quarantined", typed.rows_read
        result.reason = (
            f"{file_name}: {typed.rejected} of {typed.rows_read} rows rejected ({typed.reject_ratio():.1%}, limit "
            f"{reject_ratio_max:.1%}); worst columns: {worst}. The failing rows are in operations.etl_row_reject "
            "(and cell issues in operations.etl_cell_issue) under this file; ask SAP for a corrected export, or fix "
            "the column's type in include/config/sap_reports.yaml, then deliver the file again"
        )
        return result
    notes = [_sheet_notes(sheet)]
    if written.superseded:
        scopes = ", ".join(sheet.report.snapshot_scope) or "the report"
        notes.append(
            f"{written.superseded} line(s) of the scopes this file covers ({scopes}) are missing from it: marked "
            "superseded (kept in raw, left out of the facts)"
        )
    elif written.superseded is None:
        notes.append("rows were rejected, so this snapshot superseded no line (a rejected row may be one of them)")
    if written.newer:
        notes.append(
            f"{written.newer} row(s) differ from what a file of a later business date wrote: the newer rows were "
            "kept (counted as unchanged); load that later date again if this file is the correction"
        )
    result.reason = "; ".join(n for n in notes if n) or None
    # Rows of a business key repeated in this file are rejects (the last one was kept), so rows read
    # still add up: read = inserted + updated + unchanged + rejected.
    result.rows_inserted, result.rows_updated = written.inserted, written.updated
    result.rows_rejected = typed.rows_read - keyed.kept
    result.rows_unchanged = typed.rows_read - result.rows_rejected - written.inserted - written.updated
    return result


def load_sheet(
    conn: psycopg.Connection,
    sheet: Sheet,
    landed: Landed,
    *,
    file_name: str,
    business_date: dt.date,
    reject_ratio_max: float,
    run: dict,
) -> FileResult:
    """Stage, type, key, write and record one recognised sheet inside the caller's transaction.
    Staging and typing run without the raw table's lock, so two files of one report stage side by
    side; the lock is taken for the write, and the file's sha256 checked again under it (raises
    _AlreadyLoaded when another load of the same content committed meanwhile). A file over the reject
    ratio writes no raw row: its ledger row says quarantined, with the worst columns, and its rejects
    and cell issues are kept as evidence."""
    scratch = Scratch.of(conn, sheet)
    _stage(conn, sheet, scratch)
    typed = _type(conn, sheet, scratch, business_date)
    digest = None
    if typed.reject_ratio() > reject_ratio_max:
        worst = _worst_columns(conn, typed.table)
        result = _result(sheet, file_name, business_date, typed, reject_ratio_max=reject_ratio_max, worst=worst)
    else:
        lock_raw_table(conn, sheet.report.raw_table)
        digest = _rows_digest(conn, sheet.report, typed)
        stale, unchanged = _same_rows_in(conn, sheet.report, digest, business_date)
        known = _known_in(conn, landed.sha256, business_date) or stale
        if known is not None:
            raise _AlreadyLoaded(known)
        keyed = _key(conn, sheet.report, scratch, typed)
        written = _write(conn, sheet.report, keyed, typed, file_name, business_date)
        result = _result(
            sheet, file_name, business_date, typed, reject_ratio_max=reject_ratio_max, keyed=keyed, written=written
        )
        if unchanged is not None:
            note = (
                f"the same rows as {unchanged.file_name} of {unchanged.business_date}: nothing changed between "
                f"the two exports, or this is that file saved again; if SAP's export of {business_date} differs, "
                "deliver it and re-run the date"
            )
            result.reason = "; ".join(r for r in (result.reason, note) if r)
    file_id = _ledger(conn, result, path=str(landed.path), sha256=landed.sha256, size=len(landed.data),
                      reader=sheet.reader, run=run, started=landed.started, rows_digest=digest)  # fmt: skip
    _record_evidence(conn, typed.table, file_id, result)
    scratch.drop(conn)
    return result


_KNOWN = (
    "SELECT report, business_date, file_name FROM operations.etl_file_ledger WHERE sha256 = %s "
    "AND status = 'loaded' ORDER BY business_date = %s DESC, recorded_at LIMIT 1"
)


def _known_in(conn: psycopg.Connection, sha256: str, business_date: dt.date) -> _Known | None:
    """The already loaded file with this content, if any (the one of ``business_date`` first)."""
    row = conn.execute(_KNOWN, (sha256, business_date)).fetchone()
    return _Known(*row) if row else None


def _rows_digest(conn: psycopg.Connection, report: Report, typed: Typed) -> str | None:
    """A fingerprint of the file's rows, order ignored: their typed values (not how the workbook
    wrote them, nor the business date the load gives them). Equal for a workbook opened and saved
    again; None for a file without data rows (an empty export of a quiet day is no copy of anything).
    Each row's md5 is cut into two 60-bit numbers; their sums and the row count make the fingerprint,
    so the rows need no sort."""
    row = sql.SQL("md5(ROW({})::text)").format(
        sql.SQL(", ").join(sql.Identifier(c.name) for c in report.columns if c.source != "business_date")
    )
    found = conn.execute(
        sql.SQL(
            "SELECT md5(count(*) || ':' || sum(('x' || substr(h, 1, 15))::bit(60)::bigint::numeric) || ':' "
            "|| sum(('x' || substr(h, 16, 15))::bit(60)::bigint::numeric)) "
            "FROM (SELECT {} AS h FROM {} WHERE NOT is_summary) r HAVING count(*) > 0"
        ).format(row, typed.table)
    ).fetchone()
    return found[0] if found else None


# The loaded file of another date with the same rows, and whether that date is a neighbour of D: the
# nearest date before D, or after it, with a loaded file of the report.
_SAME_ROWS = """
    WITH neighbours AS (
        SELECT (SELECT max(business_date) FROM operations.etl_file_ledger
                 WHERE report = %(report)s AND status = 'loaded' AND business_date < %(day)s) AS before,
               (SELECT min(business_date) FROM operations.etl_file_ledger
                 WHERE report = %(report)s AND status = 'loaded' AND business_date > %(day)s) AS after
    )
    SELECT l.report, l.business_date, l.file_name, true,
           l.business_date IN (n.before, n.after) AS neighbour
      FROM operations.etl_file_ledger l, neighbours n
     WHERE l.report = %(report)s AND l.rows_digest = %(digest)s AND l.status = 'loaded'
       AND l.business_date <> %(day)s
     ORDER BY l.business_date IN (n.before, n.after), l.business_date DESC, l.recorded_at
     LIMIT 1"""


def _same_rows_in(
    conn: psycopg.Connection, report: Report, digest: str | None, business_date: dt.date
) -> tuple[_Known | None, _Known | None]:
    """(stale, unchanged): the loaded file of another business date whose rows this file repeats
    exactly, for a report that is not static master data. Of a neighbouring date (the nearest one
    before or after with a file of the report) it may be either a quiet day's export, where nothing
    changed, or that file opened and saved again: the data cannot tell, so the file loads and its
    reason says so (unchanged). Of any other date it is an old export saved again: a quiet day cannot
    bring back the rows of an older date after a neighbour's differed (stale). An export with no data
    rows is never a copy."""
    if digest is None or report.static:
        return None, None
    row = conn.execute(_SAME_ROWS, {"report": report.code, "digest": digest, "day": business_date}).fetchone()
    if row is None:
        return None, None
    known = _Known(*row[:4])
    return (None, known) if row[4] else (known, None)


def _repeat(known: _Known, file_name: str, business_date: dt.date) -> FileResult:
    """The ledger entry of a file whose content is already loaded. For the same business date, or a
    report whose exports repeat by nature (master data, ``static`` in the registry), it is a
    duplicate: the date has its data. A non-static report's file loaded for another date is a stale
    copy (a re-send of an old export, byte for byte: a fresh SAP export is never identical, its
    workbook carries the time it was made; or re-saved, the same rows in other bytes): it does not
    count as the date's delivery."""
    day = business_date.isoformat()
    if known.business_date == business_date or reports()[known.report].static:
        return FileResult(file_name=file_name, business_date=day, status="duplicate", report=known.report,
                          reason="same content (sha256) already loaded; nothing to do")  # fmt: skip
    return FileResult(
        file_name=file_name,
        business_date=day,
        status="stale_copy",
        report=known.report,
        reason=(
            f"{'the same rows as' if known.same_rows else 'a copy of'} {known.file_name}, loaded for "
            f"{known.business_date} (a re-sent or re-saved old export): not an export of {day}, so {day} "
            f"has no {known.report} data; deliver {day}'s own {known.report} export and re-run {day}"
        ),
    )


def _load(
    conn: psycopg.Connection,
    landed: Landed,
    sheet: Sheet | None,
    problem: str | None,
    *,
    file_name: str,
    business_date: dt.date,
    reject_ratio_max: float,
    run: dict,
) -> FileResult:
    """The file's one transaction, under the business date's shared lock: the sheet loaded, or the
    ledger row of a file already known (duplicate, stale copy) or unusable (quarantined)."""
    with conn.transaction():
        lock_business_date(conn, business_date, shared=True)
        known = _known_in(conn, landed.sha256, business_date)  # again: another run may have loaded it meanwhile
        if known is None and sheet is not None:
            problem = _before_retention(conn, sheet, file_name, business_date)
        if known is None and sheet is not None and problem is None:
            try:
                with conn.transaction():
                    return load_sheet(conn, sheet, landed, file_name=file_name, business_date=business_date,
                                      reject_ratio_max=reject_ratio_max, run=run)  # fmt: skip
            except BadFileError as exc:
                problem = str(exc)
            except psycopg.Error as exc:
                # SQLSTATE classes 22 (data exception) and 54 (program limit exceeded): the file's
                # content, not the database, is at fault (a NUL character in a cell, a header wider
                # than a table can be): this file is quarantined, the others load. Anything else
                # (a lost connection, a deadlock) fails the task, and its retry loads the file.
                if not (exc.sqlstate or "").startswith(REFUSED_CONTENT):
                    raise
                detail = str(exc).strip().splitlines()[0]
                problem = (
                    f"{file_name}: PostgreSQL refused the file ({type(exc).__name__}: {detail}); "
                    "fix the cell or ask for the export again, then deliver it again"
                )
            except _AlreadyLoaded as exc:
                known = exc.known
        if problem is not None:
            result = FileResult(
                file_name=file_name, business_date=business_date.isoformat(), status="quarantined", reason=problem
            )
        else:
            result = _repeat(known, file_name, business_date)
        _ledger(conn, result, path=str(landed.path), sha256=landed.sha256, size=len(landed.data), reader=None,
                run=run, started=landed.started)  # fmt: skip
    return result


def _before_retention(conn: psycopg.Connection, sheet: Sheet, file_name: str, business_date: dt.date) -> str | None:
    """Why a file of a date whose raw rows retention has retired is not loaded: its facts are kept
    for good and are not rebuilt (layers), so its rows would sit in raw and never reach them."""
    table = f"raw.{sheet.report.raw_table}"
    cutoff = raw_retired_before(conn).get(table)
    if cutoff is None or business_date >= cutoff:
        return None
    return (
        f"{file_name}: a {sheet.report.code.upper()} export of {business_date}, before the retention cutoff of {table} "
        f"({cutoff}): that date's raw rows were archived and its facts are kept as they are, so this file's rows "
        f"would never reach them. To change {business_date}, reload its rows from the retention archive "
        "(README, runbook: What would retention delete?), then deliver this file again and re-run the date"
    )


def _settle(
    result: FileResult, landed: Landed, business_date: dt.date, *, quarantine_root, archive_root, keep_source: bool
) -> None:
    """After the commit: the file moves to quarantine or the archive, and the log says what happened."""
    if result.status == "quarantined":
        move_file(landed.path, quarantine_root / business_date.isoformat(), landed.data, landed.sha256,
                  keep_source=keep_source and not landed.in_archive)  # fmt: skip
        log.error("QUARANTINED %s", result.reason)
        return
    if result.status == "stale_copy":
        log.error("STALE COPY %s: %s", result.file_name, result.reason)
    if result.cell_issues:
        log.warning(
            "%s: %d cell(s) failed typing and were loaded as NULL (operations.etl_cell_issue): %s",
            result.file_name,
            result.cell_issues,
            ", ".join(f"{column} {count}" for column, count in result.cell_issue_columns.items()),
        )
    if result.status == "loaded" and result.reason:
        log.warning("%s: %s", result.file_name, result.reason)
    if archive_root is not None and not landed.in_archive:
        move_file(landed.path, archive_root / business_date.isoformat(), landed.data, landed.sha256)


def load_file(
    path,
    business_date: dt.date,
    *,
    quarantine_root,
    archive_root=None,
    reject_ratio_max: float = 0.05,
    run: dict | None = None,
    conninfo: str | None = None,
    keep_source: bool = False,
) -> FileResult:
    """Load one landed file (an ObjectStoragePath or pathlib.Path) in one transaction (parsed
    first, outside it), then move it: to ``<archive_root>/<D>/`` when loaded or already known
    (kept, never deleted; left in place when archive_root is None), to ``<quarantine_root>/<D>/``
    when unusable (copied, the source left in place, with ``keep_source``: a file a writer may still
    hold). The move comes after the commit: if it fails, the next run finds the file, knows its
    sha256, and moves it. A file that cannot be read at all (gone, no permission) gets a quarantined
    ledger row with the reason and stays where it is."""
    started = time.perf_counter()
    try:
        landed = _land(path, business_date, archive_root)
    except OSError as error:
        return unreadable(path, business_date, error, run=run, conninfo=conninfo)
    # Parse before any transaction or lock: reading is the CPU-bound part, and the files of one
    # date read side by side. A file known by its sha256 is not parsed at all.
    # One connection for the look-up and the load (a connection costs more than a small file's rows).
    sheet, problem, seconds_read = None, None, 0.0
    with connect(conninfo, autocommit=True) as conn:
        if _known_in(conn, landed.sha256, business_date) is None:
            parsing = time.perf_counter()
            sheet, problem = _parse(landed, path.name)
            seconds_read = time.perf_counter() - parsing
        result = _load(conn, landed, sheet, problem, file_name=path.name, business_date=business_date,
                       reject_ratio_max=reject_ratio_max, run=run or {})  # fmt: skip
    _settle(result, landed, business_date, quarantine_root=quarantine_root, archive_root=archive_root,
            keep_source=keep_source)  # fmt: skip
    result.seconds_read = round(seconds_read, 3)
    result.seconds = round(time.perf_counter() - started, 3)
    log.info(
        "%s: %s %s, %s rows read, %s inserted, %s updated, %s unchanged, %s rejected, %s list totals, "
        "%.2f s (reading %.2f s)",
        result.file_name, result.report, result.status, result.rows_read, result.rows_inserted, result.rows_updated,
        result.rows_unchanged, result.rows_rejected, result.rows_summary, result.seconds, seconds_read,
    )  # fmt: skip
    return result


def quarantine_entry(path, reason: str, business_date: dt.date, *, quarantine_root, run: dict | None = None,
                     conninfo: str | None = None) -> FileResult:  # fmt: skip
    """Record a landing entry that must not be read (a link, an unsupported type) and take it out
    of the landing folder: a link is removed (its target is never touched), a file is moved to
    quarantine."""
    result = _quarantined_unread(path, reason, business_date, run=run, conninfo=conninfo)
    local = str(getattr(path, "path", path))
    if os.path.islink(local):
        os.unlink(local)
    else:
        data = path.read_bytes()
        # Under its shown name: a line break or a byte that is not UTF-8 does not travel further.
        move_file(path, quarantine_root / business_date.isoformat(), data, hashlib.sha256(data).hexdigest(),
                  name=result.file_name)  # fmt: skip
    return result


def _quarantined_unread(path, reason: str, business_date: dt.date, *, run: dict | None, conninfo: str | None
                        ) -> FileResult:  # fmt: skip
    """The 'quarantined' ledger row (and log line) of an entry never read, under its shown name."""
    name = shown_name(path.name)
    result = FileResult(file_name=name, business_date=business_date.isoformat(), status="quarantined", reason=reason)
    with connect(conninfo) as conn:
        lock_business_date(conn, business_date, shared=True)
        _ledger(conn, result, path=shown_name(str(path)), sha256=None, size=None, reader=None, run=run or {})
    log.error("QUARANTINED %s", reason)
    return result


def unreadable(path, business_date: dt.date, error: OSError, *, run: dict | None = None,
               conninfo: str | None = None) -> FileResult:  # fmt: skip
    """The ledger row of a landed file that cannot be read at all (it vanished, or its permissions
    keep the loader out): quarantined with the reason, the file left where it is (it cannot be moved
    unread). The date's other files still load."""
    reason = (
        f"{shown_name(path.name)}: cannot be read ({type(error).__name__}: {error.strerror or error}); if it is still "
        "in the landing folder, make it readable by the loader and re-run the date, else deliver it again"
    )
    return _quarantined_unread(path, reason, business_date, run=run, conninfo=conninfo)


def record_skipped(business_date: dt.date, skipped: list[tuple[object, str]], *, run: dict | None = None,
                   conninfo: str | None = None) -> list[str]:  # fmt: skip
    """A 'skipped' ledger row for each landing entry left alone on purpose (landing.Listing.skipped),
    once per date and name; returns the names recorded now."""
    if not skipped:
        return []
    run = run or {}
    rows = [(shown_name(path.name), shown_name(str(path)), reason) for path, reason in skipped]
    with connect(conninfo) as conn:
        recorded = conn.execute(
            """INSERT INTO operations.etl_file_ledger (path, file_name, business_date, status, reason, dag_id, run_id)
               SELECT s.path, s.file_name, %(day)s, 'skipped', s.reason, %(dag_id)s, %(run_id)s
                 FROM unnest(%(names)s::text[], %(paths)s::text[], %(reasons)s::text[]) AS s(file_name, path, reason)
                WHERE NOT EXISTS (SELECT FROM operations.etl_file_ledger l
                                   WHERE l.business_date = %(day)s AND l.file_name = s.file_name
                                     AND l.status = 'skipped')
               RETURNING file_name""",
            {"day": business_date, "names": [r[0] for r in rows], "paths": [r[1] for r in rows],
             "reasons": [r[2] for r in rows], "dag_id": run.get("dag_id"), "run_id": run.get("run_id")},
        ).fetchall()  # fmt: skip
    for _, _, reason in rows:
        log.warning("SKIPPED %s", reason)
    return [r[0] for r in recorded]


def record_missing(business_date: dt.date, expected: list[str], *, landing: str, run: dict | None = None,
                   conninfo: str | None = None) -> list[str]:  # fmt: skip
    """Ledger rows with status 'missing' for the expected reports that no file of the business
    date delivered (loaded or already known); recorded once per date and report."""
    run = run or {}
    with connect(conninfo) as conn:
        lock_business_date(conn, business_date)
        rows = conn.execute(
            """INSERT INTO operations.etl_file_ledger (path, file_name, report, business_date, status, reason,
                                                       dag_id, run_id)
               SELECT %(landing)s, '(none)', r.report, %(day)s, 'missing',
                      'no file of this report arrived for the business date by the deadline', %(dag_id)s, %(run_id)s
                 FROM unnest(%(expected)s::text[]) AS r(report)
                WHERE NOT EXISTS (SELECT FROM operations.etl_file_ledger l
                                   WHERE l.business_date = %(day)s AND l.report = r.report
                                     AND l.status IN ('loaded', 'duplicate', 'missing'))
               RETURNING report""",
            {
                "landing": landing,
                "day": business_date,
                "expected": expected,
                "dag_id": run.get("dag_id"),
                "run_id": run.get("run_id"),
            },
        ).fetchall()
    missing = [r[0] for r in rows]
    if missing:
        log.warning("%s: no file arrived for %s", business_date, ", ".join(missing))
    return missing


_WAITING = """
    SELECT f.business_date, f.file_name FROM operations.late_file f
     WHERE f.business_date >= %s AND f.business_date < %s
       AND NOT EXISTS (SELECT FROM operations.etl_file_ledger l
                        WHERE l.business_date = f.business_date AND l.file_name = f.file_name
                          AND l.recorded_at > f.modified_at)
     ORDER BY 1, 2"""


def record_late_files(business_date: dt.date, found: list[tuple[dt.date, object]], lookback_days: int, *,
                      conninfo: str | None = None) -> list[str]:  # fmt: skip
    """Replace what operations.late_file holds for the ``lookback_days`` dates before
    ``business_date`` with ``found`` (date, file): the files waiting in those dates' landing folders.
    Returns (and logs) those no run of their date has recorded in the file ledger since their last
    change: the late_file alert names each of them. A file a run did record and leave in place (an
    unfinished workbook given up, copied to quarantine) is not waiting."""
    rows = []
    for day, path in found:
        try:
            stat = path.stat()
            size, modified = stat.st_size, dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC)
        except FileNotFoundError:
            continue
        rows.append((day, path.name, str(path), size, modified, business_date))
    first = business_date - dt.timedelta(days=lookback_days)
    with connect(conninfo) as conn:
        conn.execute(
            "DELETE FROM operations.late_file WHERE business_date >= %s AND business_date < %s", (first, business_date)
        )
        with conn.cursor() as cur:
            cur.executemany(
                """INSERT INTO operations.late_file (business_date, file_name, path, size_bytes, modified_at,
                                                     seen_by_business_date)
                   VALUES (%s, %s, %s, %s, %s, %s)""",
                rows,
            )
        waiting = conn.execute(_WAITING, (first, business_date)).fetchall()
    names = [f"{day}/{name}" for day, name in waiting]
    if names:
        log.error("files waiting in the landing folders of earlier dates (re-run those dates): %s", ", ".join(names))
    return names
