# The two commands of the README: `make lab` (install, open the course) and `make test` (install, test).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Offline machines: use a sibling ../shared/data dataset cache when there is one (see data/README.md).
export COURSE_DATA_DIR ?= $(firstword $(wildcard $(abspath ../shared/data)) $(abspath data))

COLAB_VENV ?= .venv-colab
COLAB_PYTHON ?= python3

# Extra JupyterLab options, e.g. make lab LAB_ARGS="--no-browser --ip 0.0.0.0 --port 8899" (README: remote machines).
LAB_ARGS ?=
# JupyterLab refuses to run as root ("Use --allow-root to bypass"); containers and cloud VMs often are root.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)
# What ruff checks (settings in pyproject.toml); `make test` runs it, so CI does too.
LINT_PATHS := helpers tools benchmarks tests notebooks student book conftest.py

.PHONY: install lab lint test test-colab outputs smoke student grade book book-test clean

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -e .
	touch $@

lab: install            ## open the course in JupyterLab (LAB_ARGS="..." passes options to it)
	$(BIN)/jupyter lab $(ALLOW_ROOT) $(LAB_ARGS) notebooks/

lint: install           ## ruff over the code and the notebooks
	$(BIN)/ruff check $(LINT_PATHS)

# Both run even when the first fails, so one run reports everything; the target fails if either did.
test: install           ## ruff, then the unit tests + every notebook under nbval in smoke mode
	@status=0; \
	$(BIN)/ruff check $(LINT_PATHS) || status=1; \
	$(BIN)/python -m pytest || status=1; \
	exit $$status

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

# Classroom edition (docs/teaching.md): the student notebooks without answers, and the autograder.
student: install        ## write student/ from the chapters that carry exercise markup (commit it)
	$(BIN)/python -m tools.classroom student

# GRADE_ARGS passes options, e.g. GRADE_ARGS="--cell-timeout 60" (python -m tools.classroom grade --help).
GRADE_ARGS ?=
grade: install          ## grade a submission: make grade SUBMISSION=path/NN_name.ipynb (smoke mode, sandboxed)
	$(if $(SUBMISSION),,$(error usage: make grade SUBMISSION=path/to/NN_name.ipynb))
	$(BIN)/python -m tools.classroom grade '$(SUBMISSION)' $(GRADE_ARGS)

# The course as a website (tools/book.py): Sphinx + MyST-NB from the STORED outputs, nothing executed or downloaded.
$(VENV)/.book-installed: $(VENV)/.installed requirements-book.txt
	$(BIN)/python -m pip install --quiet -r requirements.txt -r requirements-book.txt
	touch $@

book: install $(VENV)/.book-installed   ## build the website into build/book/html (open build/book/html/index.html)
	$(BIN)/python -m tools.book

# The site's tests in headless Chromium (Debian: apt-get install chromium chromium-driver); screenshots in .ci/artifacts/book/.
book-test: install $(VENV)/.book-installed
	$(BIN)/python -m pytest tests/test_book.py

clean:
	rm -rf $(VENV) $(COLAB_VENV) *.egg-info .pytest_cache build/book
