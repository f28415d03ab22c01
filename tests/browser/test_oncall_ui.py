"""The on-call page in the real api-server (`scripts/dev airflow-up`), with Airflow's logins: its HTTP API
with plain requests, and the page itself in headless Chromium, reached from the Airflow UI's navigation."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import re
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote_plus, urlencode

import httpx
import psycopg
import pytest

from sap_warehouse.core.business_date import DateSpan
from sap_warehouse.core.run_info import RunInfo
from sap_warehouse.gates import quality
from sap_warehouse.ingest.raw_load import load_file
from sap_warehouse.operations import runs
from sap_warehouse_kit import exports, runner
from sap_warehouse_kit.scratch_db import create_database, drop_database
from tests.helpers import free_port, login_url, seeded_day

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DAY = dt.date(2026, 3, 10)
HOSTILE_DAY = DAY - dt.timedelta(days=1)  # an earlier date
FAILED_DAY = dt.date(2027, 3, 16)  # a run of it failed at the raw gate
HOSTILE = "<img src=x onerror=alert(1)>"
USERS = {"oncall": "admin", "auditor": "viewer"}
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class Site:
    base: str
    warehouse: str
    passwords: dict[str, str]

    def token(self, user: str) -> str:
        response = httpx.post(
            f"{self.base}/auth/token", json={"username": user, "password": self.passwords[user]}, timeout=30
        )
        assert response.status_code == 201, response.text
        return response.json()["access_token"]

    def client(self, user: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.token(user)}"} if user else {}
        return httpx.Client(base_url=self.base, headers=headers, timeout=30)

    def active_alert(self) -> int:
        """An active alert the page lists in its main table (critical or warning)."""
        with psycopg.connect(self.warehouse) as conn:
            row = conn.execute(
                "SELECT alert_id FROM facts.fact_alert WHERE status = 'active' AND severity <> 'info' "
                "ORDER BY alert_id LIMIT 1"
            ).fetchone()
        assert row, "the seeded day raised no critical or warning alert"
        return row[0]

    def alert(self, alert_id: int) -> tuple[str, str | None]:
        with psycopg.connect(self.warehouse) as conn:
            return conn.execute(
                "SELECT status, acknowledged_by FROM facts.fact_alert WHERE alert_id = %s", (alert_id,)
            ).fetchone()


@pytest.fixture(scope="module")
def site(migrated_template: str, login_password: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A seeded warehouse and the api-server of the local Airflow on a free port, with two logins (an
    admin and a viewer) instead of the local default's everyone-is-admin."""
    tmp = tmp_path_factory.mktemp("oncall")
    name = f"wh_ui_{uuid.uuid4().hex[:10]}"
    url = create_database(name, template=migrated_template)
    passwords = {user: uuid.uuid4().hex for user in USERS}
    (tmp / "passwords.json").write_text(json.dumps(passwords))
    port = free_port()
    dev = str(PROJECT_ROOT / "scripts" / "dev")
    with pytest.MonkeyPatch.context() as env:
        for variable in (
            "AIRFLOW_CONN_WAREHOUSE_DB",
            "AIRFLOW_CONN_WAREHOUSE_OWNER_DB",
            "AIRFLOW_CONN_WAREHOUSE_BACKUP_DB",
        ):
            env.setenv(variable, url)
        env.setenv("AIRFLOW_CONN_WAREHOUSE_ANALYST_DB", login_url(url, "wh_test_analyst", login_password))
        env.setenv("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS", "False")
        env.setenv("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS", ",".join(f"{u}:{r}" for u, r in USERS.items()))
        env.setenv("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE", str(tmp / "passwords.json"))
        env.setenv("WAREHOUSE_AIRFLOW_COMPONENTS", "api-server")  # the page needs no scheduler
        env.setenv("WAREHOUSE_AIRFLOW_PORT", str(port))
        env.setenv("AIRFLOW_VAR_WAREHOUSE_DATA_DOCS_PATH", f"file://{tmp / 'data_docs'}")
        seeded_day(tmp, url, DAY, data_docs=f"file://{tmp / 'data_docs'}")
        hostile_mb51(tmp, url, f"file://{tmp / 'data_docs'}")
        for kind in ("landing", "quarantine", "archive"):
            env.setenv(f"AIRFLOW_VAR_SAP_{kind.upper()}_PATH", f"file://{tmp / kind}")
        env.setenv("AIRFLOW_VAR_SAP_EXPECTED_REPORTS", "mb51,zrsd002")
        failed_run(tmp / "landing", FAILED_DAY)
        up = subprocess.run([dev, "airflow-up"], capture_output=True, text=True, timeout=300, check=False)
        try:
            assert up.returncode == 0, up.stderr
            yield Site(f"http://127.0.0.1:{port}", url, passwords)
        finally:
            subprocess.run([dev, "airflow-down"], capture_output=True, timeout=120, check=False)
            run_dir = Path(os.environ["WAREHOUSE_LOCAL_DIR"]) / "airflow" / "run"
            assert not list(run_dir.glob("*.pid")), "a component was left running"
            drop_database(name)


