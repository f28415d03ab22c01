"""scripts/dev, the entry point of both README commands, bootstraps against the chosen server."""

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def test_external_warehouse_server_skips_the_local_cluster(warehouse: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"}
    env.update(WAREHOUSE_LOCAL_DIR=str(tmp_path / "local"), AIRFLOW_CONN_WAREHOUSE_DB=warehouse)
    probe = "import os, shutil; print(os.environ['AIRFLOW_CONN_WAREHOUSE_DB']); print(shutil.which('airflow'))"

    out = subprocess.run(
        [str(PROJECT_ROOT / "scripts" / "dev"), "exec", "python", "-c", probe],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    assert out.returncode == 0, out.stderr[-2000:]
    assert "using that server, no local cluster" in out.stderr
    assert not (tmp_path / "local" / "pg").exists()
    conn_line, airflow_bin = out.stdout.strip().splitlines()[-2:]
    assert conn_line == warehouse
    assert airflow_bin == str(PROJECT_ROOT / ".venv" / "bin" / "airflow")
    assert (tmp_path / "local" / "airflow" / "airflow.db").exists()


def test_each_local_login_has_its_own_password(admin_server: str) -> None:
    """The logins scripts/dev made for this test run (its exported connections): no two share a
    password, and none has the superuser's."""
    passwords = {
        variable: psycopg.conninfo.conninfo_to_dict(os.environ[variable])["password"]
        for variable in (
            "WAREHOUSE_ADMIN_URL",
            "AIRFLOW_CONN_WAREHOUSE_DB",
            "AIRFLOW_CONN_WAREHOUSE_OWNER_DB",
            "AIRFLOW_CONN_WAREHOUSE_BACKUP_DB",
            "AIRFLOW_CONN_WAREHOUSE_ANALYST_DB",
        )
    }
    assert len(set(passwords.values())) == len(passwords), "two logins share a password"
    for variable, password in passwords.items():
        assert len(password) >= 24, variable
    users = {psycopg.conninfo.conninfo_to_dict(os.environ[v])["user"] for v in passwords}
    assert users == {"postgres", "warehouse_loader", "warehouse_owner", "warehouse_backup", "warehouse_reader"}


def test_db_down_removes_the_cluster_and_keeps_the_landing_zone_and_backups() -> None:
    """db-down on a runtime folder of its own (a stand-in pg_ctl, so no real cluster is touched):
    the cluster's data directory goes, the files a user put or kept there stay."""
    local = Path(tempfile.mkdtemp(prefix="dev-db-down-"))
    try:
        local.chmod(0o755)  # the postgres OS user can reach it: the cluster would live inside it
        bin_dir = local / "bin"
        bin_dir.mkdir()
        (bin_dir / "pg_ctl").write_text("#!/bin/sh\nexit 0\n")
        (bin_dir / "pg_ctl").chmod(0o755)
        kept = [
            local / "landing" / "2026-01-05" / "mb51.xlsx",
            local / "backups" / "warehouse_x.dump",
            local / "archive" / "2026-01-04" / "a.xlsx",
            local / "quarantine" / "2026-01-04" / "b.xlsx",
        ]
        for path in [*kept, local / "pg" / "PG_VERSION", local / "pg" / "base" / "1"]:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("x")
        env = {**os.environ, "WAREHOUSE_LOCAL_DIR": str(local), "PG_BIN": str(bin_dir)}
        out = subprocess.run(
            [str(PROJECT_ROOT / "scripts" / "dev"), "db-down"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert out.returncode == 0, out.stderr
        assert not (local / "pg").exists()
        assert [path.exists() for path in kept] == [True] * len(kept)
    finally:
        shutil.rmtree(local, ignore_errors=True)
