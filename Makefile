# nianbao: the two commands that matter are `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# pywb (the replay check of the WARC tests) pins old redis/cryptography: it gets its own venv.
PYWB_VENV ?= .venv-pywb
PYWB_STAMP := $(PYWB_VENV)/.installed-stamp

.PHONY: install run test demo bench services browser clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

$(PYWB_STAMP):
	test -x $(PYWB_VENV)/bin/python || $(PYTHON) -m venv $(PYWB_VENV)
	$(PYWB_VENV)/bin/pip install -q 'pywb>=2.8,<2.11'
	touch $(PYWB_STAMP)

# Harvest every site in sites/ into ./data (SQLite catalogue + filesystem store). Offline (no
# host resolves: nianbao's exit 7) the summary says so and make adds no error line of its own;
# any other failure keeps nianbao's exit code (README "Exit codes").
run: install browser
	@rc=0; $(BIN)/nianbao crawl --all || rc=$$?; \
	if [ $$rc -eq 7 ]; then echo "make run: offline, nothing harvested (nianbao exit 7); run it again with network access"; exit 0; fi; \
	exit $$rc

# Chromium and a CJK font (fonts-noto-cjk), as `make test` and docker/Dockerfile install them:
# without the font every Chinese character of an archived screenshot is a box.
browser:
	./scripts/services.sh --browser-only

demo: install
	$(BIN)/nianbao demo

services:
	./scripts/services.sh

# Two workers, each given whole test files (a file's shared crawl fixtures stay in one process):
# most tests wait on crawls and servers, not on a core. TEST_WORKERS=0 runs them in one process.
TEST_WORKERS ?= 2
test: install $(PYWB_STAMP) services
	$(BIN)/python -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadfile

bench: install services
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) $(PYWB_VENV) data
