"""scripts/dev, the entry point of both README commands, bootstraps against the chosen server."""

import os
import subprocess
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def test_external_warehouse_server_skips_the_local_cluster(warehouse: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"}
    env.update(WAREHOUSE_LOCAL_DIR=str(tmp_path / "local"), AIRFLOW_CONN_WAREHOUSE_DB=warehouse)
    probe = "import os, shutil; print(os.environ['AIRFLOW_CONN_WAREHOUSE_DB']); print(shutil.which('airflow'))"

    out = subprocess.run(
        [str(PROJECT_ROOT / "scripts" / "dev"), "exec", "python", "-c", probe],
        env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip

    assert out.returncode == 0, out.stderr[-2000:]
    assert "using that server, no local cluster" in out.stderr
    assert not (tmp_path / "local" / "pg").exists()
    conn_line, airflow_bin = out.stdout.strip().splitlines()[-2:]
    assert conn_line == warehouse
    assert airflow_bin == str(PROJECT_ROOT / ".venv" / "bin" / "airflow")
    assert (tmp_path / "local" / "airflow" / "airflow.db").exists()
