# Image for the production-style stack of docker-compose.yaml: the Airflow release of requirements.txt
# plus this project's pinned dependencies (the same lock the local environment installs), and the
# PostgreSQL 15 client tools the backup DAG runs (pg_dump, pg_restore; the same major as the server).
FROM apache/airflow:3.3.2-python3.11
USER root
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-client-15 \
 && rm -rf /var/lib/apt/lists/*
USER airflow
ENV WAREHOUSE_PG_BIN_DIR=/usr/lib/postgresql/15/bin
COPY requirements.txt requirements.lock /requirements/
RUN pip install --no-cache-dir -r /requirements/requirements.txt -c /requirements/requirements.lock
