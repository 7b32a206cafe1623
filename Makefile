# simplan: the two commands a newcomer types are `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test world bench mutants lint install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# The demo: the baseline quarter paid under the gate-and-cap plan (scenarios/proposals/).
demo: $(STAMP)
	$(BIN)/simplan run scenarios/proposals/gate80_cap150.yaml --out runs/demo --force
	$(BIN)/simplan report runs/demo --out $(CURDIR)/runs/demo/report.html
	$(BIN)/simplan excel runs/demo --out $(CURDIR)/runs/demo/plan.xlsx

test: $(STAMP)
	$(BIN)/python -m pytest -n auto -q

world: $(STAMP)
	$(BIN)/python -m pytest -q -s -m world tests/test_world_predictions.py tests/test_world_b.py

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/bench_sweep.py
	$(BIN)/python benchmarks/bench_calibrate.py
	$(BIN)/python benchmarks/bench_world.py
	$(BIN)/python benchmarks/bench_design.py

# Break the model on purpose (scripts/mutants.py) and check the tests catch every breakage;
# slow (minutes, mutants in sequence), never part of `make test`.
mutants: $(STAMP)
	$(BIN)/python scripts/mutants.py

lint: $(STAMP)
	$(BIN)/ruff check simplan tests benchmarks scripts
	$(BIN)/ruff format --check simplan tests benchmarks scripts
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) runs .pytest_cache
