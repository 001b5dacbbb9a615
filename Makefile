# Banli: `make demo` runs it, `make test` tests it, `make bench` measures it.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 8000
ARTIFACTS ?= $(CURDIR)/var/test-artifacts

.PHONY: demo test test-fast bench audit install system-deps clean worker beat scheduler

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
	BANLI_DEMO=1 $(PY) manage.py run_scheduler & SCHEDULER=$$!; trap 'kill $$SCHEDULER 2>/dev/null' EXIT INT TERM; \
	BANLI_DEMO=1 $(PY) manage.py runserver $(HOST):$(PORT) --noreload

# At scale: Celery workers and one beat scheduler with Redis as broker (CELERY_BROKER_URL=redis://…).
worker: install
	CELERY_BROKER_URL=$${CELERY_BROKER_URL:-redis://127.0.0.1:6379/0} $(PY) -m celery -A banli worker --loglevel=INFO

beat: install
	CELERY_BROKER_URL=$${CELERY_BROKER_URL:-redis://127.0.0.1:6379/0} $(PY) -m celery -A banli beat --loglevel=INFO --schedule=$(CURDIR)/var/celerybeat-schedule

# The embedded scheduler alone (e.g. beside a server started another way); `manage.py scan_deadlines` also suits cron.
scheduler: install
	$(PY) manage.py run_scheduler

test: install system-deps
	@mkdir -p $(ARTIFACTS)
	@echo "截图与测试产物目录 (screenshots): $(ARTIFACTS)"
	@# The layering (pyproject.toml [tool.importlinter]: pages and API above features above the domain).
	$(VENV)/bin/lint-imports
	BANLI_ARTIFACTS=$(ARTIFACTS) $(PY) -m pytest $(PYTEST_ARGS)

test-fast: install
	$(PY) -m pytest -m "not e2e and not slow" $(PYTEST_ARGS)

bench: install
	$(PY) -m banli.bench $(BENCH_ARGS)

# Known vulnerabilities in the installed dependencies (pip-audit: OSV, then PyPI advisory data) and a static
# security linter over the code (bandit; fails on medium and high findings, low ones are explained in
# pyproject.toml). An unreachable advisory source is reported as "not done", never as clean; it fails the
# target only with BANLI_AUDIT_STRICT=1 (see README).
audit: install
	$(PY) -m pip install -q -e '.[audit]'
	$(PY) scripts/audit.py

clean:
	rm -rf $(VENV) var
