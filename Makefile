# Two commands do all set-up on a fresh clone:
#   make demo   - ingest the sample clips, detect shots, print a summary, write vidlens-report.html
#   make test   - run the whole test suite
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
DATA   ?= vidlens-data
PYTEST_ARGS ?=

.PHONY: demo test venv clean

$(VENV)/.installed-%: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.$(if $(filter-out base,$*),[$*])'
	touch $@

venv: $(VENV)/.installed-base

demo: $(VENV)/.installed-base
	$(VENV)/bin/vidlens demo --samples samples --data-dir $(DATA) --out vidlens-report.html

test: $(VENV)/.installed-test
	$(PY) -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) $(DATA) vidlens-report.html test-artifacts