def failed_run(landing: Path, day: dt.date) -> None:
    """A real daily run of ``day`` that fails at the raw gate (a billing line in no currency)."""
    folder = landing / day.isoformat()
    folder.mkdir(parents=True)
    (folder / "mb51.xlsx").write_bytes(
        exports.mb51_workbook(exports.mb51_movements(day, 20, 3), 3, header_row_zero=False)
    )
    billing = exports.zrsd002_rows(day, exports.zrsd004_rows(day, 6, 3), 3)
    billing[0]["curr"] = "VN$"
    (folder / "zrsd002.xlsx").write_bytes(exports.render("zrsd002", billing, 3))
    assert runner.run_daily_dag(day) == "failed"


def hostile_mb51(tmp: Path, url: str, data_docs: str) -> None:
    """An MB51 export of HOSTILE_DAY whose first material is markup, loaded and gated: the material
    format check (a warning) lists it on the suite's Data Docs page."""
    movements = [
        dataclasses.replace(m, material=HOSTILE) if i == 0 else m
        for i, m in enumerate(exports.day_plan(HOSTILE_DAY, 5, 17)[0][3])
    ]
    path = tmp / "hostile" / "mb51.xlsx"
    path.parent.mkdir()
    path.write_bytes(exports.mb51_workbook(movements, 17, header_row_zero=False))
    assert load_file(path, HOSTILE_DAY, quarantine_root=tmp / "quarantine", conninfo=url).status == "loaded"
    quality.validate_dates(
        "raw", DateSpan.of(HOSTILE_DAY), run=RunInfo("test", "hostile"), conninfo=url, data_docs=data_docs
    )


def test_no_page_without_a_login(site: Site) -> None:
    with site.client() as anonymous:
        page = anonymous.get("/warehouse/", headers={"Accept": "text/html"})
        assert page.status_code == 307
        assert page.headers["location"] == "/auth/login?" + urlencode({"next": f"{site.base}/warehouse/"})
        assert anonymous.get("/warehouse/api/day").status_code == 401
        assert anonymous.get("/warehouse/api/day", headers={"Authorization": "Bearer forged"}).status_code == 403
        alert_id = site.active_alert()
        assert anonymous.post(f"/warehouse/api/alerts/{alert_id}/acknowledge").status_code == 401
    assert site.alert(alert_id) == ("active", None)


def test_a_viewer_reads_the_day_but_cannot_acknowledge(site: Site) -> None:
    alert_id = site.active_alert()
    with site.client("auditor") as viewer:
        day = viewer.get("/warehouse/api/day", params={"date": DAY.isoformat()})
        assert day.status_code == 200
        body = day.json()
        assert body["business_date"] == DAY.isoformat()
        assert [m["report"] for m in body["missing"]] == ["zrfi005"]
        assert [f["file_name"] for f in body["quarantined"]] == ["bad-truncated.xlsx"]
        assert alert_id in [a["alert_id"] for a in body["alerts"]]
        assert viewer.get("/warehouse/api/day", params={"date": "10.03.2026"}).status_code == 422
        page = viewer.get("/warehouse/", params={"date": DAY.isoformat(), "message": "<script>alert(1)</script>"})
        assert page.status_code == 200
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
        assert "<script>" not in page.text
        assert "Acknowledge</button>" not in page.text  # a viewer sees no action it cannot take
        assert viewer.post(f"/warehouse/api/alerts/{alert_id}/acknowledge").status_code == 403
    assert site.alert(alert_id) == ("active", None)


