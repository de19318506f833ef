# nianbao: the two commands that matter are `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test demo bench services clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# Harvest every site in sites/ into ./data (SQLite catalogue + filesystem store).
run: install
	$(BIN)/nianbao crawl --all

demo: install
	$(BIN)/nianbao demo

services:
	./scripts/services.sh

test: install services
	$(BIN)/python -m pytest -q -p no:cacheprovider

bench: install services
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) data
