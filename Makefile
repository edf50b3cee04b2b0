# edgarflow: `make run` (the pipeline on the bundled sample, offline) and `make test`.
# Both create or update the pinned environment first; nothing else needs installing.
# Operators: `make airflow` (scheduler, DAG processor, triggerer, API server and UI), `make stop`.

SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
LOCAL := $(CURDIR)/.local
UV := $(LOCAL)/bootstrap/bin/uv
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin

export AIRFLOW_HOME := $(LOCAL)/airflow
export AIRFLOW_CONFIG := $(CURDIR)/airflow.cfg
export AIRFLOW__CORE__DAGS_FOLDER := $(CURDIR)/dags
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN ?= sqlite:///$(LOCAL)/airflow/airflow.db
export AIRFLOW__LOGGING__BASE_LOG_FOLDER := $(LOCAL)/airflow/logs
export DO_NOT_TRACK := 1
# Locally a DAG runs as soon as it is triggered; production keeps airflow.cfg's paused-at-creation.
export AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION := False
export UV_PROJECT_ENVIRONMENT := $(VENV)

# Per-machine Airflow secrets, generated once, kept out of the repository.
SECRETS := $(LOCAL)/airflow/secrets.env
# Written by every target that uses Airflow, for a shell of one's own: `source .local/airflow/env.sh`.
AIRFLOW_ENV := $(LOCAL)/airflow/env.sh
-include $(SECRETS)
export AIRFLOW__CORE__FERNET_KEY AIRFLOW__API__SECRET_KEY AIRFLOW__API_AUTH__JWT_SECRET

.PHONY: run test bench bench-scale dashboard dashboard-serve env bqemulator airflow-db airflow stop clean

# Each DAG as `airflow dags test` runs it; the scheduler would start warehouse_build on the
# sources' asset updates, so it is run after them. A short report; library output goes to a log.
run: airflow-db
	@$(BIN)/python -m ops.run_sample

# Airflow as operators run it, on this machine: prints the URL and the login; `make stop` ends it.
airflow: airflow-db
	@$(BIN)/python -m ops.services start

stop:
	@if [ -x $(BIN)/python ]; then $(BIN)/python -m ops.services stop; fi

test: env bqemulator
	$(BIN)/python -m pytest tests

bench: env
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

# The nightly job on universes of 1%, 5% and 10% of SEC's filers under a real scheduler (about 1.5
# hours on 2 cores; SIZES=1,10 for less); work files in .local/bench-scale. See bench/scale/.
SIZES ?= 1,5,10
bench-scale: env
	$(BIN)/python -m bench.scale --sizes $(SIZES)

# The BI dashboard (dashboards/, Evidence) over what `make run` built: npm ci from the lock file,
# then the static build into dashboards/build; `make dashboard-serve` serves it on localhost.
dashboard: env
	@$(BIN)/python -m ops.dashboard build

dashboard-serve: env
	@$(BIN)/python -m ops.dashboard serve

env: $(VENV)/.synced

# The tests' BigQuery emulator, in a virtualenv of its own (its pins differ from ours); DuckDB's
# extensions it loads come from PyPI wheels into its own HOME, so it starts with no network.
BQEMULATOR := $(LOCAL)/bqemulator
bqemulator: $(BQEMULATOR)/.installed

$(BQEMULATOR)/.installed: tests/requirements-bqemulator.txt | $(UV)
	rm -rf $(BQEMULATOR)
	$(UV) venv --quiet --python $(PYTHON) $(BQEMULATOR)
	VIRTUAL_ENV=$(BQEMULATOR) $(UV) pip install --quiet -r tests/requirements-bqemulator.txt
	mkdir -p $(BQEMULATOR)/home && HOME=$(BQEMULATOR)/home $(BQEMULATOR)/bin/python -c \
		'import duckdb_extensions as e; e.import_extension("spatial"); e.import_extension("avro")'
	touch $@

$(UV):
	$(PYTHON) -m venv $(LOCAL)/bootstrap
	$(LOCAL)/bootstrap/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen
	touch $@

$(SECRETS):
	mkdir -p $(dir $@)
	$(PYTHON) -c 'import base64, secrets; \
	print("AIRFLOW__CORE__FERNET_KEY=" + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()); \
	print("AIRFLOW__API__SECRET_KEY=" + secrets.token_urlsafe(32)); \
	print("AIRFLOW__API_AUTH__JWT_SECRET=" + secrets.token_urlsafe(32))' > $@
	chmod 600 $@

airflow-db: env $(SECRETS)
	@echo "Airflow's metadata database: $(AIRFLOW__DATABASE__SQL_ALCHEMY_CONN) (log $(LOCAL)/airflow/db-migrate.log)"
	@$(BIN)/airflow db migrate > $(LOCAL)/airflow/db-migrate.log 2>&1 || { cat $(LOCAL)/airflow/db-migrate.log; exit 1; }
	@$(BIN)/airflow pools import $(CURDIR)/ops/pools.json > /dev/null
	@{ echo "# The airflow CLI as make runs it: source $(AIRFLOW_ENV)"; \
	   for v in AIRFLOW_HOME AIRFLOW_CONFIG AIRFLOW__CORE__DAGS_FOLDER AIRFLOW__DATABASE__SQL_ALCHEMY_CONN \
	            AIRFLOW__LOGGING__BASE_LOG_FOLDER AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION DO_NOT_TRACK; do \
	     echo "export $$v='$$(printenv $$v)'"; done; \
	   echo "set -a; . '$(SECRETS)'; set +a"; echo 'export PATH="$(BIN):$$PATH"'; } > $(AIRFLOW_ENV)

clean: stop
	rm -rf $(LOCAL) $(VENV)
