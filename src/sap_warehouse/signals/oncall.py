"""The on-call page: one business date of the warehouse at a glance, inside the Airflow UI.

A FastAPI app the Airflow plugin in plugins/warehouse_oncall_plugin.py mounts in the api-server at
``/warehouse`` (and lists in the UI's navigation). Per business date it shows the files (status,
report, rows read / loaded / unchanged / rejected / list totals, reader, seconds), the reports
recorded missing, the quarantined files with their reasons, the quality gates' results with the
failing expectations and their sample rows, the open alerts (with an acknowledge button), a chart of
rows loaded per report over the last 30 days, and the latest database health snapshot.

It reads through the Airflow connection ``warehouse_analyst_db`` (a login that is a member of the
read-only role warehouse_analyst; ``warehouse_db`` when it is not defined), in read-only
transactions. Acknowledging an alert is its one write, through ``warehouse_db``.

Every route asks Airflow's auth manager: the user of the request's token (the UI's session cookie, or
an ``Authorization: Bearer`` header) must be allowed to read the daily DAG (acknowledge: to edit it).
A browser without a session is sent to Airflow's login page; an API client gets 401.
"""

# No ``from __future__ import annotations`` here: FastAPI reads the routes' annotations when they are
# defined, and they name classes imported inside create_app().
import dataclasses
import datetime as dt
import re
from pathlib import Path
from typing import Annotated
from urllib.parse import quote, unquote, urlencode, urlsplit

import pendulum

from sap_warehouse.core import settings
from sap_warehouse.core.business_date import BUSINESS_TIMEZONE
from sap_warehouse.core.db import query_rows, read_only
from sap_warehouse.gates import quality
from sap_warehouse.ingest.landing import expected_reports, files_due
from sap_warehouse.operations import runs
from sap_warehouse.signals import alerts, summary

DAILY_DAG_ID = "sap_warehouse_daily"
CHART_DAYS = 30
DATES_LISTED = 60
STALE_DAYS = 7  # the dates that should have run in the last week are listed even without a file
TEMPLATES = Path(__file__).with_name("templates")
# One colour per report line of the chart, in the order the reports sort: as many as there are reports
# (Tableau 10 and four more of Tableau 20), so no two reports share one.
PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f",
           "#bab0ac", "#86bcb6", "#d37295", "#a0cbe8", "#8cd17d")  # fmt: skip


def _light_headline(ledger: dict | None) -> str:
    """A listed date's word from its file ledger alone (the chosen date gets the full summary)."""
    if ledger is None or not (ledger["loaded"] or ledger["quarantined"]):
        return "NOTHING ARRIVED"
    return "INCOMPLETE" if ledger["missing"] or ledger["quarantined"] else "OK"


# Each report's word for a date, and how it reads on the page.
ARRIVAL_SEVERITY = {"OK": "ok", "LATE": "warning", "WAITING": "muted", "QUARANTINED": "critical", "MISSING": "critical"}


def arrivals(
    expected: list[str], files: list[dict], recorded_missing: list[str], due_at: dt.datetime, now: dt.datetime
) -> list[dict]:
    """Each report's arrival for a date, against the files' due time: OK (a file of it loaded by the
    due time), LATE (loaded, the first after it), QUARANTINED (only refused files), WAITING (nothing
    yet, not due yet), MISSING (nothing by the due time, or recorded missing by a run). The expected
    reports first, then those a run recorded missing (expected when it ran), then any other report
    that sent a file. ``files`` are the ledger's rows of the date (report, status, recorded_at)."""
    names = list(dict.fromkeys([*expected, *recorded_missing, *(f["report"] for f in files)]))
    out = []
    for report in names:
        own = [f for f in files if f["report"] == report]
        loaded = [f["recorded_at"] for f in own if f["status"] in ("loaded", "duplicate")]
        refused = sum(f["status"] == "quarantined" for f in own)
        first = min(loaded, default=None)
        if first is not None:
            word = "OK" if first <= due_at else "LATE"
        elif refused:
            word = "QUARANTINED"
        else:
            word = "WAITING" if now < due_at and report not in recorded_missing else "MISSING"
        out.append(
            {
                "report": report,
                "arrival": word,
                "severity": ARRIVAL_SEVERITY[word],
                "first_loaded": first,
                "loaded": len(loaded),
                "quarantined": refused,
                "expected": report in expected,
            }
        )
    return out