def test_the_gates_data_docs_are_served_to_logged_in_users_only(site: Site) -> None:
    with site.client("auditor") as viewer:
        gates = viewer.get("/warehouse/api/day", params={"date": DAY.isoformat()}).json()["gates"]
        page = next(g["data_docs_page"] for g in gates if g["suite_name"] == "raw_mb51")
        relative = page.split("/data_docs/", 1)[1]
        served = viewer.get(f"/warehouse/data-docs/{relative}")
        assert served.status_code == 200
        assert "raw_mb51" in served.text
        assert "movement_type" in served.text  # the warning the suite found on this healthy day
        # Offline: nothing loads from another host; the package's stylesheet stands in for GX's CDN assets.
        assert not re.search(r"""<(link|script)\b[^>]*(href|src)=["']?(https?:)?//""", served.text)
        assert "_offline/data_docs.css" in served.text
        assert "connect-src" not in served.headers["content-security-policy"]
        assert "https:" not in served.headers["content-security-policy"]
        assert viewer.get("/warehouse/data-docs/index.html").status_code == 200
        assert viewer.get("/warehouse/data-docs/..%2f..%2fpasswords.json").status_code == 404
        assert viewer.get("/warehouse/data-docs/validations/none.html").status_code == 404
    with site.client() as anonymous:
        assert anonymous.get(f"/warehouse/data-docs/{relative}").status_code == 401
        css = anonymous.get("/warehouse/data-docs/_offline/data_docs.css")  # no data: a sandboxed page loads it
        assert (css.status_code, css.headers["content-type"].split(";")[0]) == (200, "text/css")


def test_a_data_docs_page_holding_markup_from_an_export_runs_no_script(site: Site) -> None:
    """GX writes the failing values into its pages as they are; served on Airflow's origin, the page
    is sandboxed: Chromium runs none of its script (no dialog opens, no cookie is readable)."""
    from playwright.sync_api import sync_playwright

    with site.client("auditor") as viewer:
        gates = viewer.get("/warehouse/api/day", params={"date": HOSTILE_DAY.isoformat()}).json()["gates"]
        page_path = next(g["data_docs_page"] for g in gates if g["suite_name"] == "raw_mb51")
        relative = page_path.split("/data_docs/", 1)[1]
        served = viewer.get(f"/warehouse/data-docs/{relative}")
    assert served.status_code == 200
    assert HOSTILE in served.text, "the planted value is not on the page: nothing was tested"
    policy = served.headers["content-security-policy"]
    assert "sandbox" in policy.split(";")[0]
    assert "allow-scripts" not in policy
    assert "script-src 'none'" in policy
    assert served.headers["x-content-type-options"] == "nosniff"

    dialogs = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            context = browser.new_context()
            context.add_cookies([{"name": "_token", "value": site.token("auditor"), "url": site.base}])
            page = context.new_page()
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
            elsewhere, styles = [], []
            page.on("request", lambda req: None if req.url.startswith(site.base) else elsewhere.append(req.url))
            page.on("response", lambda res: styles.append(res.status) if res.url.endswith(".css") else None)
            page.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/])"), lambda route: route.abort())
            page.goto(f"{site.base}/warehouse/data-docs/{relative}")
            page.wait_for_load_state("load")
            page.wait_for_timeout(500)
            assert elsewhere == [], "an offline factory network has no CDN"
            assert styles == [200], "the package's stylesheet styles the page"
            assert page.locator("img[src='x']").count() >= 1, "the markup is on the page as an element"
            read_cookie = "() => { try { return document.cookie; } catch (error) { return error.name; } }"
            assert page.evaluate(read_cookie) == "SecurityError", "the page is not in a sandbox of its own"
        finally:
            browser.close()
    assert dialogs == [], "the planted script ran"


