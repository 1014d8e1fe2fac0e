# The README's two commands: `make run` and `make test`. Both work on a fresh machine with Python 3.11.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app
HOST ?= 127.0.0.1
PORT ?= 8080

.PHONY: install run test test-pg browser sip translations clean vendor-echarts

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

# the compiled Chinese catalog is built from messages.po, never committed
app/translations/zh/LC_MESSAGES/messages.mo: app/translations/zh/LC_MESSAGES/messages.po $(VENV)/.installed
	$(BIN)/python tools/i18n.py compile

install: $(VENV)/.installed app/translations/zh/LC_MESSAGES/messages.mo

run: install
	$(FLASK) crm init
	$(FLASK) crm demo-data
	@echo "------------------------------------------------------------"
	@echo "CRM: http://$(HOST):$(PORT)/"
	@$(FLASK) crm login-info
	@echo "------------------------------------------------------------"
	$(BIN)/python run.py --host $(HOST) --port $(PORT)

# Debian's chromium for the browser tests (never a downloaded browser build)
browser:
	@if [ ! -x /usr/bin/chromium ] || [ ! -d /usr/share/fonts/truetype/wqy ]; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    (apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium fonts-wqy-microhei)) ; \
	  else \
	    echo "The browser tests need Debian's chromium: sudo apt-get install -y chromium" >&2; exit 1; \
	  fi; \
	fi

# Debian's Kamailio (the SIP trunk of the callback tests) and SIPp (package sip-tester: the test phones)
sip:
	@if ! command -v sipp >/dev/null 2>&1 || ! PATH="$$PATH:/usr/sbin" command -v kamailio >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    (apt-get install -y -qq kamailio sip-tester >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq kamailio sip-tester)) ; \
	  else \
	    echo "The SIP tests need Kamailio and SIPp: sudo apt-get install -y kamailio sip-tester" >&2; exit 1; \
	  fi; \
	fi

test: install browser sip
	$(BIN)/python tools/i18n.py check
	$(BIN)/python -m pytest -q

# the same suite on PostgreSQL (the browser tests keep their own SQLite server)
test-pg: install sip
	DATABASE_URL=$${DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test} $(BIN)/python -m pytest -q -m "not e2e"

translations: install
	$(BIN)/python tools/i18n.py extract
	$(BIN)/python tools/i18n.py compile

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache

# Apache ECharts for the data center's charts, from the npm registry into app/static/vendor (committed; no CDN)
vendor-echarts:
	tools/vendor_echarts.sh $(ECHARTS_VERSION)
