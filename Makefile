# The two commands of the README: `make lab` (install, open the course) and `make test` (install, test).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Offline machines: use a sibling ../shared/data dataset cache when there is one (see data/README.md).
export COURSE_DATA_DIR ?= $(firstword $(wildcard $(abspath ../shared/data)) $(abspath data))

COLAB_VENV ?= .venv-colab
COLAB_PYTHON ?= python3

.PHONY: install lab test test-colab outputs smoke clean

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

# Colab lane: the same suite (less the sandbox re-runs) on Colab's pinned stack; .ci/run picks Python 3.13.
$(COLAB_VENV)/.installed: requirements-colab.txt pyproject.toml
	$(COLAB_PYTHON) -m venv $(COLAB_VENV)
	$(COLAB_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(COLAB_VENV)/bin/python -m pip install --quiet -r requirements-colab.txt -e .
	touch $@

test-colab: $(COLAB_VENV)/.installed
	$(COLAB_VENV)/bin/python -m pytest -m "not sandbox"

outputs: install        ## re-execute every notebook in default mode and store the outputs (NB="00 03" for some)
	$(BIN)/python -m tools.run_notebooks $(NB)

smoke: install          ## execute notebooks in smoke mode without saving (NB="00" for one)
	$(BIN)/python -m tools.run_notebooks --mode smoke --no-save $(NB)

clean:
	rm -rf $(VENV) $(COLAB_VENV) *.egg-info .pytest_cache
