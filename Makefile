# Two commands on a fresh machine:
#   make demo   — set everything up, build the sample archive, index it and serve it
#   make test   — set everything up and run the test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
EXTRAS ?= all,dev
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: demo test test-all setup lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-$(subst $(comma),-,$(EXTRAS)): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[$(EXTRAS)]'
	touch $@

comma := ,
setup: $(VENV)/.installed-$(subst $(comma),-,$(EXTRAS))

demo: setup
	$(BIN)/lantai --data-dir lantai-data/demo demo

test: setup
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check lantai tests bench

bench: setup
	$(BIN)/python bench/keyword/run.py

clean:
	rm -rf $(VENV) lantai-data .pytest_cache
