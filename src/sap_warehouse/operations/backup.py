"""Backups of the warehouse: pg_dump to the backup location, verified by restoring, rotated.

Reads the warehouse (connection ``warehouse_db``) and the backup location (an ObjectStoragePath:
file:// by default, s3:// etc. in production). Writes, per backup, ``<name>.dump`` (pg_dump custom
format) and ``<name>.json`` (its manifest: size, sha256, versions, the row count of every table in
the dumped snapshot, the database's settings, status), a row of operations.backup_log, and for
verification a scratch database ``<name>_verify`` on the same server that is always dropped again.

- dump: the dump streams under a hidden ``.partial`` name and is renamed only after pg_dump
  succeeded; local files are created private (0600). pg_dump runs on a snapshot exported by a
  REPEATABLE READ transaction, and the row counts are taken in that same transaction, so they are
  exactly what the dump holds even while the daily run writes.
- verify: the dump is read back from the location (sha256 checked), restored with pg_restore
  --exit-on-error into the scratch database, and every table's row count compared with the manifest.
- rotate: keeps the newest verified backup of each of the last N days, weeks and months (7 / 4 / 12
  by default) and never the newest verified one; unverified backups newer than it are kept too.

Restore a backup into a new database (the command docs/runbook.md shows):

    sapwh backup list --location file:///srv/backups
    sapwh backup restore --location file:///srv/backups \\
        --backup warehouse_20261122T020000Z --into warehouse_restored

or put chosen tables of a verified backup back into the live warehouse (a fact damaged by a bad
manual fix): the rows are checked in a side schema, then swapped in one transaction, logged in
operations.table_restore_log, and the views refreshed:

    sapwh backup restore-tables --location file:///srv/backups \
        --backup warehouse_20261122T020000Z --table facts.fact_billing
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

from sap_warehouse.build.layers import refresh_all_views
from sap_warehouse.core import settings
from sap_warehouse.core.db import BACKUP_CONN_ID, OWNER_CONN_ID, connect, row_count, table_name, warehouse_conninfo

log = logging.getLogger(__name__)

CHUNK = 1 << 20
LOCAL_PROTOCOLS = ("file", "local", "")
NAME_PATTERN = re.compile(r"^warehouse_\d{8}T\d{6}Z$")

# Scratch tables a running load keeps in operations (raw_load.stage.Scratch), owned by the loader and
# gone when it ends: neither dumped nor counted.
SCRATCH_TABLES = ("load_stage_*", "load_typed_*")
TABLES = """
SELECT n.nspname, c.relname
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p', 'm') AND NOT c.relispartition AND (c.relkind <> 'm' OR c.relispopulated)
   AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
   AND NOT (n.nspname = 'operations' AND c.relname ~ '^(load_stage|load_typed)_')
 ORDER BY 1, 2
"""
DATABASE_SETTINGS = """
SELECT coalesce(s.setconfig, '{}') FROM pg_database d
  LEFT JOIN pg_db_role_setting s ON s.setdatabase = d.oid AND s.setrole = 0
 WHERE d.datname = current_database()
