# Upgrade Warehouse: `make demo` and `make test` work on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
UV := $(PYTHON) -m uv
VENV := .venv
BIN := $(VENV)/bin
DEMO_DATA := data/demo
WAREHOUSE := warehouse/upgrade_warehouse.duckdb

.PHONY: help install java browser demo build test test-spark bench bench-dashboard lint docs clean expectations

help:
	@echo "make demo     create the environment, generate demo data, build, serve the dashboard"
	@echo "make test     create the environment, lint, run the tests (all but the slow Spark parity cases)"
	@echo "make test-spark  every Spark test, with the loader parity cases make test leaves out"
	@echo "make build    (re)build the warehouse from DATA_DIR (default: demo data)"
	@echo "make bench    run the benchmarks"
	@echo "make lint     ruff and sqlfluff over the code and the models"
	@echo "make docs     generate and serve dbt's docs site for the warehouse"
	@echo "make bench-dashboard  page times in Chromium (demo and 10M-event warehouses)"

## install: the Python environment from the lock file (uv is installed with pip if missing),
## with the `spark` extra (pyspark, dbt-spark) and Java for `build --engine spark`. Without
## root (no apt-get) and without java, only the DuckDB engine works: a warning, not an error.
## Bytecode is compiled once here: with PYTHONDONTWRITEBYTECODE set (or a read-only
## environment) every command would otherwise recompile dbt and Great Expectations on
## each start (seconds of CPU per build). Our own code (src, dashboards; an editable
## install, outside site-packages) too, on each install (only what changed): 0.13 s of
## CPU per command.
install: $(VENV)/.installed-compiled
	@$(BIN)/python -m compileall -q src dashboards >/dev/null
	@command -v java >/dev/null 2>&1 || $(MAKE) --no-print-directory java \
		|| echo "warning: no Java: \`build --engine spark\` needs openjdk-17-jre-headless"

$(VENV)/.installed-compiled: pyproject.toml uv.lock
	@$(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	$(UV) sync --frozen --compile-bytecode --extra spark
	@touch $@

## java: Debian's OpenJDK 17 for Spark (nothing else is downloaded; Spark runs from pyspark)
java:
	@if ! command -v java >/dev/null 2>&1; then \
		echo "installing openjdk-17-jre-headless from Debian"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq openjdk-17-jre-headless >/dev/null) \
		|| { echo "could not install Java (apt-get as root is needed)"; exit 1; }; \
	fi

## browser: Debian's chromium for the browser tests (no browser downloads)
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
		echo "installing chromium from Debian"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
		|| { echo "could not install chromium (apt-get as root is needed)"; exit 1; }; \
	fi

## build: load DATA_DIR (default: the demo data set) and publish the warehouse
build: install
	$(BIN)/upgrade-warehouse build $(if $(DATA_DIR),--data-dir $(DATA_DIR),) --warehouse $(WAREHOUSE)

## demo: generate the demo data set (once), build and publish it, serve the dashboard
demo: install
	$(BIN)/upgrade-warehouse build --warehouse $(WAREHOUSE)
	$(BIN)/upgrade-warehouse dashboard --warehouse $(WAREHOUSE)

## test: lint first (a finding stops the run), then every test, on two processes
## (pytest-xdist; modules that share a build run in one, tests/conftest.py), with the
## slowest tests listed at the end. Spark here: the Spark build of the golden set and
## everything compared on it (its golden metrics, marts, report, expectations), and three
## of the Spark loader's parity cases (the basic fixture with every reason code, typed
## Parquet, a file Spark cannot read). Left to `make test-spark` (tests marked
## spark_parity): the loader's other parity cases, a Spark build with a chain of attempts
## through int_upgrade_attempts' long tier, the CLI's Spark build stopped by a load error,
## the Spark builds of the experiments and Stripe fixtures, and every dashboard page
## rendered from the Spark build of the golden set beside the DuckDB one.
test: install java browser lint
	$(BIN)/python -m pytest -n 2 --dist loadgroup --no-loadscope-reorder --durations=25 \
		-m "not spark_parity"

## test-spark: every Spark test, the parity cases included (about 14 minutes)
test-spark: install java
	$(BIN)/python -m pytest --durations=15 tests/test_spark_build.py tests/test_spark_golden.py \
		tests/test_spark_loader.py tests/test_spark_experiments.py tests/test_spark_sources.py

## bench: build time against the floor at 1M and 10M events and at demo size (data sets
## generated once under data/bench/), attempts against the reference at 20k accounts,
## then the other benchmarks, and the Spark parity check (bench_spark: every value of
## `metrics --format json` equal on both engines at 2,000 accounts, docs/spark.md).
## The 100M-event run is by hand (README, Performance).
bench: install
	@for b in bench_scale bench_sources bench_attempts bench_build bench_quote bench_generate bench_spark; do \
		echo "== bench/$$b.py"; $(BIN)/python bench/$$b.py || exit 1; done

## bench-dashboard: every page's time in Chromium (second and later visits through the
## sidebar), on the demo warehouse and a 10M-event one (built once, cached under
## data/bench/dashboard/), each against a minimal Streamlit page (the floor) measured in
## the same run. Goals: the median page <= 2.5x the floor, every page <= 4x (PASS/FAIL).
bench-dashboard: install browser
	$(BIN)/python bench/bench_dashboard.py

## lint: Python (ruff: pyproject.toml) and SQL (sqlfluff: .sqlfluff) style, clean
PY_DIRS := src tests dashboards bench lint
SQL_DIRS := models macros
lint: install
	$(BIN)/ruff check $(PY_DIRS)
	$(BIN)/ruff format --check $(PY_DIRS)
	$(BIN)/sqlfluff lint $(SQL_DIRS) --processes 2 --disable-progress-bar
	$(BIN)/lint-imports --no-cache

## docs: dbt's docs site (models, columns, tests, exposures, lineage) of the warehouse,
## served on 127.0.0.1:8580 (DOCS_PORT)
docs: install
	$(BIN)/upgrade-warehouse docs --warehouse $(WAREHOUSE) $(if $(DOCS_PORT),--port $(DOCS_PORT),)

clean:
	rm -rf $(VENV) warehouse data target logs .pytest_cache

## expectations: regenerate the Great Expectations suites kept in expectations/
expectations: install
	$(BIN)/python -c "from upgrade_warehouse.quality import write_suites; [print(p) for p in write_suites()]"
