# Two commands on a fresh machine: `make demo` and `make test`.
# Everything installs into .venv from the package registries; nothing else is needed
# but python3 (3.11+) and make. Re-running is quick: steps are skipped when up to date.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DATA := data/demo
ACCOUNTS ?= 20000
REPS ?= 80
PIP := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: demo test setup lint clean-venv help

help:
	@echo "make demo   set up .venv, generate demo data, run the whole pipeline, print the run folder"
	@echo "make test   set up .venv and run the test suite"
	@echo "make lint   ruff on plan_lib, tests and notebooks"

setup: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install -c requirements.lock -e '.[dev]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (tqp)" > /dev/null
	touch $(STAMP)

$(DEMO_DATA)/.complete: $(STAMP)
	rm -rf $(DEMO_DATA)
	$(BIN)/tqp demo-data --out $(DEMO_DATA) --accounts $(ACCOUNTS) --reps $(REPS) --seed 7
	touch $@

demo: $(STAMP) $(DEMO_DATA)/.complete
	$(BIN)/tqp run parameters/2027Q1.yaml --data $(DEMO_DATA)

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadgroup

lint: $(STAMP)
	$(BIN)/ruff check plan_lib tests notebooks benchmarks

clean-venv:
	rm -rf $(VENV)
