"""Stage 6: the keyed rows into raw.<table>: new rows inserted, changed ones updated (newer wins: a
file of an older business date never replaces what a later one wrote). Registry flags read here:
``key_strategy`` (a ``content_occurrence`` row is its content, so it is new or unchanged and never
updated, and carries its ``occurrence``), ``partition_column`` (the date the raw table is partitioned
by: a re-dated line's old and new partitions), ``line_directory`` (raw.<table>_line remembers each
line's partition date, so a line an export re-dates moves, and the layers rebuild its old date too)
and ``snapshot_scope`` (the columns whose values a file covers completely: the lines of those scopes
it lacks are superseded; ``[]`` means the whole report, absent means a file is no snapshot)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import psycopg
from psycopg import sql

from sap_warehouse.core.registry import Report
from sap_warehouse.ingest.raw_load.key import Keyed, match_condition
from sap_warehouse.ingest.raw_load.typed import Typed


@dataclass(frozen=True)
class Written:
    """What the write did to the raw table."""

    inserted: int
    updated: int
    newer: int  # rows left alone because a file of a later business date wrote them
    superseded: int | None  # lines of the file's snapshot scopes it superseded; None: rejects kept it from it


def write_rows(
    conn: psycopg.Connection, report: Report, keyed: Keyed, typed: Typed, file_name: str, business_date: dt.date
) -> Written:
    """Move lines whose partition date changed, update rows whose hash changed, insert new rows,
    record the lines' dates and supersede what a snapshot lacks. Newer wins: a row's business_date is
    the date of the file that last wrote it, and a file of an older date (a late re-delivery, a
    backfill in reverse order) never replaces it. Unchanged rows cost the probe alone."""
    match, (low, high) = match_condition(conn, report, keyed, typed)
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
