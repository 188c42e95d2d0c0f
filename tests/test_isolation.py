"""Restart-and-run-all, alone and twice.

Each notebook is executed in smoke mode in an empty sandbox: a temporary folder holding only that
notebook, a fresh HOME (so no Keras dataset cache, no matplotlib or pip state), and nothing but the
installed helpers and COURSE_DATA_DIR. A notebook that needs a file another notebook wrote, or any
state of the machine outside the repository and COURSE_DATA_DIR, fails here.

Determinism: two notebooks (a training chapter and an optimizer chapter) run twice in fresh
sandboxes and every output they print must be identical, training logs included. Cells tagged
``nbval-ignore-output`` (the environment line, timings) are left out; images are not compared.
"""

from __future__ import annotations

import configparser
import os
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from helpers.course import notebook_paths

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = notebook_paths()
DETERMINISM_NOTEBOOKS = ["00_setup_and_tour.ipynb", "03_adaptive_learning_rates.ipynb"]
CELL_TIMEOUT_S = 600

pytestmark = pytest.mark.sandbox


def timing_patterns() -> list[tuple[re.Pattern, str]]:
    """The timing and address masks of tests/sanitize.cfg (parity digits are NOT masked here)."""
    config = configparser.ConfigParser()
    config.read(REPO / "tests" / "sanitize.cfg")
    return [(re.compile(config[s]["regex"]), config[s]["replace"]) for s in config.sections()
            if not s.startswith("parity")]


@pytest.fixture(scope="session")
def isolated_runs(tmp_path_factory):
    """Execute a notebook alone in a fresh sandbox (cached per notebook and attempt)."""
    runs: dict[tuple[str, int], nbformat.NotebookNode] = {}
    # One empty Keras download cache for all sandboxes of this session: online, a dataset missing
    # from COURSE_DATA_DIR is fetched once per session, never taken from the machine's ~/.keras.
    download_cache = tmp_path_factory.mktemp("keras-home")

    def run(name: str, attempt: int = 1, source: Path = REPO / "notebooks") -> nbformat.NotebookNode:
        if (name, attempt) not in runs:
            sandbox = tmp_path_factory.mktemp(f"sandbox-{name[:2]}-{attempt}")
            home, folder = sandbox / "home", sandbox / "notebooks"
            home.mkdir()
            folder.mkdir()
            shutil.copy(source / name, folder / name)
            notebook = nbformat.read(folder / name, as_version=4)
            environment = {key: value for key, value in os.environ.items() if not key.startswith(("KERAS_", "XDG_"))}
            environment.update(HOME=str(home), COURSE_MODE="smoke", MPLCONFIGDIR=str(home / "matplotlib"),
                               KERAS_HOME=str(download_cache))
            client = NotebookClient(notebook, timeout=CELL_TIMEOUT_S, kernel_name="python3", record_timing=False,
                                    resources={"metadata": {"path": str(folder)}})
            client.execute(env=environment)
            runs[(name, attempt)] = notebook
        return runs[(name, attempt)]

    return run


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_alone_in_an_empty_sandbox(isolated_runs, path):
    notebook = isolated_runs(path.name)
    errors = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors


def test_the_sandbox_catches_a_file_left_by_another_notebook(isolated_runs, tmp_path):
    (tmp_path / "written_by_another_notebook.txt").write_text("weights")
    probe = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "print(open('written_by_another_notebook.txt').read())")])
    nbformat.write(probe, tmp_path / "probe.ipynb")
    with pytest.raises(CellExecutionError, match="FileNotFoundError"):
        isolated_runs("probe.ipynb", source=tmp_path)


def printed(notebook: nbformat.NotebookNode) -> list[tuple[int, str]]:
    """(cell index, masked text) of every compared cell: stdout and text/plain or text/html results."""
    patterns = timing_patterns()
    found = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code" or "nbval-ignore-output" in cell.metadata.get("tags", []):
            continue
        parts = []
        for output in cell.outputs:
            if output.output_type == "stream" and output.name == "stdout":
                parts.append(output.text)
            elif output.output_type in ("execute_result", "display_data"):
                parts.append(output.data.get("text/html", "") if "text/html" in output.data
                             else ("" if "image/png" in output.data else output.data.get("text/plain", "")))
        text = "".join(parts)
        for pattern, replacement in patterns:
            text = pattern.sub(replacement, text)
        found.append((index, text))
    return found


@pytest.mark.parametrize("name", DETERMINISM_NOTEBOOKS)
def test_two_fresh_runs_print_identical_outputs(isolated_runs, name):
    if not (REPO / "notebooks" / name).exists():
        pytest.fail(f"{name} is the determinism test's notebook and must exist")
    first, second = printed(isolated_runs(name, 1)), printed(isolated_runs(name, 2))
    assert any(text for _, text in first), "nothing printed: the comparison would be empty"
    for (index, one), (_, two) in zip(first, second):
        assert one == two, f"cell {index} printed different outputs in two fresh runs:\n{one[:500]}\n---\n{two[:500]}"
