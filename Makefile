# Mamori. `make run` serves the demo; `make test` runs the whole suite. Both set themselves up.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
MANAGE := $(PY) manage.py

# Development mode: secrets are made under var/ on first use. Production sets its own (docs/deploy.md).
export DJANGO_DEBUG ?= true

.PHONY: setup messages migrate seed run test test-fast lint audit fmt clean

$(BIN)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

setup: $(BIN)/.installed messages

messages: $(BIN)/.installed
	@command -v msgfmt >/dev/null || { echo "gettext is missing: apt-get install gettext"; exit 1; }
	$(MANAGE) compilemessages --ignore '.venv/*' -v 0

migrate: setup
	$(MANAGE) migrate --no-input -v 0
	$(MANAGE) createcachetable

seed: migrate
	$(MANAGE) seed_demo

run: seed
	$(MANAGE) demo_logins
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/honcho start -f Procfile

test: setup
	$(BIN)/pytest $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

# Known vulnerabilities in the pinned requirements (and what they pull in). Needs PyPI's vulnerability data:
# --strict fails when a package could not be checked, rather than passing it unchecked.
audit: setup
	$(BIN)/pip-audit --strict --progress-spinner off -r requirements-dev.txt

fmt: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf var/celery var/staticfiles
