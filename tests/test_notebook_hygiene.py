"""Hygiene of every notebook: name, template cells, stored outputs from one default-mode run."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from helpers.course import CURRICULUM, KERNELSPEC, SETUP_CELL, SETUP_CELL_TAGS, colab_badge, notebook_paths

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = notebook_paths(REPO)
NAME_PATTERN = re.compile(r"^(\d\d)_[a-z0-9]+(_[a-z0-9]+)*\.ipynb$")
MAX_BYTES = 2 * 1024 * 1024
ABSOLUTE_PATH = re.compile(r"(/home/|/root/|/Users/|/work/|/tmp/|/content/|/private/var/|\b[A-Z]:\\[\w .-]+\\)")
REQUIRED_HEADINGS = ("## Common pitfalls", "## Exercises", "## Summary")
PLACEHOLDER = re.compile(r"\b__[A-Z][A-Z0-9_]*__\b|\b(?:TODO|TBD|FIXME)\b")
"""Unfilled template text: ``__NAME__``-style markers (Python's lower-case dunders do not match), TODO, TBD, FIXME."""
SHOWS_SOMETHING = re.compile(r"\b(print|display|helpers\.plot_\w+|helpers\.check_parity|plt\.show)\(")


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def code_cells(notebook: dict) -> list[dict]:
    return [c for c in notebook["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()]


def source(cell: dict) -> str:
    return "".join(cell["source"])


def output_texts(cell: dict) -> list[str]:
    """The text a reader sees in a cell's outputs (streams, text/plain and HTML results, tracebacks)."""
    texts = []
    for output in cell.get("outputs", []):
        texts.append("".join(output.get("text", "")))
        for mime in ("text/plain", "text/html"):
            texts.append("".join(output.get("data", {}).get(mime, "")))
        texts.extend(output.get("traceback", []))
    return texts


def test_the_notebooks_are_exactly_the_curriculum():
    expected = {f"{n:02d}_{stem}.ipynb" for n, stem in CURRICULUM.items()}
    found = {p.name for p in NOTEBOOKS}
    assert not found - expected, f"notebooks/ holds chapters outside the curriculum (helpers/course.py): {found - expected}"
    assert not expected - found, f"chapters of the curriculum (helpers/course.py) are missing: {expected - found}"


def test_no_notebook_escapes_the_chapter_pattern():
    # notebook_paths() only sees NN_*.ipynb; a misnamed notebook would skip every test below
    stray = sorted({p.name for p in (REPO / "notebooks").glob("*.ipynb")} - {p.name for p in NOTEBOOKS})
    assert not stray, f"notebooks/ holds notebooks not named NN_snake_case_title.ipynb: {stray}"


@pytest.fixture(params=NOTEBOOKS, ids=lambda p: p.name)
def notebook_path(request) -> Path:
    return request.param


def test_name_is_numbered_snake_case(notebook_path):
    assert NAME_PATTERN.match(notebook_path.name), f"{notebook_path.name}: use NN_snake_case_title.ipynb"


def test_title_cell_has_number_title_badge_and_the_promised_parts(notebook_path):
    first = load(notebook_path)["cells"][0]
    text = source(first)
    assert first["cell_type"] == "markdown"
    assert re.match(rf"# {notebook_path.name[:2]} · \S", text), "title must start '# NN · Title'"
    assert colab_badge(notebook_path.name) in text, "Colab badge missing or wrong (tools.notebook_template sync)"
    for part in ("**Prerequisites:**", "**You will learn to:**", "**Run time:**"):
        assert part in text, f"title cell lacks {part}"
    run_time = text.split("**Run time:**", 1)[1].split("\n\n", 1)[0]
    assert re.search(r"\d", run_time), f"the run time must state a measured figure, not {run_time.strip()!r}"


def test_first_code_cell_is_the_shared_setup_cell(notebook_path):
    first_code = code_cells(load(notebook_path))[0]
    assert source(first_code) == SETUP_CELL, "setup cell drifted from helpers/course.py (tools.notebook_template sync)"
    assert first_code["metadata"].get("tags") == SETUP_CELL_TAGS


def test_kernelspec_is_what_jupyterlab_writes(notebook_path):
    # A different display name makes JupyterLab mark the notebook modified as soon as it opens.
    assert load(notebook_path)["metadata"].get("kernelspec") == KERNELSPEC, "run python -m tools.notebook_template sync"


def test_anatomy_sections_are_present(notebook_path):
    markdown = "\n".join(source(c) for c in load(notebook_path)["cells"] if c["cell_type"] == "markdown")
    for heading in REQUIRED_HEADINGS:
        assert heading in markdown, f"missing section {heading!r}"


def test_exercises_have_solutions(notebook_path):
    solutions = [c for c in code_cells(load(notebook_path)) if "solution" in c["metadata"].get("tags", [])]
    assert len(solutions) >= 3, "every notebook has 3-5 exercises, each with a solution cell tagged 'solution'"
    assert all(c["metadata"].get("jupyter", {}).get("source_hidden") for c in solutions), "hide solution cells"


def test_no_unfilled_placeholders(notebook_path):
    found = [(index, cell["cell_type"], match.group(0))
             for index, cell in enumerate(load(notebook_path)["cells"])
             for match in PLACEHOLDER.finditer(source(cell))]
    assert not found, f"unfilled placeholders (cell index, type, text): {found}"


def test_the_placeholder_pattern_finds_template_text_only():
    assert [m.group(0) for m in PLACEHOLDER.finditer("__L2_NOTICE__ TODO: x TBD FIXME")] == [
        "__L2_NOTICE__", "TODO", "TBD", "FIXME"]
    assert not PLACEHOLDER.search('if __name__ == "__main__": print(keras.__version__, "TODOS", "todo")')


def test_outputs_come_from_one_top_to_bottom_run(notebook_path):
    counts = [c["execution_count"] for c in code_cells(load(notebook_path))]
    assert counts == list(range(1, len(counts) + 1)), f"execution counts {counts}: re-run with `make outputs`"


def test_outputs_were_made_in_default_mode(notebook_path):
    setup_output = "".join("".join(o.get("text", "")) for o in code_cells(load(notebook_path))[0]["outputs"])
    assert "mode: default" in setup_output, "stored outputs must come from a default-mode run (`make outputs`)"
    assert "seed 42" in setup_output, "stored outputs use the notebook's own seed (COURSE_SEED was set: unset it)"


DEFAULT_RUN_BUDGET_S = 300
"""CONVENTIONS "Modes": every notebook finishes in at most 5 minutes on a 2-core laptop CPU in default mode."""


def test_recorded_default_run_time_is_within_the_budget(notebook_path):
    seconds = load(notebook_path)["metadata"].get("course", {}).get("default_run_seconds")
    assert seconds is not None, "no recorded run time: store the outputs with `make outputs NB=NN`"
    assert seconds <= DEFAULT_RUN_BUDGET_S, (
        f"the stored default-mode run took {seconds} s, over the {DEFAULT_RUN_BUDGET_S} s budget: "
        "make the chapter leaner (its settings cell) and re-run `make outputs NB=NN`")


def test_no_errors_are_stored(notebook_path):
    for cell in code_cells(load(notebook_path)):
        assert not [o for o in cell["outputs"] if o["output_type"] == "error"], source(cell)[:80]


def test_cells_that_show_something_have_output(notebook_path):
    for cell in code_cells(load(notebook_path)):
        text = source(cell)
        try:
            last = ast.parse(text.replace("%pip", "#")).body[-1]
        except (SyntaxError, IndexError):
            last = None
        shows_value = isinstance(last, ast.Expr) and not isinstance(last.value, ast.Call) and not text.rstrip().endswith(";")
        if SHOWS_SOMETHING.search(text) or shows_value:
            assert cell["outputs"], f"cell has no stored output:\n{text[:200]}"


def test_checked_cells_have_output(notebook_path):
    for cell in code_cells(load(notebook_path)):
        if "nbval-check-output" in cell["metadata"].get("tags", []):
            assert cell["outputs"], f"a cell nbval checks has nothing to check:\n{source(cell)[:200]}"


def test_outputs_hold_no_local_paths(notebook_path):
    for cell in code_cells(load(notebook_path)):
        text = "\n".join(output_texts(cell))
        match = ABSOLUTE_PATH.search(text)
        assert not match, f"local path {match.group(0)!r} in the output of:\n{source(cell)[:120]}"


def test_notebook_is_small(notebook_path):
    size = notebook_path.stat().st_size
    assert size <= MAX_BYTES, f"{size:,} bytes > 2 MB: lower figure sizes/dpi or print less"


def test_a_chapter_made_from_the_template_fails_until_it_is_written(tmp_path, monkeypatch):
    from tools import notebook_template

    monkeypatch.setattr(notebook_template, "NOTEBOOKS", tmp_path)
    path = notebook_template.new_notebook(13, "Transformers")
    notebook = load(path)
    assert path.name == "13_transformers.ipynb" and source(code_cells(notebook)[0]) == SETUP_CELL
    assert PLACEHOLDER.search(source(notebook["cells"][0])), "the template's blanks must trip the placeholder test"