def listed_days(ledger: dict[dt.date, dict], due: dt.date, chosen: dt.date) -> set[dt.date]:
    """The dates the page lists: those the ledger knows, every date of the last week that should have
    run, and the chosen one."""
    return set(ledger) | {due - dt.timedelta(days=i) for i in range(STALE_DAYS)} | {chosen}


def verdicts(
    ledger: dict[dt.date, dict], chosen: dt.date, due: dt.date, runs_of: dict | None, headline: str | None
) -> list[dict]:
    """The date list: the dates the ledger knows and every date of the last week that should have run,
    newest first, each with its verdict (the chosen date's from the full summary ``headline``)."""
    days = sorted(listed_days(ledger, due, chosen), reverse=True)
    out = []
    for day in days[:DATES_LISTED]:
        run = runs_of.get(day) if runs_of is not None else None
        word = runs.verdict(
            run,
            known=runs_of is not None,
            due=day <= due,
            headline=headline if day == chosen else _light_headline(ledger.get(day)),
        )
        counts = ledger.get(day) or {"loaded": 0, "quarantined": 0, "missing": 0}
        out.append(
            {
                "business_date": day,
                "verdict": word,
                "run_id": run.run_id if run else None,
                **counts,
                "severity": severity_of(word),
            }
        )
    return out


def severity_of(verdict: str) -> str:
    """How a verdict is shown: critical (act now), warning (look), ok, or muted (nothing to say yet)."""
    if verdict.startswith(("FAILED", "NOT RUN", "ATTENTION", "NOTHING ARRIVED")):
        return "critical"
    if verdict.startswith(("INCOMPLETE", "RUNNING")):
        return "warning"
    return "ok" if verdict == "OK" else "muted"


SEVERITIES = ("critical", "warning", "info")
SHOWN_PER_RULE = 25


def alert_groups(alerts_of_day: list[dict]) -> list[dict]:
    """The alerts as incidents: one group per rule, with its count per severity and its first
    SHOWN_PER_RULE alerts, the rules with critical alerts first (then by count)."""
    groups: dict[str, dict] = {}
    for a in alerts_of_day:
        group = groups.setdefault(
            a["rule_code"], {"rule": a["rule_code"], "alerts": [], "counts": dict.fromkeys(SEVERITIES, 0)}
        )
        group["counts"][a["severity"]] += 1
        group["alerts"].append(a)
    for group in groups.values():
        group["total"] = len(group["alerts"])
        group["hidden"] = max(0, group["total"] - SHOWN_PER_RULE)
        group["alerts"] = group["alerts"][:SHOWN_PER_RULE]
    return sorted(groups.values(), key=lambda g: (*(-g["counts"][s] for s in SEVERITIES), g["rule"]))


def day_view(
    business_date: dt.date | None = None,
    *,
    conninfo: str | None = None,
    now: dt.datetime | None = None,
    severity: str | None = None,
    rule: str | None = None,
) -> dict:
    """Everything the page shows for ``business_date`` (default: the latest business date that should
    have run by ``now``, whatever the newest file is): its verdict from its latest run and the
    warehouse, the date list with theirs, files, gates, alerts, the chart and database health."""
    now = now or dt.datetime.now(dt.UTC)
    due = runs.latest_due(now)
    business_date = business_date or due
    with read_only(conninfo) as conn:
        ledger = {r["business_date"]: r for r in query_rows(conn, "oncall/dates.sql", {"limit": DATES_LISTED})}
        current_to = conn.execute(
            "SELECT max(coalesce((details ->> 'through')::date, business_date)) FROM operations.etl_run_log "
            "WHERE step = 'refresh_views'"
        ).fetchone()[0]
    runs_of = runs.by_date(sorted(listed_days(ledger, due, business_date)))
    run = runs_of.get(business_date) if runs_of is not None else None
    expected = expected_reports()
    told = summary.collect(
        business_date,
        run_id=run.run_id if run else "",
        expected=expected,
        since=run.started if run else None,
        failed_task=run.failed_task if run and run.state == "failed" else None,
        conninfo=conninfo,
    )
    verdict = runs.verdict(run, known=runs_of is not None, due=business_date <= due, headline=told["headline"])
    with read_only(conninfo) as conn:
        day = {"day": business_date}
        files = query_rows(conn, "oncall/files.sql", day)
        files_due_at = files_due(business_date, settings.value("sap_files_due_time"))
        view = {
            "business_date": business_date,
            "verdict": verdict,
            "verdict_severity": severity_of(verdict),
            "run": run,
            "run_link": _airflow_link(run.run_id) if run else None,
            "failed_task_link": _airflow_link(run.run_id, run.failed_task) if run and run.failed_task else None,
            "current_to": current_to,
            "files_due": files_due_at,
            "due": due,
            "summary_text": summary.render_text(told),
            "dates": verdicts(ledger, business_date, due, runs_of, verdict),
            "files": files,
            "quarantined": [f for f in files if f["status"] == "quarantined"],
            "missing": query_rows(conn, "oncall/missing.sql", day),
            "gates": query_rows(conn, "oncall/gates.sql", day),
            "alerts": query_rows(conn, "oncall/alerts.sql", {**day, "severity": severity, "rule": rule}),
            "filters": {"severity": severity, "rule": rule},
            "rows_by_report": query_rows(conn, "oncall/rows_by_report.sql", {**day, "days": CHART_DAYS}),
            "health": next(iter(query_rows(conn, "oncall/database_health.sql")), None),
        }
    view["arrivals"] = arrivals(expected, files, [m["report"] for m in view["missing"]], files_due_at, now)
    view["alert_groups"] = alert_groups(view["alerts"])
    statuses = {(r["gate"], r["suite"]): r for r in quality.stored_results(business_date, conninfo=conninfo)}
    for gate in view["gates"]:
        stored = statuses.get((gate["gate"], gate["suite_name"]), {})
        gate["status"], gate["rows"] = stored.get("status"), stored.get("rows")
    view["chart"] = chart(view["rows_by_report"], business_date)
    return view


