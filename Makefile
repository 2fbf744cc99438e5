# The two commands of the README: `make demo` and `make test`.
# Each creates or reuses .venv and installs what it needs by itself.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint soak bench bench-quick clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python scripts/demo.py

test: $(STAMP)
	$(BIN)/python -m pytest -m "not slow" tests

lint: $(STAMP)
	$(BIN)/ruff check sync braze_emulator tests bench scripts
	$(BIN)/sqlfluff lint models macros

soak: $(STAMP)
	$(BIN)/python -m pytest -m slow tests

# Every benchmark; rewrites the result tables in docs/benchmarks.md (hours at full size).
bench: $(STAMP)
	$(BIN)/python -m bench.run
	$(BIN)/python bench/dbt_scale.py --doc docs/benchmarks.md
	$(BIN)/python bench/sync_throughput.py --changes 1000000 --server emulator --doc docs/benchmarks.md
	$(BIN)/python bench/emulator_throughput.py --seconds 10 --workers 2 --doc docs/benchmarks.md

# The same end-to-end benchmark at small sizes: a smoke check in under 10 minutes.
bench-quick: $(STAMP)
	$(BIN)/python -m bench.run --quick

clean:
	rm -rf target logs data/demo
