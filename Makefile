# Erhuo: two commands from a fresh clone.
#   make demo   set up everything and serve the demo community (SQLite)
#   make test   set up and run the whole suite (lint, import rules, tests)

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: demo test install lint format migrate serve seed messages browser-deps bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/python manage.py migrate --no-input

seed: migrate
	$(BIN)/python manage.py demo_seed --if-empty

demo: seed
	$(BIN)/python manage.py collectstatic --no-input --verbosity 0
	$(BIN)/python manage.py demo_serve --host $(HOST) --port $(PORT)

browser-deps:
	@scripts/ensure-browser

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/python manage.py makemigrations --check --dry-run

test: install browser-deps lint
	$(BIN)/python -m pytest -p no:cacheprovider -n 2 $(PYTEST_ARGS)

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

messages: install
	cd erhuo && ../$(BIN)/python ../manage.py makemessages -l zh_Hans --no-obsolete --no-location
	cd erhuo && ../$(BIN)/python ../manage.py compilemessages -l zh_Hans

bench: install
	$(BIN)/python bench/api_auth.py
	$(BIN)/python bench/pipeline_pages.py
	$(BIN)/python bench/claim_storm/run.py
	$(BIN)/python bench/placement/run.py

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
