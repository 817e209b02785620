# The two commands of the README: `make run` and `make test`.
SHELL := /bin/bash
VENV  ?= .venv
PY    := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask
HOST  ?= 0.0.0.0
PORT  ?= 5000
export FLASK_APP := portal:create_app()
PORTAL_TEST_PG_URL ?= postgresql://postgres@127.0.0.1:5432/test

SYSTEM_PACKAGES := fonts-noto-cjk libharfbuzz-subset0 libpango-1.0-0 libpangoft2-1.0-0
TEST_SYSTEM_PACKAGES := chromium poppler-utils zbar-tools postgresql-client postgresql

.PHONY: run test setup test-setup system-packages test-system-packages translations db lint clean

run: setup db  ## set everything up, then serve the portal and run the timer worker
	@echo ""
	@echo "  Portal:  http://127.0.0.1:$(PORT)/   (all interfaces on $(HOST))"
	@echo "  Logins (password demo1234): window (受理窗口)  dispatch (综合调度)  dept03 (司法局承办)"
	@echo "          verify (核查督办)  director (中心主任)  mediator  township  grid  relief  admin"
	@echo ""
	@$(FLASK) portal worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT; \
	$(VENV)/bin/gunicorn --workers 2 --bind $(HOST):$(PORT) --access-logfile - 'portal:create_app()'

test: test-setup  ## install what tests need and run the whole suite (SQLite, then PostgreSQL)
	$(VENV)/bin/lint-imports
	$(VENV)/bin/ruff check portal tests bench
	$(PY) -m pytest -p no:cacheprovider
	@if $(PY) -c "import psycopg,sys; psycopg.connect('$(PORTAL_TEST_PG_URL)', connect_timeout=5).close()" 2>/dev/null; then \
		echo "== again on PostgreSQL ($(PORTAL_TEST_PG_URL)) =="; \
		PORTAL_TEST_DATABASE_URL='$(subst postgresql://,postgresql+psycopg://,$(PORTAL_TEST_PG_URL))' \
			$(PY) -m pytest -p no:cacheprovider; \
	elif [ -n "$$PORTAL_TEST_PG_REQUIRED" ]; then \
		echo "PostgreSQL at $(PORTAL_TEST_PG_URL) is not reachable, and PORTAL_TEST_PG_REQUIRED is set"; exit 1; \
	else echo "PostgreSQL not reachable at $(PORTAL_TEST_PG_URL): suite ran on SQLite only"; fi

setup: system-packages $(VENV)/.installed translations static/vendor/.installed

test-setup: setup test-system-packages

$(VENV)/.installed: requirements.lock requirements.txt requirements-test.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.lock
	touch $@

system-packages:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then echo "installing Debian packages: $$missing"; \
		$$( [ $$(id -u) -eq 0 ] || echo sudo ) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$( [ $$(id -u) -eq 0 ] || echo sudo ) apt-get install -y -qq $$missing; fi

# bpmn-js, dmn-js, ECharts and Swagger UI from the npm registry, served by the portal itself (no CDN on a county intranet)
VENDOR := static/vendor
static/vendor/.installed: package.json package-lock.json
	@command -v npm >/dev/null || $(MAKE) --no-print-directory system-packages SYSTEM_PACKAGES="nodejs npm"
	SCARF_ANALYTICS=false npm ci --no-audit --no-fund --loglevel=error
	rm -rf $(VENDOR) && mkdir -p $(VENDOR)/bpmn-js $(VENDOR)/dmn-js $(VENDOR)/echarts $(VENDOR)/swagger-ui
	cp -r node_modules/bpmn-js/dist/assets node_modules/bpmn-js/dist/bpmn-modeler.production.min.js \
		node_modules/bpmn-js/dist/bpmn-navigated-viewer.production.min.js node_modules/bpmn-js/LICENSE $(VENDOR)/bpmn-js/
	cp -r node_modules/dmn-js/dist/assets node_modules/dmn-js/dist/dmn-modeler.production.min.js \
		node_modules/dmn-js/LICENSE $(VENDOR)/dmn-js/
	cp node_modules/echarts/dist/echarts.min.js node_modules/echarts/LICENSE $(VENDOR)/echarts/
	cp node_modules/swagger-ui-dist/swagger-ui-bundle.js node_modules/swagger-ui-dist/swagger-ui.css \
		node_modules/swagger-ui-dist/LICENSE node_modules/swagger-ui-dist/NOTICE $(VENDOR)/swagger-ui/
	touch $@

test-system-packages:
	@$(MAKE) --no-print-directory system-packages SYSTEM_PACKAGES="$(TEST_SYSTEM_PACKAGES)"

translations: $(VENV)/.installed
	@$(VENV)/bin/pybabel compile -d portal/translations >/dev/null

db: $(VENV)/.installed  ## migrate; on a new database also load the demo county
	@mkdir -p instance
	$(FLASK) db upgrade
	$(FLASK) portal init
	$(FLASK) portal demo

clean:
	rm -rf $(VENV) instance test-artifacts