def plant_time(moment: dt.datetime | None) -> str:
    """A timestamp in the plant's time zone, with the zone said: 2026-03-11 07:42 +07."""
    if moment is None:
        return ""
    local = pendulum.instance(moment).in_timezone(BUSINESS_TIMEZONE)
    return local.strftime("%Y-%m-%d %H:%M ") + local.strftime("%z")[:3]


def _airflow_link(run_id: str, task_id: str | None = None) -> str:
    """The Airflow UI's page of a daily run (or of one of its tasks: its log), relative to the UI's root
    (the page is served under /warehouse/ of the same server)."""
    link = f"../dags/{DAILY_DAG_ID}/runs/{quote(run_id, safe='')}"
    return f"{link}/tasks/{quote(task_id, safe='')}" if task_id else link


def data_docs_root(url: str) -> Path | None:
    """The local folder of a Data Docs location URL (None when it is object storage: its pages are
    linked where they are)."""
    parts = urlsplit(url)
    return Path(parts.path) if parts.scheme in ("", "file") else None


def docs_link(page: str | None, root: Path | None) -> str | None:
    """Where the page links a Data Docs page: through this app (``data-docs/<path>``) when it lies in
    the local site, else its own URL (object storage); None without a page."""
    if not page:
        return None
    parts = urlsplit(page)
    if parts.scheme == "file" and root is not None:
        try:
            return "data-docs/" + Path(unquote(parts.path)).relative_to(root).as_posix()
        except ValueError:
            return None  # written to another site than the one configured now
    return page if parts.scheme in ("http", "https") else None