"""


class BackupError(RuntimeError):
    """A backup could not be made, verified, rotated or restored; older backups are untouched."""


# --- tools and connections -------------------------------------------------------------------------


def _major(tool: str) -> int:
    out = subprocess.run([tool, "--version"], capture_output=True, text=True, check=True).stdout  # noqa: S603
    match = re.search(r"\)\s+(\d+)", out)
    if not match:
        raise BackupError(f"cannot read the version of {tool} from {out.strip()!r}")
    return int(match.group(1))


def pg_tool(name: str, server_major: int) -> tuple[str, int]:
    """The pg_dump / pg_restore to use and its major version: WAREHOUSE_PG_BIN_DIR if set, else the
    server's own major version's binaries, else the one on PATH. It must be at least as new as the
    server (an older pg_dump cannot read a newer server's catalogue)."""
    candidates = []
    if settings.value("WAREHOUSE_PG_BIN_DIR"):
        candidates.append(Path(settings.value("WAREHOUSE_PG_BIN_DIR")) / name)
    candidates.append(Path(f"/usr/lib/postgresql/{server_major}/bin/{name}"))
    on_path = shutil.which(name)
    if on_path:
        candidates.append(Path(on_path))
    found = []
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            major = _major(str(candidate))
            if major >= server_major:
                return str(candidate), major
            found.append(f"{candidate} ({major})")
    raise BackupError(
        f"no {name} of PostgreSQL {server_major} or newer (found: {', '.join(found) or 'none'}); install the "
        f"postgresql-client-{server_major} package or point WAREHOUSE_PG_BIN_DIR at its bin directory"
    )


def _libpq(conninfo: str, dbname: str | None = None) -> tuple[str, dict]:
    """Connection string without the password, and the environment that carries it (never argv)."""
    params = psycopg.conninfo.conninfo_to_dict(conninfo)
    password = params.pop("password", None)
    if dbname:
        params["dbname"] = dbname
    env = {**os.environ, "PGAPPNAME": "sap_warehouse_backup"}
    if password:
        env["PGPASSWORD"] = str(password)
    return psycopg.conninfo.make_conninfo("", **params), env


def table_rows(conn: psycopg.Connection) -> dict[str, int]:
    """Exact row count of every table and populated materialized view (partitioned tables whole)."""
    names = conn.execute(TABLES).fetchall()
    if not names:
        return {}
    query = sql.SQL(" UNION ALL ").join(
        sql.SQL("SELECT {}, count(*) FROM {}").format(sql.Literal(f"{schema}.{table}"), sql.Identifier(schema, table))
        for schema, table in names
    )
    return {name: count for name, count in conn.execute(query)}


def _local_path(path) -> str | None:
    return str(path.path) if getattr(path, "protocol", "file") in LOCAL_PROTOCOLS else None


def _create_private(path) -> None:
    """Create a local file 0600 before any byte is written to it (object stores have their own ACLs)."""
    local = _local_path(path)
    if local:
        os.close(os.open(local, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600))
        os.chmod(local, 0o600)


def _remove_quietly(path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()


def _write_json(location, name: str, data: dict) -> None:
    tmp = location / f".{name}.json.partial"
    _create_private(tmp)
    with tmp.open("w") as out:
        json.dump(data, out, indent=2, default=str, sort_keys=True)
    tmp.rename(location / f"{name}.json")


def read_manifest(location, name: str) -> dict:
    path = location / f"{name}.json"
    if not path.exists():
        raise BackupError(f"{path}: no such backup manifest; see `sapwh backup list`")
    with path.open("r") as fh:
        return json.load(fh)


def manifests(location) -> list[dict]:
    """Every backup manifest at the location, oldest first."""
    if not location.exists():
        return []
    found = []
    for path in location.iterdir():
        name = path.name.removesuffix(".json")
        if path.name.endswith(".json") and NAME_PATTERN.match(name):
            with path.open("r") as fh:
                found.append(json.load(fh))
    return sorted(found, key=lambda m: m["name"])


def _log(conninfo: str | None, manifest: dict, location) -> None:
    with connect(conninfo, conn_id=BACKUP_CONN_ID) as conn:
        conn.execute(
            """INSERT INTO operations.backup_log AS b (backup_name, location, status, started_at, dumped_at,
                   verified_at, size_bytes, sha256, server_version, client_version, table_rows, reason)
               VALUES (%(name)s, %(location)s, %(status)s, %(started_at)s, %(dumped_at)s, %(verified_at)s,
                       %(size_bytes)s, %(sha256)s, %(server_version)s, %(client_version)s, %(table_rows)s, %(reason)s)
               ON CONFLICT (backup_name) DO UPDATE
                  SET status = excluded.status, verified_at = excluded.verified_at, reason = excluded.reason""",
            {
                **manifest,
                "location": str(location),
                "verified_at": manifest.get("verified_at"),
                "reason": manifest.get("reason"),
                "table_rows": json.dumps(manifest["table_rows"]),
            },
        )


# --- dump ----------------------------------------------------------------------------------------------


def dump(location, *, compression: int = 1, conninfo: str | None = None, now: dt.datetime | None = None) -> dict:
    """pg_dump the warehouse to ``location``; returns the manifest (status 'dumped')."""
    conninfo = warehouse_conninfo(conninfo, conn_id=BACKUP_CONN_ID)
    started = now or dt.datetime.now(dt.UTC)
    name = f"warehouse_{started:%Y%m%dT%H%M%SZ}"
    final = location / f"{name}.dump"
    if final.exists():
        raise BackupError(f"{final} already exists; a backup of this second was made already")
    local = _local_path(location)
    if local and not os.path.isdir(local):
        try:
            os.makedirs(local, mode=0o700, exist_ok=True)
        except OSError as error:
            raise BackupError(f"cannot create the backup location {location}: {error}") from error
    elif not local:
        location.mkdir(parents=True, exist_ok=True)

    tmp = location / f".{name}.dump.partial"
    with psycopg.connect(conninfo, autocommit=True) as snap:
        snap.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        snapshot = snap.execute("SELECT pg_export_snapshot()").fetchone()[0]
        server_version = snap.execute("SHOW server_version").fetchone()[0]
        server_major = snap.info.server_version // 10000
        settings = list(snap.execute(DATABASE_SETTINGS).fetchone()[0])
        owner = snap.execute(
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()"
        ).fetchone()[0]
        pg_dump, client_major = pg_tool("pg_dump", server_major)
        target, env = _libpq(conninfo)
        command = [
            pg_dump,
            "--format=custom",
            f"--compress={compression}",
            f"--snapshot={snapshot}",
            *(f"--exclude-table=operations.{t}" for t in SCRATCH_TABLES),
            "--no-password",
            f"--dbname={target}",
        ]
        digest, size = hashlib.sha256(), 0
        with tempfile.TemporaryFile() as stderr:
            process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, env=env)  # noqa: S603
            assert process.stdout is not None  # stdout=PIPE
            try:
                _create_private(tmp)
                with tmp.open("wb") as out:
                    while chunk := process.stdout.read(CHUNK):
                        out.write(chunk)
                        digest.update(chunk)
                        size += len(chunk)
                returncode = process.wait()
            except OSError as error:
                process.kill()
                process.wait()
                _remove_quietly(tmp)
                raise BackupError(
                    f"writing {tmp} failed ({error}); the backup location is full or not writable. Free space or "
                    f"fix its permissions and re-run the task; older backups are untouched"
                ) from error
            except BaseException:
                process.kill()
                process.wait()
                _remove_quietly(tmp)
                raise
            if returncode != 0:
                _remove_quietly(tmp)
                stderr.seek(0)
                raise BackupError(f"pg_dump failed (exit {returncode}): {stderr.read().decode(errors='replace')}")
        rows = table_rows(snap)
        snap.execute("COMMIT")

    tmp.rename(final)
    manifest = {
        "name": name,
        "dump": final.name,
        "status": "dumped",
        "started_at": started.isoformat(),
        "dumped_at": dt.datetime.now(dt.UTC).isoformat(),
        "size_bytes": size,
        "sha256": digest.hexdigest(),
        "server_version": server_version,
        "client_version": f"{os.path.basename(pg_dump)} {client_major}",
        "compression": compression,
        "database_settings": settings,
        "database_owner": owner,
        "table_rows": rows,
    }
    _write_json(location, name, manifest)
    _log(conninfo, manifest, location)
    log.info("dumped %s: %s bytes, %d tables, %d rows", final, size, len(rows), sum(rows.values()))
    return manifest


# --- restore and verify ------------------------------------------------------------------------------


def _fetch(location, manifest: dict, folder: str) -> str:
    """The dump as a local file (read from the location once, sha256 checked)."""
    source = location / manifest["dump"]
    if not source.exists():
        raise BackupError(f"{source}: the dump file of {manifest['name']} is missing")
    local = os.path.join(folder, manifest["dump"])
    digest = hashlib.sha256()
    with source.open("rb") as src, open(local, "wb") as out:
        while chunk := src.read(CHUNK):
            out.write(chunk)
            digest.update(chunk)
    if digest.hexdigest() != manifest["sha256"]:
        raise BackupError(
            f"{source}: sha256 {digest.hexdigest()} differs from the manifest's {manifest['sha256']}; the file is "
            f"damaged, restore another backup"
        )
    return local


def _drop_database(admin: psycopg.Connection, name: str) -> None:
    """Drop a scratch or replaced database. Plainly first: PostgreSQL then stops an autovacuum worker
    busy in it (a fresh restore is soon being analyzed) and waits for it; WITH (FORCE) refuses that
    worker to a role that is not a superuser ("must be a member of the role whose process is being
    terminated"), and so does it when an autovacuum worker and a client session are both there. So
    when sessions are still connected, they are ended one by one (waiting up to 10 s for each; a
    session of another role is refused, and says so) and the plain drop is tried again."""
    drop = sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name))
    try:
        admin.execute(drop)
    except psycopg.errors.ObjectInUse:
        admin.execute(
            "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
            (name,),
        )
        admin.execute(drop)


