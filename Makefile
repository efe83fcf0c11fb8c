# The two commands of the README: `make run` and `make test`. Everything else supports them.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
ASSETS_STAMP := static/vendor/.stamp
TEST_ENV := DJANGO_SETTINGS_MODULE=tests.settings

.PHONY: run test install install-dev assets lint migrate demo-users clean docs-screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(RUN_STAMP)

install: $(RUN_STAMP)
install-dev: $(DEV_STAMP)

$(ASSETS_STAMP): package.json package-lock.json scripts/vendor_assets.sh
	./scripts/vendor_assets.sh
	touch $@

assets: $(ASSETS_STAMP)

run: export DJANGO_DEBUG ?= 1
run: install assets
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py desk_schedules
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py demo_users
	$(BIN)/python manage.py sandbox magento-init
	$(BIN)/python manage.py sandbox erp-bootstrap
	$(BIN)/python manage.py mappings import carriers integration/fixtures/demo_carrier_mappings.csv
	$(BIN)/python manage.py desk_banner
	$(BIN)/honcho start -f Procfile

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(TEST_ENV) $(BIN)/python manage.py makemigrations --check --dry-run

test: install-dev assets
	./scripts/ensure_chromium.sh
	./scripts/ensure_postgres.sh
	./scripts/ensure_redis.sh
	$(MAKE) --no-print-directory lint
	@echo "=== test suite on PostgreSQL ==="
	$(TEST_ENV) $(BIN)/python scripts/with_postgres.py -- $(BIN)/pytest $(PYTEST_ARGS)
	@echo "=== test suite on SQLite ==="
	$(TEST_ENV) DATABASE_URL=sqlite:///$(CURDIR)/var/test-desk.sqlite3 $(BIN)/pytest $(PYTEST_ARGS)

# The guides' screenshots (docs/screenshots/), taken by the browser tests; `make test` never
# rewrites them.
docs-screenshots: install-dev assets
	UPDATE_DOCS_SCREENSHOTS=1 $(TEST_ENV) DATABASE_URL=sqlite:///$(CURDIR)/var/test-desk.sqlite3 $(BIN)/pytest -m browser -q $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) node_modules static/vendor staticfiles var
