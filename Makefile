# Two commands do all the set-up on a fresh clone: `make reproduce` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PARAMS ?= params/default.yaml

.PHONY: install reproduce test test-slow lint figures bench lab colab-install clean

$(VENV)/.installed: requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install -q --disable-pip-version-check --no-deps -e .
	touch $@

install: $(VENV)/.installed

reproduce: install          ## run all six notebooks on the offline CPU default
	$(PY) -m librachem_utils.run --params $(PARAMS)

test: install               ## ruff, then the fast test suite (what CI runs)
	$(VENV)/bin/ruff check librachem_utils tests benchmarks
	$(PY) -m pytest -q

test-slow: install          ## the long tests
	$(PY) -m pytest -q -m slow

lint: install               ## ruff over the package, tests and benchmarks (line length 119)
	$(VENV)/bin/ruff check librachem_utils tests benchmarks

figures: install            ## regenerate figures/ from the saved results of the default run
	$(PY) -m librachem_utils.run --params $(PARAMS) --only 06

bench: install              ## benchmarks side by side: a table and runs/bench.json (--quick: make bench BENCH_ARGS=--quick)
	$(PY) benchmarks/bench.py $(BENCH_ARGS)

lab: install                ## open the notebooks in JupyterLab
	$(VENV)/bin/jupyter lab notebooks/

colab-install:              ## on Colab: the pinned set and the package, keeping Colab's own (steps.COLAB_KEEPS)
	$(PYTHON) -c 'import librachem_utils.steps as s; s.install_colab_set(".")'
	$(PYTHON) -m pip install -q --no-deps -e .

clean:
	rm -rf runs/smoke runs/test-*