# pg_restore --list lines of an extension and of its comment ("3; 3079 16385 EXTENSION - pg_stat_statements").
_EXTENSION_ENTRY = re.compile(r"^\s*\d+;\s+\d+\s+\d+\s+(?:EXTENSION -|COMMENT - EXTENSION)\s+(\S+)")


def _toc_without_extensions(pg_restore: str, dump_file: str, folder: str) -> tuple[str, list[str]]:
    """A pg_restore --use-list file of the dump leaving out its extensions, and their names.

    Extensions belong to the server's set-up, not to the warehouse's data: pg_stat_statements (made
    by scripts/dev and the compose stack's init script) is not a trusted extension, so only a
    superuser may create it, and neither the backup role nor the owner is one. Their objects are
    not the warehouse's tables, so a restore without them holds every row."""
    listing = subprocess.run(  # noqa: S603
        [pg_restore, "--list", dump_file], capture_output=True, text=True, check=False
    )
    if listing.returncode != 0:
        raise BackupError(f"pg_restore cannot read the dump {dump_file}: {listing.stderr.strip()}")
    kept, extensions = [], []
    for line in listing.stdout.splitlines():
        match = _EXTENSION_ENTRY.match(line)
        if match:
            extensions.append(match.group(1))
        else:
            kept.append(line)
    path = os.path.join(folder, "restore.list")
    with open(path, "w") as out:
        out.write("\n".join(kept) + "\n")
    return path, list(dict.fromkeys(extensions))


