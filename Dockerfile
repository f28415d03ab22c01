# Image for the production-style stack of docker-compose.yaml: the Airflow release of requirements.txt
# plus this project's pinned runtime dependencies (the same lock the local environment installs), the
# warehouse package (src/sap_warehouse; the DAGs and the plugin import it), and the PostgreSQL 15
# client tools the backup DAG runs (pg_dump, pg_restore; the same major as the server). Nothing of
# the development kit or the test tools is in it.
FROM apache/airflow:3.3.2-python3.11
USER root
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-client-15 \
 && rm -rf /var/lib/apt/lists/*
USER airflow
ENV WAREHOUSE_PG_BIN_DIR=/usr/lib/postgresql/15/bin
# include/ (configuration, SQL, suites, migrations) is mounted at /opt/airflow/include.
ENV SAP_WAREHOUSE_ROOT=/opt/airflow
COPY requirements.txt requirements.lock pyproject.toml /build/
RUN pip install --no-cache-dir -r /build/requirements.txt -c /build/requirements.lock
COPY src /build/src
RUN pip install --no-cache-dir --no-deps /build
