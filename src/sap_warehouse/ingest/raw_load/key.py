"""Stage 5: one row per business key. Registry flags read here: ``key_strategy`` (``columns``: the
report's key columns name a row, and a file repeating one keeps its last row; ``content_occurrence``:
MB51's document lines carry no stable key, so a row is its content, the n-th occurrence of an
identical row being another row) and ``partition_column`` (the raw table's monthly partitions are
by this date column: it joins the key, and a file's probe is bounded to the partitions it touches)."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql

from sap_warehouse.core.db import first_row
from sap_warehouse.core.registry import Report
from sap_warehouse.ingest.raw_load.stage import Scratch
from sap_warehouse.ingest.raw_load.typed import Typed

DUPLICATE_KEY = "duplicate business key in this file; a later row wins"


@dataclass(frozen=True)
class Keyed:
    """The rows to write, one per business key: ``rows`` (a table, or for content-keyed reports a
    subquery of the typed rows), the columns that identify a row in the raw table, and how many
    rows the file kept (the others repeated a key of the file and are rejects)."""

    rows: sql.Composable
    key: list[str]
    kept: int


def key_rows(conn: psycopg.Connection, report: Report, scratch: Scratch, typed: Typed) -> Keyed:
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
        rows, key = sql.Composed([scratch.keyed]), list(report.key)
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


def match_condition(
    conn: psycopg.Connection, report: Report, keyed: Keyed, typed: Typed
) -> tuple[sql.Composable, tuple]:
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
    low, high = first_row(conn.execute(sql.SQL("SELECT min({p}), max({p}) FROM {t}").format(p=part, t=typed.table)))
    bounded = sql.SQL("{} AND t.{p} BETWEEN {low} AND {high}").format(
        match, p=part, low=sql.Literal(low), high=sql.Literal(high)
    )
    return bounded, (low, high)
