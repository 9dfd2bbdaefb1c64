# Two commands on a fresh machine:
#   make demo   — set everything up, build the sample archive, index it and serve it
#   make test   — set everything up and run the test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
EXTRAS ?= all,dev
comma  := ,
STAMP  := $(VENV)/.installed-$(subst $(comma),-,$(EXTRAS))
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: demo test test-fast setup lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[$(EXTRAS)]'
	touch $@

setup: $(STAMP)

demo: setup
	PYTHON=$(abspath $(BIN))/python bash tools/web/fetch_assets.sh --if-possible
	$(BIN)/lantai --data-dir lantai-data/demo demo --serve

# The whole suite CI runs: fast tests plus the real-model, OCR and Elasticsearch tests
# (a throwaway Elasticsearch is fetched from Maven Central and started on loopback; those
# tests skip with a message where Maven is missing) and the browser tests (Debian chromium
# through Playwright, axe-core fetched with npm; they skip with a message where either is
# missing). Only `slow` stays opt-in.
test: setup
	PYTHON=$(abspath $(BIN))/python bash tools/es/fetch.sh --if-possible
	PYTHON=$(abspath $(BIN))/python bash tools/web/fetch_assets.sh --if-possible
	$(BIN)/python -m pytest -m "not slow"

test-fast: setup
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check lantai tests bench testkit tools
	$(BIN)/mypy lantai/text lantai/catalog lantai/indexing lantai/search lantai/search_app lantai/iiif lantai/accounts lantai/open_review lantai/thematic_collections \
		lantai/errors.py lantai/config.py lantai/cli.py lantai/sqlite_state.py

bench: setup
	$(BIN)/python bench/keyword/run.py

clean:
	rm -rf $(VENV) lantai-data .pytest_cache
