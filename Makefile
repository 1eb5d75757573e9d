# closedloop: `make run` serves the product with demo data, `make test` runs the whole suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: run test bench mutate lint fmt clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall only when the requirements change: `make run` needs the runtime only, the
# targets that test, lint or measure add the test and lint tools.
RUNTIME := $(VENV)/.installed-runtime
DEV := $(VENV)/.installed-dev

$(RUNTIME): requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(DEV): requirements-dev.txt $(RUNTIME)
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

# gunicorn and the task cluster; serve prints the demo logins last, once the server answers.
run: $(RUNTIME)
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py setup_schedules
	PORT=$(PORT) exec $(BIN)/python manage.py serve --port $(PORT) --demo

test: $(DEV)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

bench: $(DEV)
	$(BIN)/python tests/bench/ingest.py
	$(BIN)/python tests/bench/nps.py
	$(BIN)/python tests/bench/escalation.py
	$(BIN)/python tests/bench/fanout.py
	$(BIN)/python tests/bench/invitations.py
	$(BIN)/python tests/bench/dashboard.py
	$(BIN)/python tests/bench/csv_import.py

# Mutation testing of the domain rules (about 15 minutes): a score per module, 90 % at least.
mutate: $(DEV)
	$(BIN)/python tests/mutation/run.py

lint: $(DEV)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy .
	$(BIN)/python manage.py spectacular --validate --fail-on-warn --file /dev/null

fmt: $(DEV)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-* staticfiles run mutants mutmut-run.log
