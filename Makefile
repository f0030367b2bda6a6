# CartoCPTS — set-up, run and test on a fresh machine (Python 3.11 + package registries).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501

.PHONY: setup run test test-fast lint bench base assets clean-cache

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --upgrade pip >/dev/null
	$(BIN)/python -m pip install -r requirements.txt
	touch $@

assets: $(VENV)/.installed
	$(BIN)/python scripts/fetch_assets.py

base: $(VENV)/.installed
	$(BIN)/python -m geo data build

setup: $(VENV)/.installed assets base

run: setup
	$(BIN)/streamlit run app.py --server.port $(PORT)

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: $(VENV)/.installed assets lint
	$(BIN)/python -m pytest

test-fast: $(VENV)/.installed assets
	$(BIN)/python -m pytest -m "not browser"

bench: setup
	$(BIN)/python bench/run.py

clean-cache:
	rm -rf data/cache