def chart(rows: list[dict], last: dt.date, days: int = CHART_DAYS, width: int = 1200, height: int = 220) -> dict:
    """An SVG line chart of rows loaded per report over the ``days`` dates up to ``last`` (the chosen
    date, marked): one polyline per report from its first date with a file in the window (the days
    before are not drawn; a later date without a file counts 0), a dot with a tooltip per value, and a
    band per date of what the same weekday loaded in all reports over the window (min to max of the
    other such dates): is today's volume usual for the weekday? y from 0 to the largest value."""
    first = last - dt.timedelta(days=days - 1)
    left, right, top, bottom = 64, 12, 10, 24
    span_x, span_y = width - left - right, height - top - bottom
    by_report: dict[str, dict[dt.date, int]] = {}
    totals: dict[dt.date, int] = {}
    for r in rows:
        by_report.setdefault(r["report"], {})[r["business_date"]] = r["rows_loaded"]
        totals[r["business_date"]] = totals.get(r["business_date"], 0) + r["rows_loaded"]
    dates = [first + dt.timedelta(days=d) for d in range(days)]
    band = []
    for day in dates:
        same = [
            totals.get(other, 0)
            for other in dates
            if other.weekday() == day.weekday() and other != day and other >= min(totals, default=last)
        ]
        band.append((day, min(same), max(same)) if same else None)
    peak = max([*(r["rows_loaded"] for r in rows), *(b[2] for b in band if b)], default=0) or 1

    def x(day: dt.date) -> float:
        return left + span_x * (day - first).days / max(days - 1, 1)

    def y(value: int) -> float:
        return top + span_y * (1 - value / peak)

    series = []
    for i, (report, values) in enumerate(sorted(by_report.items())):
        start = min(values)
        drawn = [day for day in dates if day >= start]
        dots = [
            {"x": round(x(day), 1), "y": round(y(values.get(day, 0)), 1), "date": day, "rows": values.get(day, 0)}
            for day in drawn
        ]
        series.append(
            {
                "report": report,
                "color": PALETTE[i % len(PALETTE)],
                "points": " ".join(f"{d['x']:.1f},{d['y']:.1f}" for d in dots),
                "dots": dots,
                "total": sum(values.values()),
            }
        )
    shown = [b for b in band if b]
    upper = " ".join(f"{x(day):.1f},{y(high):.1f}" for day, _, high in shown)
    lower = " ".join(f"{x(day):.1f},{y(low):.1f}" for day, low, _ in reversed(shown))
    return {
        "width": width,
        "height": height,
        "series": series,
        "peak": peak,
        "band": f"{upper} {lower}".strip(),
        "marker": round(x(last), 1),
        "axis": {"left": left, "top": top, "bottom": height - bottom, "right": width - right},
        "first": first,
        "last": last,
    }


def _same_origin(request) -> bool:
    """A post comes from a page of this server, or from no browser page at all (a script with a token
    sends neither header). A browser names a cross-site request's page in Origin and marks it in
    Sec-Fetch-Site; Airflow's session cookie would ride along with it, so such a post is refused."""
    origin = request.headers.get("origin")
    if request.headers.get("sec-fetch-site") in ("cross-site", "same-site"):
        return False
    return origin is None or urlsplit(origin).netloc == request.url.netloc