def _create_extensions(restored: psycopg.Connection, extensions: list[str]) -> list[str]:
    """Create the dump's extensions where the restoring role may; the names of those it may not."""
    refused = []
    for name in extensions:
        try:
            with restored.transaction():
                restored.execute(sql.SQL("CREATE EXTENSION IF NOT EXISTS {}").format(sql.Identifier(name)))
        except (psycopg.errors.InsufficientPrivilege, psycopg.errors.UndefinedFile, psycopg.errors.UndefinedObject):
            refused.append(name)
    return refused


@dataclass
class Restored:
    """What a restore left: every table's row count, and the extensions the restoring role could not
    create (a superuser runs ``CREATE EXTENSION`` for them in the restored database)."""

    table_rows: dict[str, int]
    extensions_not_created: list[str] = field(default_factory=list)


def restore(
    location, name: str, into: str, *, conninfo: str | None = None, replace: bool = False, keep_roles: bool = True
) -> Restored:
    """Restore backup ``name`` into the new database ``into`` on the warehouse's server (the role
    needs CREATEDB). Refuses an existing database unless ``replace``. ``keep_roles`` restores owners
    and grants as they were: the role must be able to act as the owner (the owner's own login,
    which ``sapwh backup restore`` uses). ``keep_roles=False`` leaves every object to the restoring
    role and restores no grants (a verification by the backup role, which may act neither as the
    tables' owner nor for the roles their grants name). Extensions are created after the rows,
    where the role may (see _toc_without_extensions)."""
    conninfo = warehouse_conninfo(conninfo, conn_id=BACKUP_CONN_ID)
    manifest = read_manifest(location, name)
    with psycopg.connect(conninfo, autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (into,)).fetchone()
        if exists and not replace:
            raise BackupError(f"database {into} exists; choose another name or pass --replace to overwrite it")
        if admin.execute("SELECT current_database() = %s", (into,)).fetchone()[0]:
            raise BackupError(f"{into} is the database this connection uses; restore into another name")
        server_major = admin.info.server_version // 10000
        _drop_database(admin, into)
        try:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(into)))
        except psycopg.errors.InsufficientPrivilege as error:
            raise BackupError(
                f"{admin.info.user} may not create the database {into} ({error}); a restore runs as a login with "
                "CREATEDB (warehouse_owner for `sapwh backup restore`, warehouse_backup for verification)"
            ) from error
        if keep_roles and manifest.get("database_owner"):
            # As the warehouse was: its owner owns the database and so its public schema (where
            # Alembic's version table lives).
            admin.execute(
                sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
                    sql.Identifier(into), sql.Identifier(manifest["database_owner"])
                )
            )
    pg_restore, _ = pg_tool("pg_restore", server_major)
    target, env = _libpq(conninfo, dbname=into)
    with tempfile.TemporaryDirectory(prefix="warehouse-restore-") as folder:
        local = _fetch(location, manifest, folder)
        use_list, extensions = _toc_without_extensions(pg_restore, local, folder)
        result = subprocess.run(  # noqa: S603
            [
                pg_restore,
                "--exit-on-error",
                "--no-password",
                f"--jobs={min(2, os.cpu_count() or 1)}",
                f"--use-list={use_list}",
                *([] if keep_roles else ["--no-owner", "--no-privileges"]),
                f"--dbname={target}",
                local,
            ],
            capture_output=True,
            text=True,
            env=env,
        )
    if result.returncode != 0:
        raise BackupError(
            f"pg_restore of {name} into {into} failed (exit {result.returncode}): {result.stderr.strip()}"
        )
    with psycopg.connect(psycopg.conninfo.make_conninfo(conninfo, dbname=into), autocommit=True) as restored:
        for setting in manifest.get("database_settings", []):
            key, _, value = setting.partition("=")
            restored.execute("SELECT set_config(%s, %s, false)", (key, value))
            restored.execute(
                sql.SQL("ALTER DATABASE {} SET {} FROM CURRENT").format(sql.Identifier(into), sql.Identifier(key))
            )
        refused = _create_extensions(restored, extensions)
        return Restored(table_rows(restored), refused)


