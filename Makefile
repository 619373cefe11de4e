# yiwang: two commands set up a fresh machine.
#   make demo   create .venv, install, migrate, load the demo province, serve http://127.0.0.1:8000
#   make test   set up and run the whole suite on the embedded default (SQLite, local files)
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
YIWANG := $(VENV)/bin/yiwang
HOST ?= 127.0.0.1
PORT ?= 8000
STAMP := $(VENV)/.installed

.PHONY: demo test test-browser fuzz lint format mypy-baseline bench messages clean serve

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(YIWANG) migrate --no-input -v0
	YIWANG_FAKE_SMS=1 $(YIWANG) load_demo --host $(HOST) --port $(PORT)
	YIWANG_MANIFEST_STATIC=1 $(YIWANG) collectstatic --no-input -v0
	@echo "一网演示站点：http://$(HOST):$(PORT)/（按 Ctrl-C 停止）"
	YIWANG_FAKE_SMS=1 YIWANG_MANIFEST_STATIC=1 $(YIWANG) serve --host $(HOST) --port $(PORT)

serve: $(STAMP)
	YIWANG_MANIFEST_STATIC=1 $(YIWANG) serve --host $(HOST) --port $(PORT)

# The suite runs on every core (pytest-xdist; each worker has its own test database and, with
# REDIS_URL, its own Redis database: tests/conftest.py). TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= auto
test: $(STAMP)
	$(PY) -m pytest -q -m "not browser" -n $(TEST_WORKERS) $(PYTEST_ARGS)

# schemathesis over the whole OpenAPI with more examples per operation than the 30 of `make test`.
fuzz: $(STAMP)
	YIWANG_FUZZ_EXAMPLES=$${YIWANG_FUZZ_EXAMPLES:-200} $(PY) -m pytest -q -m fuzz $(PYTEST_ARGS)

test-browser: $(STAMP)
	$(PY) -m pytest -q -m browser $(PYTEST_ARGS)

# ruff, then mypy (django-stubs) over src compared with mypy-baseline.txt: any type error not in
# the baseline fails, and so does a baseline entry that is fixed (shrink it: make mypy-baseline).
lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench tools
	$(VENV)/bin/ruff format --check src tests bench tools
	$(PY) tools/mypy_baseline.py check

format: $(STAMP)
	$(VENV)/bin/ruff check --fix src tests bench tools
	$(VENV)/bin/ruff format src tests bench tools

# Rewrite mypy-baseline.txt without the errors that are gone; ACCEPT_NEW=1 also adds new ones.
mypy-baseline: $(STAMP)
	$(PY) tools/mypy_baseline.py update $(if $(filter 1,$(ACCEPT_NEW)),--accept-new)

# Benchmarks (docs/benchmarks.md). Prints its plan and how long each step takes, then builds once
# (or reuses) the BENCH_ITEMS-item province in var/bench/, runs the benchmarks on the embedded
# default and writes the figures to var/bench/results/. BENCH_PG_URL=postgres://user@host:port adds
# the PostgreSQL ones (each creates its own database there and drops it); BENCH_WRITE_DOCS=1 also
# replaces the figures in docs/benchmarks.md. Installs nothing: wrk is used when installed.
bench: $(STAMP)
	@# One load generator on one address would pass the per-client rate limits: lift them here.
	YIWANG_RATE_SEARCH=off YIWANG_API_THROTTLE=0 $(PY) bench/run_all.py

# Two revisions measured back to back on this machine (docs/benchmarks.md "Before and after"):
# BASE (required) and HEAD (HEAD), each exported from git and run by this checkout's bench/ on the
# same BENCH_ITEMS-item province (2000); BENCH_ROUNDS (3), BENCH_SECONDS (5), COMPARE_REPEAT (1);
# COMPARE_LOADTEST_SECONDS=300 adds the province-day mix on `make stack` (STACK_* variables),
# COMPARE_PAGES=0 leaves the pages out.
.PHONY: bench-compare
bench-compare: $(STAMP)
	$(PY) bench/compare.py $(BASE) $(or $(HEAD),HEAD)

# Crash tests (issue 6, docs/benchmarks.md "Crash tests"): starts its own PostgreSQL, Redis,
# gunicorn, Celery worker and beat on other ports, SIGKILLs workers 100 times under load,
# restarts PostgreSQL and stops Redis, then checks nothing was lost. About 10 minutes.
.PHONY: crashtest
crashtest: $(STAMP)
	$(PY) bench/crash/run.py $(CRASH_ARGS)

messages: $(STAMP)
	cd src/yiwang && ../../$(YIWANG) makemessages -l zh_Hant -l en --no-obsolete && ../../$(YIWANG) compilemessages

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache

# --- production-like stack and the province-day load test (docs/deployment.md, docs/benchmarks.md)
# PostgreSQL database STACK_DB (yiwang_stack) with STACK_ITEMS (70000) items, built once and kept,
# Redis STACK_REDIS (db 9), gunicorn on STACK_PORT (8100), a Celery worker and beat. Ctrl-C stops all;
# STACK_DETACH=1 runs it in the background until `make stack-stop`.
# One load generator on one machine would pass the per-client rate limits: the stack lifts them.
STACK_ENV := YIWANG_RATE_SEARCH=off YIWANG_RATE_UPLOAD=off YIWANG_RATE_REGISTER=off YIWANG_API_THROTTLE=0
.PHONY: stack stack-stop loadtest

stack: $(STAMP)
	$(STACK_ENV) $(PY) deploy/stack.py $(if $(filter 1,$(STACK_DETACH)),--detach)

stack-stop:
	$(PY) deploy/stack.py --stop

# Mixed locust load from a second process against the stack (started and stopped here when none
# runs): LOADTEST_SECONDS (600) of steady load after a hello-world baseline; LOADTEST_DOCS=1
# writes the figures into docs/benchmarks.md.
loadtest: $(STAMP)
	$(STACK_ENV) $(PY) bench/loadtest/run.py $(if $(filter 1,$(LOADTEST_DOCS)),--write-docs)
