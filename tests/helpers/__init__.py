"""What test modules share besides fixtures: the day's load and build, checksums of the warehouse,
a local SMTP inbox, scratch logins' URIs. Pure functions and classes; the fixtures live in conftest.py."""

from __future__ import annotations

import datetime as dt
import socket
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import psycopg
from psycopg import sql

from sap_warehouse.build import layers
from sap_warehouse.core import model
from sap_warehouse.core.business_date import DateSpan
from sap_warehouse.core.registry import reports
from sap_warehouse.core.run_info import RunInfo
from sap_warehouse.gates import quality
from sap_warehouse.ingest.raw_load import load_file, record_missing
from sap_warehouse.operations import maintenance
from sap_warehouse.signals import alerts
from sap_warehouse_kit import exports


def load_day(url: str, folder: Path, day: dt.date) -> None:
    """Load every file of ``folder`` for ``day`` as the daily run's load tasks do; none may be quarantined."""
    for path in sorted(folder.iterdir()):
        assert load_file(path, day, quarantine_root=folder.parent / "quarantine", conninfo=url).status != "quarantined"


def build_day(url: str, day: dt.date) -> None:
    """Every layer of ``day`` from its raw rows (dimensions, facts, reconciliation, views)."""
    layers.rebuild(DateSpan.of(day), conninfo=url)


def seeded_day(tmp_path: Path, warehouse: str, day: dt.date, seed: int = 17, *, data_docs: str | None = None) -> dict:
    """One business date as a run leaves it: every report but AR aging loaded, a truncated workbook
    quarantined, AR aging recorded missing, the raw gate run (its Data Docs written to ``data_docs``),
    alerts judged, a health snapshot taken. Returns the loaders' own results by file name."""
    exports.write_day(tmp_path / "landing", day, rows=30, seed=seed, inject=("truncated",))
    folder = tmp_path / "landing" / day.isoformat()
    for report, name, _, _ in exports.day_plan(day, 30, seed):
        if report == "zrfi005":
            (folder / name).unlink()
    results = {
        path.name: load_file(path, day, quarantine_root=tmp_path / "quarantine", conninfo=warehouse)
        for path in sorted(folder.iterdir())
    }
    record_missing(day, ["mb51", "zrfi005"], landing=str(folder), conninfo=warehouse)
    quality.validate_dates(
        "raw", DateSpan.of(day), run=RunInfo("test", "seeded"), conninfo=warehouse, data_docs=data_docs
    )
    alerts.evaluate(day, conninfo=warehouse)
    maintenance.snapshot(conninfo=warehouse)
    return results


def login_url(warehouse: str, login: str, password: str) -> str:
    """The warehouse's URI for another login."""
    params = psycopg.conninfo.conninfo_to_dict(warehouse)
    address = f"{params.get('host', 'localhost')}:{params.get('port', 5432)}"
    return f"postgresql://{login}:{password}@{address}/{params['dbname']}"


class Inbox:
    """What a local SMTP server received: (recipients, parsed message) per mail."""

    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=default_policy)))
        return "250 OK"


def free_port() -> int:
    """A local TCP port nothing listens on (the system's choice)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# Where a raw row came from (which file, which row of it, which date's delivery, its source cells)
# depends on the order files arrived in; what the row says must not.
PROVENANCE = ("source_file", "source_row", "business_date", "raw_data", "superseded_by")


def table_checksum(conn: psycopg.Connection, table: str, *, leave_out: tuple[str, ...] = ()) -> str:
    """md5 over a table's rows in a stable order, leaving out load timestamps and ``leave_out``."""
    return conn.execute(
        sql.SQL(
            "SELECT coalesce(md5(string_agg(x, ',' ORDER BY x)), 'empty') "
            "FROM (SELECT md5((to_jsonb(t) - {})::text) AS x FROM {} t) s"
        ).format(sql.Literal(["loaded_at", *leave_out]) + sql.SQL("::text[]"), sql.SQL(table))
    ).fetchone()[0]


RAW_TABLES = tuple(f"raw.{r.raw_table}" for r in reports().values())
WAREHOUSE_TABLES = (
    *RAW_TABLES,
    *(f"dims.{dimension.name}" for dimension in model.dimensions()),
    *(f"facts.{fact}" for fact in model.facts()),
    *(f"marts.{view.name}" for view in model.views()),
)


def query(conninfo: str, statement: str, *params) -> list[tuple]:
    """Every row ``statement`` returns, on a connection of its own (committed: nothing is held)."""
    with psycopg.connect(conninfo) as conn:
        return conn.execute(statement, params or None).fetchall()


def warehouse_checksums(conninfo: str) -> dict[str, str]:
    with psycopg.connect(conninfo) as conn:
        return {
            table: table_checksum(conn, table, leave_out=PROVENANCE if table in RAW_TABLES else ())
            for table in WAREHOUSE_TABLES
        }


def asset_event_extras(dag_id: str, run_id: str) -> list[dict]:
    """The extra of each asset event a run of ``dag_id`` emitted (Airflow's metadata database)."""
    from airflow.models.asset import AssetEvent
    from airflow.utils.session import create_session
    from sqlalchemy import select

    query = select(AssetEvent.extra).where(AssetEvent.source_dag_id == dag_id, AssetEvent.source_run_id == run_id)
    with create_session() as session:
        return list(session.scalars(query))