# Data Docs pages are GX's HTML holding values of the data (a hostile export can put markup in a
# cell). Served on Airflow's own origin, they get a sandbox: no script runs, no form posts, no
# cookie of this origin is readable, and they are never framed by other sites. Nothing is fetched
# from elsewhere: GX's CDN assets are replaced by the package's own stylesheet (offline_page).
DATA_DOCS_HEADERS = {
    "Content-Security-Policy": (
        "sandbox allow-popups allow-popups-to-escape-sandbox; default-src 'none'; script-src 'none'; "
        "style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; "
        "form-action 'none'; base-uri 'none'; frame-ancestors 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


# A <link>, <script> or <img> that loads from another host (GX's pages load Bootstrap, Font Awesome,
# jQuery, bootstrap-table and Vega from public CDNs, and GX's logo from its own bucket).
_EXTERNAL_ASSET = re.compile(
    rb"<link\b[^>]*\bhref=[\"']?(?:https?:)?//[^>]*>"
    rb"|<script\b[^>]*\bsrc=[\"']?(?:https?:)?//[^>]*>\s*</script>"
    rb"|<img\b[^>]*\bsrc=[\"']?(?:https?:)?//[^>]*>",
    re.IGNORECASE,
)
DATA_DOCS_CSS = TEMPLATES / "data_docs.css"


def offline_page(html: bytes, stylesheet: str) -> bytes:
    """A Data Docs page without its CDN assets, styled by ``stylesheet`` (a URL this server serves)."""
    stripped = _EXTERNAL_ASSET.sub(b"", html)
    link = f'<link rel="stylesheet" href="{stylesheet}">'.encode()
    head = re.search(rb"<head[^>]*>", stripped, re.IGNORECASE)
    return stripped[: head.end()] + link + stripped[head.end() :] if head else link + stripped


def create_app():
    """The FastAPI app of the page and its JSON API (imported by the api-server only)."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity, DagDetails
    from airflow.api_fastapi.core_api.security import GetUserDep, requires_access_dag
    from fastapi import Depends, FastAPI, Form, HTTPException, Query, Request, status
    from fastapi.encoders import jsonable_encoder
    from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
    from fastapi.templating import Jinja2Templates

    templates = Jinja2Templates(directory=str(TEMPLATES))
    templates.env.filters["plant_time"] = plant_time
    can_read = Depends(requires_access_dag("GET", param_dag_id=DAILY_DAG_ID))
    can_edit = Depends(requires_access_dag("PUT", param_dag_id=DAILY_DAG_ID))
    can_trigger = Depends(requires_access_dag("POST", DagAccessEntity.RUN, param_dag_id=DAILY_DAG_ID))
    app = FastAPI(title="SAP warehouse: on-call", description=__doc__.split("\n\n")[0])

    @app.exception_handler(HTTPException)
    async def to_login(request: Request, exc: HTTPException):
        """A browser without a valid session goes to Airflow's login page and comes back here."""
        wants_html = "text/html" in request.headers.get("accept", "") and not request.url.path.startswith(
            f"{request.scope.get('root_path', '')}/api/"
        )
        if exc.status_code == status.HTTP_401_UNAUTHORIZED and wants_html:
            return RedirectResponse(get_auth_manager().get_url_login(next_url=str(request.url)))
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    def parse_date(value: str | None) -> dt.date | None:
        try:
            return dt.date.fromisoformat(value) if value else None
        except ValueError:
            raise HTTPException(422, f"date {value!r} is not YYYY-MM-DD") from None

    DateParam = Annotated[
        str | None, Query(description="business date, YYYY-MM-DD (default: the latest date that should have run)")
    ]

    def docs_root() -> Path | None:
        # In the api-server (a server process) a Variable is read from the metadata database too.
        return data_docs_root(settings.value("warehouse_data_docs_path"))

    Severity = Annotated[
        str | None, Query(description="only alerts of this severity", pattern="^(critical|warning|info)?$")
    ]
    Rule = Annotated[str | None, Query(description="only alerts of this rule", max_length=64)]

    @app.get("/", response_class=HTMLResponse, dependencies=[can_read])
    def page(
        request: Request,
        user: GetUserDep,
        date: DateParam = None,
        message: str | None = None,
        severity: Severity = None,
        rule: Rule = None,
    ):
        view = day_view(parse_date(date), severity=severity or None, rule=rule or None)
        root = docs_root()
        for gate in view["gates"]:
            gate["data_docs_link"] = docs_link(gate["data_docs_page"], root)
        # A viewer sees no button it cannot use: acknowledging needs edit access to the daily DAG, a
        # re-run the right to trigger it.
        manager, daily = get_auth_manager(), DagDetails(id=DAILY_DAG_ID)
        can_acknowledge = manager.is_authorized_dag(method="PUT", details=daily, user=user)
        run_entity = DagAccessEntity.RUN
        can_rerun = manager.is_authorized_dag(method="POST", access_entity=run_entity, details=daily, user=user)
        context = {
            "view": view,
            "user": user.get_name(),
            "message": message,
            "can_acknowledge": can_acknowledge,
            "can_rerun": can_rerun,
            "rules": alerts.RULES,
        }
        return templates.TemplateResponse(request, "oncall.html", context)

    @app.get("/static/oncall.js", include_in_schema=False)
    def page_script() -> FileResponse:
        """The page's one script (its theme), from the installed package; no data in it."""
        return FileResponse(TEMPLATES / "oncall.js", media_type="text/javascript")

    @app.get("/data-docs/_offline/data_docs.css", include_in_schema=False)
    def data_docs_css() -> FileResponse:
        """The stylesheet that stands in for the Data Docs' CDN assets (from the installed package; no
        data in it, so no login: a sandboxed page's requests carry no session cookie)."""
        return FileResponse(DATA_DOCS_CSS, media_type="text/css", headers=DATA_DOCS_HEADERS)

    @app.get("/data-docs/{path:path}", dependencies=[can_read])
    def data_docs(path: str) -> Response:
        """The gates' GX Data Docs site, when it is a local folder."""
        root = docs_root()
        if root is None:
            raise HTTPException(404, "the Data Docs site is in object storage: follow its own link")
        target = (root / path).resolve()
        if not target.is_relative_to(root.resolve()) or not target.is_file():
            raise HTTPException(404, f"no Data Docs page {quote(path)}")
        if target.suffix.lower() in (".html", ".htm"):
            depth = path.count("/")
            css = "../" * depth + "_offline/data_docs.css"
            return Response(offline_page(target.read_bytes(), css), media_type="text/html", headers=DATA_DOCS_HEADERS)
        return FileResponse(target, headers=DATA_DOCS_HEADERS)

    @app.get("/api/day", dependencies=[can_read])
    def day_json(date: DateParam = None) -> JSONResponse:
        """The page's content as JSON."""
        view = day_view(parse_date(date))
        view.pop("chart")
        view["run"] = dataclasses.asdict(view["run"]) if view["run"] else None
        return JSONResponse(jsonable_encoder(view))

    def _acknowledge(alert_id: int, user) -> None:
        try:
            alerts.acknowledge(alert_id, user.get_name())
        except ValueError as error:
            raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from None

    @app.post("/api/alerts/{alert_id}/acknowledge", dependencies=[can_edit])
    def acknowledge_json(request: Request, alert_id: int, user: GetUserDep) -> dict:
        if not _same_origin(request):
            raise HTTPException(status.HTTP_403_FORBIDDEN, "cross-site request refused: post from this server's pages")
        _acknowledge(alert_id, user)
        return {"alert_id": alert_id, "status": "acknowledged", "acknowledged_by": user.get_name()}

    def _back(message: str, date: str | None, up: int) -> RedirectResponse:
        # Relative: back to the page (/warehouse/) whatever prefix a proxy serves Airflow under.
        query = urlencode({"message": message, **({"date": date} if date else {})})
        return RedirectResponse("../" * up + f"?{query}", status_code=status.HTTP_303_SEE_OTHER)

    @app.post("/runs/rerun", dependencies=[can_trigger])
    def rerun(request: Request, user: GetUserDep, date: DateParam = None):
        """Re-run a business date: a new run of the daily DAG for it, triggered as the user (who must
        be allowed to trigger the DAG), with a note that names the date in Airflow's grid."""
        from airflow.api.common.trigger_dag import trigger_dag
        from airflow.utils.types import DagRunTriggeredByType

        if not _same_origin(request):
            raise HTTPException(status.HTTP_403_FORBIDDEN, "re-run from the on-call page of this server")
        day = parse_date(date)
        if day is None:
            raise HTTPException(422, "name the business date to re-run: ?date=")
        who = user.get_name()
        run = trigger_dag(
            DAILY_DAG_ID,
            triggered_by=DagRunTriggeredByType.UI,
            triggering_user_name=who,
            run_id=f"rerun__{day}__{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}",
            conf={"business_date": day.isoformat(), "business_date_to": None},
            note=f"business date {day}: re-run from the on-call page by {who}",
        )
        return _back(f"re-run of {day} triggered by {who}: {run.run_id if run else '(no run id)'}", date, 2)

    @app.post("/alerts/acknowledge", dependencies=[can_edit])
    def acknowledge_selected(
        request: Request,
        user: GetUserDep,
        alert_id: Annotated[list[int] | None, Form()] = None,
        note: Annotated[str, Form(max_length=500)] = "",
        date: DateParam = None,
    ):
        """Acknowledge the alerts ticked on the page, with one note."""
        if not _same_origin(request):
            raise HTTPException(status.HTTP_403_FORBIDDEN, "acknowledge from the on-call page of this server")
        if not alert_id:
            return _back("tick the alerts to acknowledge first", date, 1)
        try:
            done = alerts.acknowledge_many(list(alert_id), user.get_name(), note=note or None)
            message = f"{len(done)} alert(s) acknowledged by {user.get_name()}"
        except ValueError as error:
            message = str(error)
        return _back(message, date, 1)

    @app.post("/alerts/{alert_id}/unacknowledge", dependencies=[can_edit])
    def unacknowledge_form(request: Request, alert_id: int, user: GetUserDep, date: DateParam = None):
        if not _same_origin(request):
            raise HTTPException(status.HTTP_403_FORBIDDEN, "take back from the on-call page of this server")
        try:
            alerts.unacknowledge(alert_id, user.get_name())
            message = f"alert {alert_id} is active again ({user.get_name()})"
        except ValueError as error:
            message = str(error)
        return _back(message, date, 2)

    @app.post("/alerts/{alert_id}/acknowledge", dependencies=[can_edit])
    def acknowledge_form(request: Request, alert_id: int, user: GetUserDep, date: DateParam = None):
        if not _same_origin(request):
            raise HTTPException(status.HTTP_403_FORBIDDEN, "acknowledge from the on-call page of this server")
        try:
            _acknowledge(alert_id, user)
            message = f"alert {alert_id} acknowledged by {user.get_name()}"
        except HTTPException as error:
            message = str(error.detail)
        return _back(message, date, 2)

    return app
