# Banli: `make demo` runs it, `make test` tests it, `make bench` measures it.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 8000
ARTIFACTS ?= $(CURDIR)/var/test-artifacts

.PHONY: demo serve smoke test test-fast bench audit install system-deps clean worker beat scheduler

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed

# Browser, CJK fonts and LibreOffice for the end-to-end and document tests; only installed when missing.
system-deps:
	@./scripts/system-deps.sh

demo: install
	BANLI_DEMO=1 $(PY) manage.py migrate --noinput
	BANLI_DEMO=1 $(PY) manage.py load_demo
	@# Smart assist learns from the demo's own history, so the register and assign pages show suggestions.
	@BANLI_DEMO=1 PYTHONWARNINGS=ignore $(PY) manage.py assist_train --task category > /dev/null && \
	BANLI_DEMO=1 PYTHONWARNINGS=ignore $(PY) manage.py assist_train --task routing > /dev/null && \
	echo "智能辅助模型已按演示数据训练（类别建议、交办建议）。"
	BANLI_DEMO=1 $(PY) manage.py demo_accounts
	@echo "Banli 正在运行: http://$(HOST):$(PORT)/  (管理后台 /admin/，Ctrl+C 停止)"
	@# The periodic jobs (deadline scan, reminders, digests) run beside the server in one process, no broker.
	@# The demo keeps Django's runserver on SQLite: one person tries it on one machine, SQLite takes one writer
	@# at a time anyway, and a confirmed import runs in a thread of this one process, whose progress the page
	@# polls from the same memory. `make serve` is the production server (gunicorn) on the configured database.
	BANLI_DEMO=1 $(PY) manage.py run_scheduler & SCHEDULER=$$!; trap 'kill $$SCHEDULER 2>/dev/null' EXIT INT TERM; \
	BANLI_DEMO=1 $(PY) manage.py runserver $(HOST):$(PORT) --noreload

# The production server on the configured database (DATABASE_URL; secrets set, see README「生产部署」): migrations,
# hashed and compressed static files, then gunicorn (banli/ops/gunicorn_conf.py: gthread workers from the cores,
# pooled connections, JSON logs) on BANLI_BIND (default 127.0.0.1:8000). Without a broker the embedded scheduler
# runs beside it; with CELERY_BROKER_URL run `make worker` and `make beat` (or deploy/systemd) instead.
serve: install
	$(PY) manage.py migrate --noinput
	BANLI_STATIC_HASHED=1 $(PY) manage.py collectstatic --noinput -v0
	@if [ -z "$$CELERY_BROKER_URL" ]; then \
	  BANLI_LOG_FORMAT=$${BANLI_LOG_FORMAT:-json} $(PY) manage.py run_scheduler & SCHEDULER=$$!; \
	  trap 'kill $$SCHEDULER 2>/dev/null' EXIT INT TERM; \
	  $(PY) -m gunicorn -c python:banli.ops.gunicorn_conf banli.wsgi; \
	else \
	  exec $(PY) -m gunicorn -c python:banli.ops.gunicorn_conf banli.wsgi; \
	fi

# The production stack (two gunicorn servers, Celery worker and beat, PostgreSQL, Redis) started, used and stopped.
smoke: install
	$(PY) -m banli.ops.smoke

# At scale: Celery workers and one beat scheduler with Redis as broker (CELERY_BROKER_URL=redis://…).
# One worker takes every queue here; on several machines give each `-Q` a subset (deploy/systemd/banli-worker.service).
worker: install
	CELERY_BROKER_URL=$${CELERY_BROKER_URL:-redis://127.0.0.1:6379/0} $(PY) -m celery -A banli worker \
	  -Q default,scan,deliveries,documents,assist --loglevel=INFO

beat: install
	CELERY_BROKER_URL=$${CELERY_BROKER_URL:-redis://127.0.0.1:6379/0} $(PY) -m celery -A banli beat --loglevel=INFO --schedule=$(CURDIR)/var/celerybeat-schedule

# The embedded scheduler alone (e.g. beside a server started another way); `manage.py scan_deadlines` also suits cron.
scheduler: install
	$(PY) manage.py run_scheduler

# The suite runs on PYTEST_WORKERS processes (pytest-xdist; default: one per core), each with its own test database
# (SQLite: var/test-banli-<pid>.sqlite3; PostgreSQL: test_<name>_gw0, _gw1, ...), a copy of one template migrated once
# per run (banli/core/testdb.py). PYTEST_WORKERS=0: one process.
# --dist worksteal: each worker starts with its half of the suite in collection order and a worker that runs out takes
# the later half of the other's queue, so a file's shared test world (conftest.py `world`) is built about once per
# worker and the run ends within one test of both workers (with --dist load the chunks handed out near the end held
# browser tests of 10-40 s while the other worker idled; simulated on measured durations: about 12 s less wall).
PYTEST_WORKERS ?= auto
# E2E=0 leaves out the browser tests (marker e2e). CI's PostgreSQL run does (.ci/run): what they check is the pages in
# a browser (menus, phone width, Chinese text, htmx forms), the same on both databases, and they took about 165 s of
# the 2-core machine's 400 in that run; the SQLite run keeps them, and the PostgreSQL run keeps the production
# smoke (gunicorn, Celery, Redis and PostgreSQL used for real) and every page of the permission matrix.
E2E ?= 1
TEST_MARKERS = $(if $(filter 0,$(E2E)),-m "not e2e",)
PYTEST_XDIST = $(if $(filter 0,$(PYTEST_WORKERS)),-p no:xdist,-n $(PYTEST_WORKERS) --dist worksteal)
# Bytecode: where the environment sets PYTHONDONTWRITEBYTECODE, every worker and every process a test starts (the
# production smoke's gunicorn and Celery, backup and restore, manage.py checks) compiled Banli's modules and pytest
# rewrote every test module again (about 4.5 s of CPU per worker). The test run writes them (__pycache__, ignored).
TEST_ENV = PYTHONDONTWRITEBYTECODE=

test: install system-deps
	@mkdir -p $(ARTIFACTS)
	@echo "截图与测试产物目录 (screenshots): $(ARTIFACTS)"
	@# The layering (pyproject.toml [tool.importlinter]: pages and API above features above the domain).
	$(VENV)/bin/lint-imports
	@# Imports at the top of each module, no unused imports or variables (pyproject.toml [tool.ruff]: PLC0415, F401, F841).
	$(VENV)/bin/ruff check banli
	$(TEST_ENV) BANLI_ARTIFACTS=$(ARTIFACTS) $(PY) -m pytest $(PYTEST_XDIST) $(TEST_MARKERS) --durations=20 $(PYTEST_ARGS)

test-fast: install
	$(TEST_ENV) $(PY) -m pytest $(PYTEST_XDIST) -m "not e2e and not slow" $(PYTEST_ARGS)

# The test settings (throw-away keys, a throw-away database): `banli` itself defaults to the production settings,
# which refuse to start without keys, before banli.bench could choose.
bench: install
	DJANGO_SETTINGS_MODULE=$${DJANGO_SETTINGS_MODULE:-banli.settings_test} $(PY) -m banli.bench $(BENCH_ARGS)

# Known vulnerabilities in the installed dependencies (pip-audit: OSV, then PyPI advisory data) and a static
# security linter over the code (bandit; fails on medium and high findings, low ones are explained in
# pyproject.toml). An unreachable advisory source is reported as "not done", never as clean; it fails the
# target only with BANLI_AUDIT_STRICT=1 (see README).
audit: install
	$(PY) -m pip install -q -e '.[audit]'
	$(PY) scripts/audit.py

clean:
	rm -rf $(VENV) var