def verify(location, name: str, *, conninfo: str | None = None) -> dict:
    """Restore backup ``name`` into a scratch database and compare every table's row count with the
    manifest; marks the manifest verified or failed, drops the scratch database."""
    conninfo = warehouse_conninfo(conninfo, conn_id=BACKUP_CONN_ID)
    manifest = read_manifest(location, name)
    scratch = f"{name.lower()}_verify"
    try:
        restored = restore(location, name, scratch, conninfo=conninfo, replace=True, keep_roles=False).table_rows
        expected = manifest["table_rows"]
        differ = {
            table: (expected.get(table), restored.get(table))
            for table in sorted(set(expected) | set(restored))
            if expected.get(table) != restored.get(table)
        }
        if differ:
            shown = ", ".join(f"{t}: dumped {a}, restored {b}" for t, (a, b) in list(differ.items())[:10])
            raise BackupError(f"{name}: the restored row counts differ from the dumped ones ({shown})")
    except BackupError as error:
        manifest.update(status="failed", reason=str(error))
        _write_json(location, name, manifest)
        _log(conninfo, manifest, location)
        raise
    finally:
        with psycopg.connect(conninfo, autocommit=True) as admin:
            _drop_database(admin, scratch)
    manifest.update(status="verified", verified_at=dt.datetime.now(dt.UTC).isoformat(), reason=None)
    _write_json(location, name, manifest)
    _log(conninfo, manifest, location)
    log.info("verified %s: %d tables, %d rows restored", name, len(restored), sum(restored.values()))
    return manifest


# --- table-level restore -------------------------------------------------------------------------

COLUMNS = """
SELECT a.attname, format_type(a.atttypid, a.atttypmod)
  FROM pg_attribute a
 WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
 ORDER BY a.attnum
"""
REFERENCED_BY = """
SELECT DISTINCT c.conrelid::regclass::text, c.confrelid::regclass::text
  FROM pg_constraint c
 WHERE c.contype = 'f' AND c.confrelid = ANY(%s::regclass[]) AND NOT c.conrelid = ANY(%s::regclass[])
   AND NOT EXISTS (SELECT FROM pg_inherits i WHERE i.inhrelid = c.conrelid)
"""
IDENTITY_SEQUENCES = """
SELECT a.attname, pg_get_serial_sequence(%s, a.attname)
  FROM pg_attribute a
 WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped AND a.attidentity <> ''
"""