def test_a_cross_site_post_with_the_admins_cookie_cannot_acknowledge(site: Site) -> None:
    alert_id = site.active_alert()
    cookies = {"_token": site.token("oncall")}
    with httpx.Client(base_url=site.base, cookies=cookies, timeout=30) as browser_like:
        for headers in ({"Origin": "http://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
            refused = browser_like.post(f"/warehouse/api/alerts/{alert_id}/acknowledge", headers=headers)
            assert refused.status_code == 403, headers
            form = browser_like.post(f"/warehouse/alerts/{alert_id}/acknowledge", headers=headers)
            assert form.status_code == 403, headers
    assert site.alert(alert_id) == ("active", None)


def test_a_failed_day_bulk_acknowledge_and_the_dark_theme_in_the_browser(site: Site) -> None:
    """The failed date's verdict links to the failed task in Airflow; on-call ticks the date's alerts,
    acknowledges them with one note, and takes them back; the page follows a dark theme."""
    from playwright.sync_api import expect, sync_playwright

    with psycopg.connect(site.warehouse) as conn:
        active = [
            r[0]
            for r in conn.execute(
                "SELECT alert_id FROM facts.fact_alert WHERE status = 'active' AND first_business_date <= %s "
                "AND last_business_date >= %s",
                (DAY, DAY),
            )
        ]
    assert len(active) >= 2, "the seeded day raised too few alerts to acknowledge several"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(color_scheme="dark", viewport={"width": 1280, "height": 900})
            context.add_cookies([{"name": "_token", "value": site.token("oncall"), "url": site.base}])
            page = context.new_page()
            page.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/])"), lambda route: route.abort())
            page.goto(f"{site.base}/warehouse/?date={FAILED_DAY}")
            expect(page.locator("#verdict-word")).to_have_text("FAILED at quality_gate_raw")
            background = page.evaluate("getComputedStyle(document.body).backgroundColor")
            assert background == "rgb(13, 17, 23)", "the page ignores the dark theme"
            page.locator("#failed-task-link").click()
            expect(page).to_have_url(re.compile(r"/dags/sap_warehouse_daily/runs/[^/]+/tasks/quality_gate_raw"))

            page.goto(f"{site.base}/warehouse/?date={DAY}")
            for alert_id in active:
                page.locator(f"#alert-{alert_id} input[type=checkbox]").check()
            page.locator("#bulk-ack input[name=note]").fill("supplier called: files at 10:00")
            page.get_by_role("button", name="Acknowledge selected").click()
            expect(page.locator("#message")).to_have_text(f"{len(active)} alert(s) acknowledged by oncall")
            for alert_id in active:
                expect(page.locator(f"#alert-{alert_id} .alert-status")).to_contain_text("acknowledged by oncall")
                expect(page.locator(f"#alert-{alert_id} .note")).to_have_text("supplier called: files at 10:00")
            assert {site.alert(a) for a in active} == {("acknowledged", "oncall")}
            for alert_id in active:  # and back: active again, for the tests after this one
                page.locator(f"#alert-{alert_id}").get_by_role("button", name="Take back").click()
                expect(page.locator(f"#alert-{alert_id} .alert-status")).to_have_text("active")
        finally:
            browser.close()
    assert {site.alert(a) for a in active} == {("active", None)}


def test_a_date_is_re_run_as_the_user_who_may_trigger_it(site: Site) -> None:
    """Re-run D from the page: a run of the daily DAG for D, triggered as the user, its note naming D
    (the grid tells runs apart); a viewer may not."""
    from airflow.models import DagRun
    from airflow.utils.session import create_session

    with site.client("auditor") as viewer:
        assert viewer.post("/warehouse/runs/rerun", params={"date": FAILED_DAY.isoformat()}).status_code == 403
        assert "Re-run" not in viewer.get("/warehouse/", params={"date": FAILED_DAY.isoformat()}).text
    with site.client("oncall") as admin:
        assert ">Re-run 2027-03-16<" in admin.get("/warehouse/", params={"date": FAILED_DAY.isoformat()}).text
        done = admin.post("/warehouse/runs/rerun", params={"date": FAILED_DAY.isoformat()}, follow_redirects=False)
        assert done.status_code == 303
        told = unquote_plus(done.headers["location"])
        assert "re-run of 2027-03-16 triggered by oncall: rerun__2027-03-16__" in told
        run_id = told.split(": ", 1)[1].split("&", 1)[0]
    with create_session() as session:
        rerun = session.query(DagRun).filter(DagRun.dag_id == "sap_warehouse_daily", DagRun.run_id == run_id).one()
        assert rerun.conf["business_date"] == FAILED_DAY.isoformat()
        assert rerun.triggering_user_name == "oncall"
        assert rerun.note == f"business date {FAILED_DAY}: re-run from the on-call page by oncall"


