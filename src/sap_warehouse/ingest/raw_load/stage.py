"""Stage 3: the sheet's cells as text in a scratch table (COPY), inside the file's transaction."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import psycopg
from psycopg import sql

from sap_warehouse.ingest.workbook import Sheet

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


def _stage_csv(sheet: Sheet, chunk_rows: int = 20_000):
    """The sheet's rows as CSV text, in chunks: the server parses one chunk of the COPY while the
    next is written."""
    for start in range(0, len(sheet.rows), chunk_rows):
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows(sheet.rows[start : start + chunk_rows])
        yield buf.getvalue()


def stage_cells(conn: psycopg.Connection, sheet: Sheet, scratch: Scratch) -> None:
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
