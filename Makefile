# gongwatch: `make run` starts the monitor, `make test` runs every test. Both create .venv.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test check lint bench firmware system-deps clean

$(STAMP): pyproject.toml
	@sh tests/system_deps.sh venv
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/gongwatch

system-deps:
	@sh tests/system_deps.sh tests

firmware: system-deps
	$(MAKE) -C firmware all

test: $(STAMP) system-deps firmware
	$(BIN)/python -m pytest -q -p no:cacheprovider

lint: $(STAMP)
	$(BIN)/ruff check tui engine collectors detectors tests benchmarks
	$(BIN)/lint-imports
	$(BIN)/mypy

check: lint test

bench: $(STAMP)
	$(BIN)/python benchmarks/overhead.py
	$(BIN)/python benchmarks/collectors.py
	$(BIN)/python benchmarks/detectors.py
	$(BIN)/python benchmarks/nab.py
	$(BIN)/python benchmarks/nab_eval.py
	$(BIN)/python benchmarks/devices.py
	$(BIN)/python benchmarks/edm_long.py
	$(BIN)/python benchmarks/fuzz_config.py
	$(BIN)/python benchmarks/fuzz_detect.py
	$(BIN)/python benchmarks/prometheus.py
	$(BIN)/python benchmarks/statsd.py
	$(BIN)/python benchmarks/daemon.py
	$(BIN)/python benchmarks/hosts.py
	$(BIN)/python benchmarks/backfill.py
	$(BIN)/python benchmarks/alert_state.py
	$(BIN)/python benchmarks/chart_zoom.py

clean:
	rm -rf $(VENV) firmware/build .pytest_cache