def _tables_to_restore(live: psycopg.Connection, manifest: dict, tables: list[str]) -> list[str]:
    """The chosen tables, checked: in the backup, a table of the live warehouse, and every table whose
    foreign key points at one of them chosen too (emptying a referenced table would cascade)."""
    if not tables:
        raise BackupError("name at least one table to restore, e.g. --table facts.fact_billing")
    unknown = [t for t in tables if t not in manifest["table_rows"]]
    if unknown:
        raise BackupError(
            f"{', '.join(unknown)}: not in backup {manifest['name']}; it holds "
            f"{', '.join(sorted(manifest['table_rows']))}"
        )
    kinds: dict[str, str] = dict(
        live.execute(
            """SELECT n.nspname || '.' || c.relname, c.relkind FROM pg_class c
                 JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname || '.' || c.relname = ANY(%s)""",
            (tables,),
        ).fetchall()
    )
    views = [t for t in tables if kinds.get(t) == "m"]
    if views:
        raise BackupError(f"{', '.join(views)}: materialized views are refreshed after a restore, not restored")
    missing = [t for t in tables if t not in kinds]
    if missing:
        raise BackupError(f"{', '.join(missing)}: no such table in the live warehouse")
    referencing = live.execute(REFERENCED_BY, (tables, tables)).fetchall()
    if referencing:
        shown = ", ".join(f"{child} (references {parent})" for child, parent in referencing)
        raise BackupError(f"restore these together with the tables they reference: {shown}")
    return list(dict.fromkeys(tables))


def _parents_first(conn: psycopg.Connection, tables: list[str]) -> list[str]:
    """``tables`` ordered so that a table comes after every chosen table its foreign keys point at."""
    edges = conn.execute(
        """SELECT DISTINCT c.conrelid::regclass::text, c.confrelid::regclass::text FROM pg_constraint c
            WHERE c.contype = 'f' AND c.conrelid = ANY(%s::regclass[]) AND c.confrelid = ANY(%s::regclass[])
              AND c.conrelid <> c.confrelid""",
        (tables, tables),
    ).fetchall()
    ordered: list[str] = []
    while len(ordered) < len(tables):
        ready = [t for t in tables if t not in ordered and all(p in ordered for c, p in edges if c == t)]
        ordered += ready or [t for t in tables if t not in ordered]  # a cycle: any order, the FKs will say
    return ordered


def _columns(conn: psycopg.Connection, table: str) -> list[tuple[str, str]]:
    return conn.execute(COLUMNS, (table,)).fetchall()


def _copy_to_side(restored: psycopg.Connection, live: psycopg.Connection, table: str, side: sql.Identifier) -> int:
    """Stream ``table`` of the restored backup into the side table ``side`` of the live warehouse;
    returns the rows copied. The columns (names and types) must be the live table's."""
    backed_up, current = _columns(restored, table), _columns(live, table)
    if backed_up != current:
        raise BackupError(
            f"{table}: the backup's columns ({', '.join(f'{n} {t}' for n, t in backed_up)}) differ from the live "
            f"table's ({', '.join(f'{n} {t}' for n, t in current)}); the schema changed since the backup. Restore "
            f"the backup into a new database (restore --into) and copy what you need by hand"
        )
    names = sql.SQL(", ").join(sql.Identifier(name) for name, _ in current)
    live.execute(sql.SQL("CREATE TABLE {} (LIKE {})").format(side, table_name(table)))
    source = sql.SQL("COPY (SELECT {} FROM {}) TO STDOUT (FORMAT binary)").format(names, table_name(table))
    target = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT binary)").format(side, names)
    with restored.cursor().copy(source) as out, live.cursor().copy(target) as into:
        for chunk in out:
            into.write(chunk)
    return live.execute(sql.SQL("SELECT count(*) FROM {}").format(side)).fetchone()[0]


