"""s3:// locations, as the production stack offers them: the amazon provider and s3fs of
requirements.txt against a local S3-compatible server (moto's), through the Airflow connection named
in the URL (s3://<connection>@<bucket>/<prefix>), the way docs/production.md sets them up."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from airflow.sdk import ObjectStoragePath
from moto.server import ThreadedMotoServer

from sap_warehouse.ingest.raw_load import load_file
from sap_warehouse.operations import backup
from sap_warehouse_kit import exports
from tests.helpers import free_port

DAY = dt.date(2026, 2, 2)
T0 = dt.datetime(2026, 2, 3, 2, 0, tzinfo=dt.UTC)
BUCKET = "plant-warehouse"


@pytest.fixture(scope="module")
def s3() -> Iterator[boto3.client]:
    """A local S3 server with a bucket, and the Airflow connection warehouse_storage to it. One for the
    module: Airflow keeps the file system of a connection once made, so its endpoint must not move."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    keys = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}
    connection = {
        "conn_type": "aws",
        "login": keys["aws_access_key_id"],
        "password": keys["aws_secret_access_key"],
        "extra": {"endpoint_url": endpoint, "region_name": "us-east-1"},
    }
    client = boto3.client("s3", endpoint_url=endpoint, **keys)
    client.create_bucket(Bucket=BUCKET)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AIRFLOW_CONN_WAREHOUSE_STORAGE", json.dumps(connection))
        try:
            yield client
        finally:
            server.stop()


def _keys(client, prefix: str) -> list[str]:
    listed = client.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])
    return sorted(item["Key"] for item in listed)


def test_files_are_archived_and_quarantined_in_s3(warehouse: str, s3, tmp_path: Path) -> None:
    exports.write_day(tmp_path / "landing", DAY, rows=20, seed=3, inject=("wrong_type",))
    archive = ObjectStoragePath(f"s3://warehouse_storage@{BUCKET}/archive")
    quarantine = ObjectStoragePath(f"s3://warehouse_storage@{BUCKET}/quarantine")
    folder = tmp_path / "landing" / DAY.isoformat()
    names = sorted(p.name for p in folder.iterdir())
    first_bytes = (folder / names[0]).read_bytes()
    results = {
        name: load_file(folder / name, DAY, archive_root=archive, quarantine_root=quarantine, conninfo=warehouse)
        for name in names
    }
    assert results.pop("bad-wrong_type.xlsx").status == "quarantined"
    assert {r.status for r in results.values()} == {"loaded"}
    assert _keys(s3, "archive/") == sorted(f"archive/{DAY}/{name}" for name in results)
    assert _keys(s3, "quarantine/") == [f"quarantine/{DAY}/bad-wrong_type.xlsx"]
    assert list(folder.iterdir()) == [], "every file left the landing zone after its commit"
    body = s3.get_object(Bucket=BUCKET, Key=f"archive/{DAY}/{names[0]}")["Body"].read()
    assert body == first_bytes


def test_a_backup_in_s3_verifies_and_lists(warehouse: str, s3) -> None:
    location = ObjectStoragePath(f"s3://warehouse_storage@{BUCKET}/backups")
    manifest = backup.dump(location, conninfo=warehouse, now=T0)
    assert backup.verify(location, manifest["name"], conninfo=warehouse)["status"] == "verified"
    stored = _keys(s3, "backups/")
    assert any(key.endswith(".dump") for key in stored), stored
    assert [m["name"] for m in backup.manifests(location)] == [manifest["name"]]
