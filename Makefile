# The two commands: `make run` (set up, load the demo, serve on :5000) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HTMX_VERSION := 2.0.11
HTMX := static/vendor/htmx.min.js
HTMX_STAMP := static/vendor/.htmx-$(HTMX_VERSION)
AXE_VERSION := 4.14.1
AXE := tests/vendor/axe.min.js
AXE_STAMP := tests/vendor/.axe-$(AXE_VERSION)
LOCALES := zh_Hans_CN en  # zh_CN is parsed by Babel as zh_Hans_CN
MO := $(foreach l,$(LOCALES),scoring/translations/$(l)/LC_MESSAGES/messages.mo)
HOST ?= 127.0.0.1
PORT ?= 5000
WORKERS ?= 2

.PHONY: setup run test test-sqlite test-postgres messages bench screenshots clean

setup: $(STAMP) $(HTMX_STAMP) $(AXE_STAMP) $(MO)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test,postgres]'
	touch $@

# htmx is pinned and fetched from the npm registry, never committed.
$(HTMX_STAMP):
	mkdir -p static/vendor
	tmp=$$(mktemp -d) && cd $$tmp && npm pack --silent htmx.org@$(HTMX_VERSION) >/dev/null \
	  && tar -xzf htmx.org-$(HTMX_VERSION).tgz && cp package/dist/htmx.min.js $(CURDIR)/$(HTMX) \
	  && rm -rf $$tmp
	rm -f static/vendor/.htmx-* && touch $@

# axe-core, for the accessibility tests only (never served by the app): pinned, from npm.
$(AXE_STAMP):
	mkdir -p tests/vendor
	tmp=$$(mktemp -d) && cd $$tmp && npm pack --silent axe-core@$(AXE_VERSION) >/dev/null \
	  && tar -xzf axe-core-$(AXE_VERSION).tgz && cp package/axe.min.js $(CURDIR)/$(AXE) \
	  && rm -rf $$tmp
	rm -f tests/vendor/.axe-* && touch $@

scoring/translations/%/LC_MESSAGES/messages.mo: scoring/translations/%/LC_MESSAGES/messages.po $(STAMP)
	$(BIN)/pybabel compile --statistics -l $* -d scoring/translations -i $< -o $@

SIMULATE ?= 1

# Serves the demo; with SIMULATE=1 (the default) its judges go on marking, a mark a second,
# sign their sheets, and the chief judge decodes the blind criteria one by one (README).
# `make run SIMULATE=0` leaves the marks as they are.
run: setup
	$(BIN)/scoring init-db
	$(BIN)/scoring demo --if-empty
	@echo "Serving on http://$(HOST):$(PORT)  -- the board: http://$(HOST):$(PORT)/e/WELD  (Ctrl-C stops)"
	@if [ "$(SIMULATE)" = 1 ]; then \
	  $(BIN)/scoring demo --simulate --rate 1 > instance/simulate.log 2>&1 & sim=$$!; \
	  echo "Judges are entering the demo's remaining marks, about a minute of them (log: instance/simulate.log);"; \
	  echo "then the chief judge decodes them and the board moves; to start over: stop, rm instance/scoring.sqlite3*, make run."; \
	  trap 'kill $$sim 2>/dev/null' EXIT INT TERM; \
	  $(BIN)/gunicorn --config scoring/gunicorn_conf.py --bind $(HOST):$(PORT) --workers $(WORKERS) 'scoring:create_app()'; \
	else \
	  $(BIN)/gunicorn --config scoring/gunicorn_conf.py --bind $(HOST):$(PORT) --workers $(WORKERS) 'scoring:create_app()'; \
	fi

test: test-sqlite test-postgres

test-sqlite: setup
	$(BIN)/python -m pytest -q

# The same suite on the real PostgreSQL server (the rules' pure tests need no database).
test-postgres: setup
	SCORING_TEST_DB=postgres $(BIN)/python -m pytest -q --ignore=tests/unit

# After changing a message: extract, merge into the catalogues, then translate them.
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o scoring/translations/messages.pot --no-location --sort-output .
	$(BIN)/pybabel update -i scoring/translations/messages.pot -d scoring/translations --no-fuzzy-matching

bench: setup
	$(BIN)/python bench/rules.py

clean:
	rm -rf $(VENV) static/vendor tests/vendor $(MO) .pytest_cache

# Screenshots of the pages in docs/screenshots (phone, tablet, big screen; both languages).
screenshots: setup
	SCORING_SCREENSHOTS=1 $(BIN)/python -m pytest -q -m browser