def restore_tables(
    location,
    name: str,
    tables: list[str],
    *,
    conninfo: str | None = None,
    owner_conninfo: str | None = None,
) -> dict[str, dict[str, int]]:
    """Put ``tables`` (``schema.table``) of the verified backup ``name`` back into the live warehouse.

    The backup is restored into a scratch database (the backup role's CREATEDB), each table streamed
    into a side schema of the live warehouse and its rows checked against the manifest; then, in one
    transaction, each live table is emptied and filled from its side copy, identity sequences moved
    past the restored ids and a row per table written to operations.table_restore_log. The side
    schema is dropped and the materialized views refreshed. Anything failing before the swap leaves
    the live tables as they were. Returns rows before and restored per table."""
    conninfo = warehouse_conninfo(conninfo, conn_id=BACKUP_CONN_ID)
    owner_conninfo = warehouse_conninfo(owner_conninfo, conn_id=OWNER_CONN_ID)
    manifest = read_manifest(location, name)
    if manifest["status"] != "verified":
        raise BackupError(
            f"{name} is {manifest['status']}, not verified; restore tables only from a verified backup "
            f"(`list` shows them)"
        )
    scratch = f"{name.lower()}_tables"
    side_schema = f"restore_{name.lower()}"
    side = {table: sql.Identifier(side_schema, table.replace(".", "__")) for table in tables}
    result: dict[str, dict[str, int]] = {}
    with connect(owner_conninfo, autocommit=True, conn_id=OWNER_CONN_ID) as live:
        tables = _tables_to_restore(live, manifest, tables)
        live.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(side_schema)))
        try:
            restore(location, name, scratch, conninfo=conninfo, replace=True, keep_roles=False)
            live.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(side_schema)))
            with psycopg.connect(psycopg.conninfo.make_conninfo(conninfo, dbname=scratch)) as restored:
                for table in tables:
                    copied = _copy_to_side(restored, live, table, side[table])
                    if copied != manifest["table_rows"][table]:
                        raise BackupError(
                            f"{table}: {copied} rows came out of {name}, its manifest says "
                            f"{manifest['table_rows'][table]}; nothing was restored"
                        )
            with live.transaction():
                for table in tables:
                    live.execute(sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(table_name(table)))
                before = {table: row_count(live, table) for table in tables}
                live.execute(sql.SQL("TRUNCATE {}").format(sql.SQL(", ").join(map(table_name, tables))))
                for table in _parents_first(live, tables):
                    names = sql.SQL(", ").join(sql.Identifier(n) for n, _ in _columns(live, table))
                    live.execute(
                        sql.SQL("INSERT INTO {} ({}) OVERRIDING SYSTEM VALUE SELECT {} FROM {}").format(
                            table_name(table), names, names, side[table]
                        )
                    )
                    for column, sequence in live.execute(IDENTITY_SEQUENCES, (table, table)).fetchall():
                        live.execute(
                            sql.SQL("SELECT setval(%s, coalesce((SELECT max({}) FROM {}), 0) + 1, false)").format(
                                sql.Identifier(column), table_name(table)
                            ),
                            (sequence,),
                        )
                    result[table] = {"rows_before": before[table], "rows_restored": manifest["table_rows"][table]}
                    live.execute(
                        """INSERT INTO operations.table_restore_log
                                  (backup_name, table_name, rows_before, rows_restored)
                           VALUES (%s, %s, %s, %s)""",
                        (name, table, before[table], result[table]["rows_restored"]),
                    )
        except psycopg.Error as error:
            raise BackupError(
                f"restoring {', '.join(tables)} from {name} failed, nothing was changed: {error}"
            ) from error
        finally:
            live.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(side_schema)))
            with psycopg.connect(conninfo, autocommit=True) as admin:
                _drop_database(admin, scratch)
        refresh_all_views(live)
    log.info("restored %s from %s: %s", ", ".join(tables), name, result)
    return result


# --- rotation ------------------------------------------------------------------------------------------


def plan_rotation(backups: list[dict], *, daily: int = 7, weekly: int = 4, monthly: int = 12) -> set[str]:
    """Names of the backups to keep: of the verified ones, the newest of each of the last ``daily``
    days, ``weekly`` ISO weeks and ``monthly`` months that have one, and always the newest; every
    unverified backup newer than the newest verified one (it may still be verified, or be looked at)."""
    verified = sorted((b for b in backups if b["status"] == "verified"), key=lambda b: b["name"], reverse=True)
    keep: set[str] = set()
    if verified:
        keep.add(verified[0]["name"])
    newest = verified[0]["name"] if verified else ""
    keep |= {b["name"] for b in backups if b["status"] != "verified" and b["name"] > newest}

    def when(backup: dict) -> dt.datetime:
        return dt.datetime.fromisoformat(backup["started_at"])

    for count, period in (
        (daily, lambda t: t.date()),
        (weekly, lambda t: t.isocalendar()[:2]),
        (monthly, lambda t: (t.year, t.month)),
    ):
        seen: list = []
        for backup in verified:
            key = period(when(backup))
            if key not in seen:
                seen.append(key)
                if len(seen) > count:
                    break
                keep.add(backup["name"])
    return keep


