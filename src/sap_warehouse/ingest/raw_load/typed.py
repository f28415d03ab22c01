"""Stage 4: the staged text typed by the database's cell parsers (operations.sap_date, sap_number,
sap_code, sap_text) into the registry's columns, with each row's rejects (``problems``), its cell
issues, whether it is a SAP list total, its row_hash and raw_data. Identifiers come from the
registry only. Registry flags read here: a column's ``type``, ``required``, ``strip_suffix`` and
placeholders; a report's ``identity`` (its blank marks a list total) and which columns are
fact-critical (a failed value there rejects the row; elsewhere it loads as NULL)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import psycopg
from psycopg import sql

from sap_warehouse.core.db import first_row
from sap_warehouse.core.registry import Column
from sap_warehouse.ingest.raw_load.stage import Scratch
from sap_warehouse.ingest.workbook import Sheet

PROBLEM = {
    "date": "not a date (expected an Excel date, dd.mm.yyyy or yyyy-mm-dd)",
    "number": "not a number (expected 1234.5, 1.234,50 or 1.234,50-)",
}


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


def _typed_columns(sheet: Sheet, business_date: dt.date, ranges: dict[str, int]) -> tuple[list, list, dict]:
    """Per registry column: its parsed cell for the fenced subquery (``inner``), the checks that make
    a row's problems or cell issues (kind, header, original cell, condition, reason), and the final
    expression of the typed column (``final``: NULL beyond the raw column's range)."""
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
    return inner, checks, final


def _reasons(checks: list, kind: str) -> sql.Composable:
    """The array of a row's reasons of one kind (problem or issue); empty for a list total."""
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
    inner, checks, final = _typed_columns(sheet, business_date, ranges)
    return sql.SQL(
        "SELECT t.source_row, {names}, {problems} AS problems, {issues} AS issues, t.is_summary, "
        "{row_hash} AS row_hash, t.raw_data "
        "FROM (SELECT s.*, {inner}, {summary} AS is_summary, {raw_data} AS raw_data FROM {stage} s "
        "WHERE NOT (ROW({cells}) IS NULL) OFFSET 0) t"  # blank rows are not rows
    ).format(
        names=sql.SQL(", ").join(
            sql.SQL("{} AS {}").format(final[c.name], sql.Identifier(c.name)) for c in report.columns
        ),
        problems=_reasons(checks, "problem"),
        issues=_reasons(checks, "issue"),
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


def numeric_ranges(conn: psycopg.Connection, raw_table: str) -> dict[str, int]:
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


def type_rows(conn: psycopg.Connection, sheet: Sheet, scratch: Scratch, business_date: dt.date) -> Typed:
    """The staged cells typed into ``scratch.typed`` (see _typed_select), and their counts."""
    ranges = numeric_ranges(conn, sheet.report.raw_table)
    typed = scratch.typed
    conn.execute(
        sql.SQL("CREATE {} TABLE {} AS {}").format(
            scratch.persistence, typed, _typed_select(sheet, business_date, scratch.stage, ranges)
        )
    )
    rows_read, rejected, summary = first_row(
        conn.execute(
            sql.SQL(
                "SELECT count(*) FILTER (WHERE NOT is_summary), "
                "count(*) FILTER (WHERE NOT is_summary AND cardinality(problems) > 0), "
                "count(*) FILTER (WHERE is_summary) FROM {}"
            ).format(typed)
        )
    )
    issue_columns = conn.execute(
        sql.SQL("SELECT p.column_name, count(*)::integer FROM {} t, unnest(t.issues) p GROUP BY 1 ORDER BY 1").format(
            typed
        )
    ).fetchall()
    return Typed(typed, rows_read, rejected, summary, dict(issue_columns))


def worst_columns(conn: psycopg.Connection, typed: sql.Identifier, limit: int = 3) -> str:
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
