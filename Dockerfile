# Image for the production-style stack of docker-compose.yaml: the Airflow release of DESIGN.md
# plus this project's pinned dependencies (the same lock the local environment installs).
FROM apache/airflow:3.3.2-python3.11
COPY requirements.txt requirements.lock /requirements/
RUN pip install --no-cache-dir -r /requirements/requirements.txt -c /requirements/requirements.lock