def rotate(
    location,
    *,
    daily: int = 7,
    weekly: int = 4,
    monthly: int = 12,
    conninfo: str | None = None,
    now: dt.datetime | None = None,
) -> dict[str, list[str]]:
    """Delete the backups plan_rotation does not keep (dump first, then manifest), and partial
    files older than a day (left by a killed dump); returns the kept and deleted names."""
    backups = manifests(location)
    keep = plan_rotation(backups, daily=daily, weekly=weekly, monthly=monthly)
    deleted = [b["name"] for b in backups if b["name"] not in keep]
    for name in deleted:
        _remove_quietly(location / f"{name}.dump")
        (location / f"{name}.json").unlink()
    if deleted:
        with connect(conninfo, conn_id=BACKUP_CONN_ID) as conn:
            conn.execute(
                "UPDATE operations.backup_log SET status = 'deleted', deleted_at = now() WHERE backup_name = ANY(%s)",
                (deleted,),
            )
    cutoff = (now or dt.datetime.now(dt.UTC)) - dt.timedelta(days=1)
    for path in location.iterdir() if location.exists() else []:
        if path.name.endswith(".partial"):
            modified = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)
            if modified < cutoff:
                _remove_quietly(path)
    log.info("rotation: kept %s, deleted %s", sorted(keep), deleted)
    return {"kept": sorted(keep), "deleted": deleted}


# --- command line --------------------------------------------------------------------------------------


def main(argv: list[str] | None = None, out=None) -> int:
    from airflow.sdk import ObjectStoragePath

    from sap_warehouse.cli import command_parser

    out = out or sys.stdout
    parser = command_parser(
        "backup",
        "List the backups at a location, restore one into a new database, or put chosen tables of a verified "
        "backup back. Backups are taken, verified by restoring and rotated by the warehouse_backup DAG.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="the backups at a location, newest last")
    listing.add_argument("--location", required=True, help="backup location URL, e.g. file:///srv/backups")
    listing.add_argument("--json", action="store_true", help="a JSON array instead of a table")
    restoring = commands.add_parser("restore", help="restore a backup into a new database on the warehouse server")
    restoring.add_argument("--location", required=True)
    restoring.add_argument("--backup", required=True, help="backup name, e.g. warehouse_20261122T020000Z")
    restoring.add_argument("--into", required=True, help="name of the database to create")
    restoring.add_argument("--replace", action="store_true", help="drop and recreate --into if it exists")
    tables = commands.add_parser(
        "restore-tables",
        help="put chosen tables of a verified backup back into the live warehouse (one transaction)",
    )
    tables.add_argument("--location", required=True)
    tables.add_argument("--backup", required=True, help="a verified backup's name")
    tables.add_argument(
        "--table", dest="tables", action="append", required=True, help="schema.table; repeat for several"
    )
    args = parser.parse_args(argv)
    location = ObjectStoragePath(args.location)
    try:
        if args.command == "list":
            from sap_warehouse.cli import show

            rows = [
                {
                    "name": m["name"],
                    "status": m["status"],
                    "bytes": m["size_bytes"],
                    "rows": sum(m["table_rows"].values()),
                }
                for m in manifests(location)
            ]
            show(rows, as_json=args.json, title=f"backups at {args.location}, newest last", out=out)
            return 0
        if args.command == "restore-tables":
            for table, counts in restore_tables(location, args.backup, args.tables).items():
                print(
                    f"{table}: {counts['rows_before']:,} rows replaced by {counts['rows_restored']:,} "
                    f"from {args.backup}",
                    file=out,
                )
            return 0
        # As the owner: the restored database keeps the warehouse's owners and grants.
        owner = warehouse_conninfo(conn_id=OWNER_CONN_ID)
        restored = restore(location, args.backup, args.into, replace=args.replace, conninfo=owner)
    except BackupError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    counts = restored.table_rows
    print(f"restored {args.backup} into {args.into}: {len(counts)} tables, {sum(counts.values()):,} rows", file=out)
    for extension in restored.extensions_not_created:
        print(
            f"note: extension {extension} not created (needs a superuser): CREATE EXTENSION {extension}; "
            f"in {args.into}",
            file=out,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
