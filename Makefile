# Callwise: `make run` starts the agent desktop on the demo line; `make test` runs everything CI runs.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test lint typecheck unit screenshots bench clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	@touch $(STAMP)

run: $(STAMP)
	@installer/system-deps.sh runtime
	$(VENV)/bin/callwise --demo

lint: $(STAMP)
	$(VENV)/bin/ruff check app ui tests bench
	$(VENV)/bin/lint-imports

typecheck: $(STAMP)
	$(VENV)/bin/mypy

test: $(STAMP)
	@installer/system-deps.sh test
	$(MAKE) --no-print-directory lint typecheck
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest

unit: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest tests/unit

screenshots: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m ui.screenshots docs/screenshots

# One at a time, on an idle machine: the commands behind the figures in docs/benchmarks/.
bench: $(STAMP)
	@installer/system-deps.sh test
	$(PY) bench/bench_policy.py
	$(PY) bench/bench_storage.py --start-postgres
	$(PY) bench/bench_sync.py
	$(PY) bench/bench_sip.py --calls 300 --soak 1000
	$(PY) bench/bench_dial.py --calls 300
	$(PY) bench/bench_startup.py --runs 10
	$(PY) bench/bench_gui_latency.py --calls 20

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
