"""Retention: archive, verify the archive, then delete what is older than each table's policy.

Reads include/config/retention.yaml (policies), operations.backup_log (the last verified backup) and
the tables it names. Writes gzip CSV archives to ``<archive>/retention/<schema.table>/``, deletes the
archived rows (or drops whole monthly partitions of partitioned tables), and records each action in
operations.retention_log.

Per policy, in one REPEATABLE READ transaction that first locks the table against writers (before
its snapshot is taken, so nothing committed meanwhile escapes the archive): count the rows to go,
COPY exactly those rows to the archive, read the archive back and count its records, and only if the
counts agree delete the same rows (the DELETE must affect that count too, or everything rolls back).
The cutoff is the run date minus keep_days, but never later than the day before the last verified
backup, and rows loaded after that backup are never deleted: whatever retention removes, a verified
backup still holds. With no verified backup at all, nothing is deleted. A dry run counts and reports
only. Running twice changes nothing the second time (nothing old is left to archive).
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import gzip
import hashlib
import io
import logging
import re

import psycopg
import yaml
from psycopg import sql

from sap_warehouse.core.db import OWNER_CONN_ID, connect, first_row
from sap_warehouse.core.registry import CONFIG_DIR

log = logging.getLogger(__name__)

BOUND = re.compile(r"TO \('(\d{4}-\d{2}-\d{2})'\)")


class RetentionError(RuntimeError):
    """A policy is wrong or an archive did not verify; nothing of that table was deleted."""


@functools.cache
def policies() -> dict[str, dict]:
    with open(CONFIG_DIR / "retention.yaml", encoding="utf-8") as fh:
        spec = yaml.safe_load(fh)["policies"]
    for table, policy in spec.items():
        if int(policy.get("keep_days", 0)) < 1:
            raise RetentionError(f"retention.yaml: {table} needs keep_days of at least 1")
        parent = policy.get("via", {}).get("table")
        if parent in spec and spec[parent]["keep_days"] < policy["keep_days"]:
            raise RetentionError(
                f"retention.yaml: {table} keeps {policy['keep_days']} days but {parent}, whose rows it belongs "
                f"to (deleting them deletes it), only {spec[parent]['keep_days']}; keep {parent} at least as long"
            )
    return spec


def _columns(conn: psycopg.Connection, table: str) -> set[str]:
    schema, name = table.split(".")
    columns = {
        r[0]
        for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s",
            (schema, name),
        )
    }
    if not columns:
        raise RetentionError(f"retention.yaml: no table {table}")
    return columns


def last_verified_backup(conn: psycopg.Connection) -> dt.datetime | None:
    return conn.execute("SELECT max(started_at) FROM operations.backup_log WHERE status = 'verified'").fetchone()[0]


def _partitions(conn: psycopg.Connection, table: str, date_column: str) -> list[tuple[str, dt.date]] | None:
    """(partition, exclusive upper bound) of each range partition, oldest first; None when the table
    is not partitioned. The DEFAULT partition is never listed (it has no range)."""
    key = conn.execute(
        "SELECT pg_get_partkeydef(c.oid) FROM pg_class c WHERE c.oid = %s::regclass AND c.relkind = 'p'", (table,)
    ).fetchone()
    if key is None:
        return None
    if key[0] != f"RANGE ({date_column})":
        raise RetentionError(
            f"retention.yaml: {table} is partitioned by {key[0]}, not by its date_column {date_column}; "
            f"name the partition key as date_column so whole partitions can go"
        )
    found = []
    for name, bound in conn.execute(
        "SELECT format('%%I.%%I', n.nspname, c.relname), pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
        "JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE i.inhparent = %s::regclass",
        (table,),
    ):
        match = BOUND.search(bound)
        if match:
            found.append((name, dt.date.fromisoformat(match.group(1))))
    return sorted(found, key=lambda p: p[1])


def _where(
    policy: dict, columns: set[str], parent_columns: set[str], cutoff: dt.date, backup_at: dt.datetime
) -> tuple[sql.Composable, dict]:
    """The rows of a policy to go: dated before the cutoff, written before the backup, ``only`` matched
    (with ``via``, date and written time are the parent row's)."""
    date, written = sql.Identifier(policy["date_column"]), sql.Identifier(policy.get("written_column", "loaded_at"))
    own = parent_columns if "via" in policy else columns
    for column in (policy["date_column"], policy.get("written_column", "loaded_at")):
        if column not in own:
            raise RetentionError(f"retention.yaml: no column {column} where the policy reads it")
    dated = sql.SQL("{date} < %(cutoff)s AND {written} < %(backup_at)s").format(date=date, written=written)
    if "via" in policy:
        via = policy["via"]
        dated = sql.SQL("{key} IN (SELECT {key} FROM {parent} WHERE {dated})").format(
            key=sql.Identifier(via["key"]), parent=sql.Identifier(*via["table"].split(".")), dated=dated
        )
    conditions = [dated]
    params: dict = {"cutoff": cutoff, "backup_at": backup_at}
    for i, (column, value) in enumerate(sorted(policy.get("only", {}).items())):
        if column not in columns:
            raise RetentionError(f"retention.yaml: 'only' names {column}, not a column of the table")
        conditions.append(sql.SQL("{} = %({})s").format(sql.Identifier(column), sql.SQL(f"only_{i}")))
        params[f"only_{i}"] = value
    return sql.SQL(" AND ").join(conditions), params


class _Hashed(io.RawIOBase):
    """A file whose bytes, written or read, also go into ``digest``."""

    def __init__(self, raw, digest) -> None:
        self.raw, self.digest = raw, digest

    def writable(self) -> bool:
        return self.raw.writable()

    def readable(self) -> bool:
        return self.raw.readable()

    def write(self, data) -> int:
        self.digest.update(data)
        return self.raw.write(data)

    def readinto(self, buffer) -> int:
        data = self.raw.read(len(buffer))
        self.digest.update(data)
        buffer[: len(data)] = data
        return len(data)


def _archive(conn: psycopg.Connection, query: sql.Composable, params: dict, target) -> tuple[int, str]:
    """COPY the query's rows to ``target`` as gzip CSV with a header; read the file back and count
    its records. Returns (records, sha256 of the file)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    copy_sql = sql.SQL("COPY ({}) TO STDOUT WITH (FORMAT csv, HEADER)").format(query)
    with target.open("wb") as raw, gzip.GzipFile(fileobj=_Hashed(raw, digest), mode="wb", mtime=0) as out:
        with conn.cursor() as cur, cur.copy(copy_sql, params) as copy:
            for data in copy:
                out.write(data)
    read_digest = hashlib.sha256()
    with (
        target.open("rb") as raw,
        gzip.open(io.BufferedReader(_Hashed(raw, read_digest)), "rt", encoding="utf-8", newline="") as text,
    ):
        records = sum(1 for _ in csv.reader(text)) - 1
        while text.read(1 << 20):  # the rest of the stream, so the whole file is hashed
            pass
    if read_digest.hexdigest() != digest.hexdigest():
        raise RetentionError(f"{target}: the archive read back differs from what was written")
    return records, digest.hexdigest()


def _log(conn: psycopg.Connection, run_id: str, table: str, cutoff: dt.date, dry_run: bool, action: dict) -> None:
    conn.execute(
        """INSERT INTO operations.retention_log (run_id, table_name, cutoff, dry_run, action, target, rows_affected,
                                                 archive_path, archive_sha256)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)""",
        (
            run_id,
            table,
            cutoff,
            dry_run,
            action["action"],
            action.get("target"),
            action["rows"],
            action.get("archive"),
            action.get("sha256"),
        ),
    )


def _apply_policy(
    conninfo: str | None,
    table: str,
    policy: dict,
    today: dt.date,
    backup_at: dt.datetime,
    archive,
    run_id: str,
    dry_run: bool,
) -> list[dict]:
    cutoff = min(today - dt.timedelta(days=int(policy["keep_days"])), backup_at.date() - dt.timedelta(days=1))
    actions: list[dict] = []
    folder = archive / "retention" / table
    with connect(conninfo, conn_id=OWNER_CONN_ID) as conn:  # the catalog, read before the transaction that deletes
        columns = _columns(conn, table)
        parent_columns = _columns(conn, policy["via"]["table"]) if "via" in policy else set()
        partitions = _partitions(conn, table, policy["date_column"])
    where, params = _where(policy, columns, parent_columns, cutoff, backup_at)
    with connect(conninfo, conn_id=OWNER_CONN_ID) as conn:
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        if not dry_run:
            # The lock comes before the first query, which takes the snapshot: a load committed while
            # the lock was awaited is in the snapshot, so it is archived before anything is dropped.
            # Readers go on; writers of this table wait until the archive is verified and committed.
            conn.execute(sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(sql.Identifier(*table.split("."))))
        if partitions is not None:
            # Whole partitions whose range ends on or before the cutoff, and no row of which is newer
            # than the backup; then the rows left in the range (the DEFAULT partition, later loads).
            for name, upper in partitions:
                if upper > cutoff:
                    break
                ident = sql.Identifier(*name.split("."))
                rows, newest = first_row(
                    conn.execute(
                        sql.SQL("SELECT count(*), max({}) FROM {}").format(
                            sql.Identifier(policy.get("written_column", "loaded_at")), ident
                        )
                    )
                )
                if newest is not None and newest >= backup_at:
                    continue  # rows loaded after the backup: left to the row-wise pass below
                action = {"action": "drop_partition", "target": name, "rows": rows}
                if not dry_run:
                    if rows:
                        file = folder / f"{name.split('.')[1]}.csv.gz"
                        archived, sha = _archive(conn, sql.SQL("SELECT * FROM {}").format(ident), {}, file)
                        if archived != rows:
                            raise RetentionError(f"{file}: {archived} records archived, {rows} in {name}")
                        action.update(archive=str(file), sha256=sha)
                    conn.execute(sql.SQL("DROP TABLE {}").format(ident))
                actions.append(action)
        target = sql.Identifier(*table.split("."))
        if dry_run and actions:  # the partitions a real run drops first are not counted twice
            where = sql.SQL("{} AND tableoid <> ALL(%(dropped)s::regclass[])").format(where)
            params["dropped"] = [a["target"] for a in actions]
        rows = conn.execute(sql.SQL("SELECT count(*) FROM {} WHERE {}").format(target, where), params).fetchone()[0]
        if rows:
            action = {"action": "delete_rows", "target": f"{policy['date_column']} < {cutoff}", "rows": rows}
            if not dry_run:
                file = folder / f"before_{cutoff}_{run_id_slug(run_id)}.csv.gz"
                query = sql.SQL("SELECT * FROM {} WHERE {}").format(target, where)
                archived, sha = _archive(conn, query, params, file)
                if archived != rows:
                    raise RetentionError(f"{file}: {archived} records archived, {rows} rows of {table} to delete")
                deleted = conn.execute(sql.SQL("DELETE FROM {} WHERE {}").format(target, where), params).rowcount
                if deleted != rows:
                    raise RetentionError(f"{table}: {deleted} rows deleted, {rows} archived; rolled back")
                action.update(archive=str(file), sha256=sha)
            actions.append(action)
        for action in actions:
            _log(conn, run_id, table, cutoff, dry_run, action)
    for action in actions:
        log.info(
            "%s%s %s %s: %s rows",
            "(dry run) " if dry_run else "",
            table,
            action["action"],
            action["target"],
            action["rows"],
        )
    return actions


def run_id_slug(run_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", run_id).strip("-")[:60]


def apply(
    today: dt.date, archive, *, dry_run: bool, run_id: str = "manual", conninfo: str | None = None
) -> dict[str, list[dict]]:
    """Apply every policy for the run date ``today``; returns the actions per table. Refuses to
    delete anything while no verified backup exists."""
    with connect(conninfo, conn_id=OWNER_CONN_ID) as conn:
        backup_at = last_verified_backup(conn)
    if backup_at is None:
        log.warning("no verified backup yet: retention deletes nothing until warehouse_backup has verified one")
        return {}
    return {
        table: _apply_policy(conninfo, table, policy, today, backup_at, archive, run_id, dry_run)
        for table, policy in policies().items()
    }
