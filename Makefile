# The two set-up commands of the README, and a few helpers. All of them go through scripts/dev,
# which bootstraps (and reuses) the virtualenv, the local PostgreSQL, Airflow and the schema.
.PHONY: demo test setup db-down lint

demo:      ## generate a few days of SAP exports and run the daily DAG for each
	scripts/dev demo

test:      ## the commit checks (ruff, sqlfluff, mypy: .pre-commit-config.yaml), then the whole test suite on a real PostgreSQL
	scripts/dev test

setup:     ## bootstrap only
	scripts/dev setup

db-down:   ## stop the local PostgreSQL cluster and delete its data
	scripts/dev db-down

lint:      ## the commit checks alone
	scripts/dev exec pre-commit run --all-files
