"""One way to the warehouse: psycopg, Great Expectations and Alembic all read the Airflow connection
``warehouse_db`` the same way, whatever form a secrets backend gives it (URI, JSON, key=value)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from airflow.sdk import ObjectStoragePath
from alembic import command
from alembic.config import Config
from psycopg import sql
from sqlalchemy.engine import make_url

from sap_warehouse.core.db import (
    BACKUP_CONN_ID,
    CONN_ID,
    OWNER_CONN_ID,
    connect,
    connection_params,
    sqlalchemy_url,
    warehouse_conninfo,
)
from sap_warehouse.gates import quality
from sap_warehouse.ingest.raw_load import load_file
from sap_warehouse.operations import backup
from sap_warehouse_kit import exports

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DAY = dt.date(2026, 1, 5)
# What production connections carry beyond the address; "cursor" is the postgres hook's own extra.
EXTRAS = {
    "sslmode": "disable",
    "keepalives": 1,
    "keepalives_idle": 30,
    "target_session_attrs": "read-write",
    "options": "-c work_mem=7MB",
    "cursor": "dictcursor",
}


def json_secret(url: str, **extra) -> str:
    """The connection as a secrets backend stores it: JSON fields, not a URI."""
    params = psycopg.conninfo.conninfo_to_dict(url)
    return json.dumps(
        {
            "conn_type": "postgres",
            "host": params["host"],
            "port": int(params["port"]),
            "login": params["user"],
            "password": params.get("password"),
            "schema": params["dbname"],
            "extra": {**EXTRAS, **extra},
        }
    )


def test_the_airflow_connection_keeps_its_libpq_extras_and_drops_the_hooks_own(monkeypatch: pytest.MonkeyPatch):
    url = "postgresql://loader:p%40ss%20word@db.example:6432/warehouse"
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE_DB", json_secret(url, sslcert="/etc/ssl/loader.crt"))
    params = connection_params()
    assert params == {
        "host": "db.example",
        "port": "6432",
        "user": "loader",
        "password": "p@ss word",
        "dbname": "warehouse",
        "sslmode": "disable",
        "keepalives": "1",
        "keepalives_idle": "30",
        "target_session_attrs": "read-write",
        "sslcert": "/etc/ssl/loader.crt",
        "options": "-c work_mem=7MB -c jit=off",
    }
    engine_url = make_url(sqlalchemy_url())
    assert (engine_url.drivername, engine_url.host, engine_url.port, engine_url.password) == (
        "postgresql+psycopg",
        "db.example",
        6432,
        "p@ss word",
    )
    assert engine_url.query["sslmode"] == "disable"
    assert engine_url.query["options"] == "-c work_mem=7MB -c jit=off"
    # A key=value conninfo (what warehouse_conninfo hands pg_dump) gives the same URL back.
    assert make_url(sqlalchemy_url(warehouse_conninfo())) == engine_url


def test_a_json_secret_reaches_psycopg_great_expectations_and_alembic(
    warehouse: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exports.write_day(tmp_path / "landing", DAY, rows=20, seed=3)
    for path in sorted((tmp_path / "landing" / DAY.isoformat()).iterdir()):
        assert load_file(path, DAY, quarantine_root=tmp_path / "q", conninfo=warehouse).status == "loaded"
    for variable in ("AIRFLOW_CONN_WAREHOUSE_DB", "AIRFLOW_CONN_WAREHOUSE_OWNER_DB"):  # Alembic runs as the owner
        monkeypatch.setenv(variable, json_secret(warehouse))

    with connect() as conn:
        assert conn.execute("SHOW work_mem").fetchone()[0] == "7MB"  # the extra's options reached the server
        assert conn.execute("SHOW jit").fetchone()[0] == "off"
        assert conn.info.get_parameters()["keepalives_idle"] == "30"
        assert conn.info.get_parameters()["target_session_attrs"] == "read-write"

    results = quality.validate_gate("raw", DAY)  # GX runs its SQL through the same connection
    assert {r.suite for r in results} >= {"raw_mb51", "raw_zrsd002"}
    assert [r.critical for r in results] == [[] for _ in results]

    cfg = Config(str(PROJECT_ROOT / "include" / "migrations" / "alembic.ini"))  # no sqlalchemy.url: env.py reads it
    command.upgrade(cfg, "head")
    with psycopg.connect(warehouse) as conn:
        assert conn.execute("SELECT count(*) FROM public.alembic_version").fetchone()[0] == 1


def test_owner_and_backup_connections_fall_back_to_the_daily_one_until_they_are_defined(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE_DB", "postgresql://loader:pw@db.example:5432/warehouse")
    monkeypatch.delenv("AIRFLOW_CONN_WAREHOUSE_OWNER_DB", raising=False)
    monkeypatch.delenv("AIRFLOW_CONN_WAREHOUSE_BACKUP_DB", raising=False)
    assert connection_params(conn_id=OWNER_CONN_ID)["user"] == "loader"
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE_OWNER_DB", "postgresql://owner:pw@db.example:5432/warehouse")
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE_BACKUP_DB", "postgresql://backup:pw@db.example:5432/warehouse")
    assert [connection_params(conn_id=c)["user"] for c in (CONN_ID, OWNER_CONN_ID, BACKUP_CONN_ID)] == [
        "loader",
        "owner",
        "backup",
    ]


# Everything a password may hold that a URL or a config template treats specially.
ODD_PASSWORD = "p w'\"@:/%#?&=ü€$x${y}"  # noqa: S105 the test login's own


def test_a_password_of_any_characters_works_for_psycopg_gx_alembic_and_pg_dump(
    warehouse: str, admin_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Airflow connection as a URI, its password percent-encoded: the load (psycopg), the gate
    (Great Expectations, through its SQLAlchemy URL), the migrations (Alembic) and a backup
    (pg_dump) all log in with it."""
    login = "wh_test_odd_password"
    with psycopg.connect(admin_server, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (login,)).fetchone()
        conn.execute(
            sql.SQL("{} ROLE {} LOGIN PASSWORD {}").format(
                sql.SQL("ALTER" if exists else "CREATE"), sql.Identifier(login), sql.Literal(ODD_PASSWORD)
            )
        )
        conn.execute(sql.SQL("GRANT warehouse_owner TO {}").format(sql.Identifier(login)))
    params = psycopg.conninfo.conninfo_to_dict(warehouse)
    uri = f"postgresql://{login}:{quote(ODD_PASSWORD, safe='')}@{params['host']}:{params['port']}/{params['dbname']}"
    for variable in (
        "AIRFLOW_CONN_WAREHOUSE_DB",
        "AIRFLOW_CONN_WAREHOUSE_OWNER_DB",
        "AIRFLOW_CONN_WAREHOUSE_BACKUP_DB",
    ):
        monkeypatch.setenv(variable, uri)
    assert connection_params()["password"] == ODD_PASSWORD

    exports.write_day(tmp_path / "landing", DAY, rows=10, seed=4)
    for path in sorted((tmp_path / "landing" / DAY.isoformat()).iterdir()):
        assert load_file(path, DAY, quarantine_root=tmp_path / "q").status == "loaded"
    results = quality.validate_gate("raw", DAY)
    assert {r.suite for r in results} >= {"raw_mb51", "raw_zrsd002"}
    command.upgrade(Config(str(PROJECT_ROOT / "include" / "migrations" / "alembic.ini")), "head")
    manifest = backup.dump(ObjectStoragePath(f"file://{tmp_path / 'backups'}"))
    assert manifest["table_rows"]["raw.raw_mb51"] > 0