def test_an_admin_acknowledges_through_the_api(site: Site) -> None:
    alert_id = site.active_alert()
    with site.client("oncall") as admin:
        done = admin.post(f"/warehouse/api/alerts/{alert_id}/acknowledge")
        assert done.status_code == 200, done.text
        assert site.alert(alert_id) == ("acknowledged", "oncall")
        again = admin.post(f"/warehouse/api/alerts/{alert_id}/acknowledge")
        assert again.status_code == 409
        assert "not active" in again.json()["detail"]
        assert admin.post("/warehouse/api/alerts/999999999/acknowledge").status_code == 409


def test_on_call_goes_from_the_airflow_ui_to_the_page_and_acknowledges(site: Site, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    alert_id = site.active_alert()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            # Nothing here reaches the internet: the CDN styles and scripts of GX's Data Docs pages fail
            # at once instead of waiting for a name lookup (the pages' content is plain HTML).
            page.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/])"), lambda route: route.abort())
            page.goto(f"{site.base}/")
            page.get_by_label("Username").fill("oncall")
            page.get_by_label("Password").fill(site.passwords["oncall"])
            page.get_by_role("button", name="Sign in").click()
            page.get_by_role("button", name="Browse").click()
            page.get_by_role("menuitem", name="Warehouse on-call").click()
            expect(page).to_have_url(f"{site.base}/plugin/warehouse/warehouse/")
            frame = page.frame_locator("iframe")
            # The page opens on the latest date that should have run, not on the newest file's date.
            due = runs.latest_due(dt.datetime.now(dt.UTC))
            expect(frame.locator("#business-date")).to_have_text(due.isoformat())
            frame.locator("#dates a", has_text=DAY.isoformat()).click()
            expect(frame.locator("#business-date")).to_have_text(DAY.isoformat())
            expect(frame.locator("#reports tr", has_text="zrfi005")).to_contain_text("MISSING")
            expect(frame.locator("#quarantined")).to_contain_text("bad-truncated.xlsx")
            expect(frame.locator("#gates")).to_contain_text("raw_mb51")
            # The suite's Data Docs page opens in the view (the UI's frame allows no pop-ups), and back.
            frame.locator("#gates tr", has_text="raw_mb51").get_by_role("link", name="Data Docs").click()
            expect(frame.locator("body")).to_contain_text("movement_type")
            expect(frame.locator("#business-date")).to_have_count(0)
            # Back by going to the date's page (a sandboxed page leaves no history entry Back could use).
            page.goto(f"{site.base}/plugin/warehouse/warehouse/")
            frame.locator("#dates a", has_text=DAY.isoformat()).click()
            expect(frame.locator("#business-date")).to_have_text(DAY.isoformat())
            expect(frame.locator("#chart g.series[data-report='mb51'] polyline")).to_have_count(1)
            expect(frame.locator("#health")).to_contain_text("database size")

            row = frame.locator(f"#alert-{alert_id}")
            expect(row.locator(".alert-status")).to_have_text("active")
            row.get_by_role("button", name="Acknowledge").click()
            expect(frame.locator("#message")).to_have_text(f"alert {alert_id} acknowledged by oncall")
            expect(frame.locator(f"#alert-{alert_id} .alert-status")).to_have_text("acknowledged by oncall")
            expect(frame.locator(f"#alert-{alert_id}").get_by_role("button", name="Acknowledge")).to_have_count(0)
            page.screenshot(path=str(tmp_path / "oncall.png"))
        finally:
            browser.close()
    assert site.alert(alert_id) == ("acknowledged", "oncall")
