# Image for the production-style stack of docker-compose.yaml, on Airflow's slim image (core Airflow,
# no bundled providers: every provider the stack uses is pinned in requirements.txt):
# - build stage: the warehouse package (src/sap_warehouse; the DAGs and the plugin import it) built into
#   a wheel, as the image's non-root user in a tree it owns;
# - final stage: the PostgreSQL 15 client tools the backup DAG runs (pg_dump, pg_restore; the server's
#   major), the runtime dependencies resolved in requirements.lock (scripts/lock; not the development
#   venv), the wheel, and `pip check` (a broken set fails the build, not the first task).
# Nothing of the development kit or the test tools is in it. tests/image/test_image.py runs these steps as a
# non-root user on a root-owned copy of the context.
FROM apache/airflow:slim-3.3.2-python3.11 AS build
# requirements.txt: the package's declared dependencies (pyproject.toml reads them from it).
COPY --chown=airflow:0 pyproject.toml requirements.txt /build/
COPY --chown=airflow:0 src /build/src
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /build/wheels /build

FROM apache/airflow:slim-3.3.2-python3.11
USER root
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-client-15 \
 && rm -rf /var/lib/apt/lists/*
USER airflow
ENV WAREHOUSE_PG_BIN_DIR=/usr/lib/postgresql/15/bin
# include/ (configuration, SQL, suites, migrations) is mounted at /opt/airflow/include.
ENV SAP_WAREHOUSE_ROOT=/opt/airflow
COPY requirements.txt requirements.lock /requirements/
RUN pip install --no-cache-dir -r /requirements/requirements.txt -c /requirements/requirements.lock
COPY --from=build /build/wheels /wheels
RUN pip install --no-cache-dir --no-deps /wheels/*.whl && pip check
