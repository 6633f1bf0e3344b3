# GlitchLab: the README's commands. `make demo` sets everything up and runs it; `make test` tests it.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: venv test test-postgres lint demo bench clean

# The venv is rebuilt when the pinned dependencies change. torch==2.14.1 and
# torchvision==0.29.1 come from this machine's local wheel store (pip's find-links).
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $@

venv: $(STAMP)

test: venv
	$(BIN)/python -m pytest -q

# The database-touching tests again on PostgreSQL (CI runs both).
test-postgres: venv
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/glitchlab} \
		$(BIN)/python -m pytest -q tests/webapp tests/tasks

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

demo: venv
	bash scripts/demo.sh

# Every benchmark on its defaults, except those that need an input of yours (see their --help).
BENCH_WITH_INPUT := bench/heldout.py bench/real_average.py
bench: venv
	@for b in $(filter-out $(BENCH_WITH_INPUT),$(wildcard bench/*.py)); do \
		echo "== $$b"; $(BIN)/python $$b || exit 1; done
	@echo "not run (each needs an input): $(BENCH_WITH_INPUT)"

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
