# The two commands of the README: `make lab` (install, open the course) and `make test` (install, test).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Offline machines: use a sibling ../shared/data dataset cache when there is one (see data/README.md).
export COURSE_DATA_DIR ?= $(firstword $(wildcard $(abspath ../shared/data)) $(abspath data))

.PHONY: install lab test outputs smoke lint clean

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -e .
	touch $@

lab: install            ## open the course in JupyterLab
	$(BIN)/jupyter lab notebooks/

test: install           ## unit tests + every notebook under nbval in smoke mode
	$(BIN)/python -m pytest

outputs: install        ## re-execute every notebook in default mode and store the outputs (NB="00 03" for some)
	$(BIN)/python -m tools.run_notebooks $(NB)

smoke: install          ## execute notebooks in smoke mode without saving (NB="00" for one)
	$(BIN)/python -m tools.run_notebooks --mode smoke --no-save $(NB)

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
