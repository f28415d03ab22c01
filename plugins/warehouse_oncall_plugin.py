"""The warehouse's Airflow plugin: the on-call page (sap_warehouse.signals.oncall), mounted in the api-server
at /warehouse and linked from the Airflow UI's navigation (Browse > Warehouse on-call), and the daily
DAG's timetable (sap_warehouse.timetable: run ids that name the business date), which Airflow only
accepts from a plugin."""

from __future__ import annotations

from typing import ClassVar

from airflow.plugins_manager import AirflowPlugin

from sap_warehouse.timetable import BusinessDayTimetable

URL_PREFIX = "/warehouse"


class OnCallApp:
    """The page's FastAPI app, built at its first request: the scheduler, dag-processor and workers
    load plugins too, and never serve it, so they do not import the api-server's modules for it."""

    def __init__(self) -> None:
        self._app = None

    async def __call__(self, scope, receive, send) -> None:
        if self._app is None:
            from sap_warehouse.signals.oncall import create_app

            self._app = create_app()
        await self._app(scope, receive, send)


class WarehouseOnCallPlugin(AirflowPlugin):
    name = "sap_warehouse"
    timetables: ClassVar[list[type]] = [BusinessDayTimetable]
    fastapi_apps: ClassVar[list[dict]] = [
        {"app": OnCallApp(), "url_prefix": URL_PREFIX, "name": "SAP warehouse on-call"}
    ]
    external_views: ClassVar[list[dict]] = [
        {
            "name": "Warehouse on-call",
            "href": f"{URL_PREFIX}/",
            "url_route": "warehouse",
            "destination": "nav",
            "category": "browse",
        }
    ]
