"""The classroom markup (nbgrader's): what each kind of cell is, and whether a chapter's markup is well formed.

CONTRIBUTING.md, "Exercises and the classroom markup", is the author's guide; ``tools/classroom/__init__.py`` the
overview. This module only reads notebooks; it never changes one.
"""

from __future__ import annotations

import functools
import importlib.util
import re
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[2]
BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
HINT = re.compile(r"^\s*#\s*Hint:\s*(.+?)\s*$")
RUBRIC_LINE = re.compile(r"^\s*[-*]\s*\((\d+(?:\.\d+)?)\s*pts?\)\s*(.+)$")
MIN_AUTOGRADED = 3
"""Autograded exercises (test cells) every marked chapter has at least (issue 20)."""


@functools.cache
def course():
    """helpers/course.py (the curriculum, the repository address, ``colab_url``), loaded without
    ``helpers/__init__``, which imports TensorFlow: slow, and not needed here."""
    spec = importlib.util.spec_from_file_location("_classroom_course", REPO / "helpers" / "course.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def grading(cell) -> dict:
    """A cell's nbgrader metadata ({} when it has none)."""
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def is_answer(cell) -> bool:
    return bool(grading(cell).get("solution"))


def is_test(cell) -> bool:
    """An autograded test cell: graded, not itself an answer."""
    meta = grading(cell)
    return bool(meta.get("grade")) and not meta.get("solution") and cell.cell_type == "code"


def is_manual(cell) -> bool:
    """A manually graded answer (nbgrader: graded and a solution; or a graded markdown task)."""
    meta = grading(cell)
    return bool(meta.get("grade") and meta.get("solution")) or bool(meta.get("task"))


def is_rubric(cell) -> bool:
    return cell.cell_type == "markdown" and "rubric" in cell.get("metadata", {}).get("tags", [])


def is_marked(notebook) -> bool:
    """Whether a notebook carries classroom markup (at least one answer or graded cell)."""
    return any(grading(c).get("solution") or grading(c).get("grade") for c in notebook.cells)


def rubric_points(cell) -> list[tuple[float, str]]:
    """The (points, criterion) lines of a rubric cell."""
    return [(float(m.group(1)), m.group(2)) for m in map(RUBRIC_LINE.match, cell.source.splitlines()) if m]


def rubrics(notebook) -> dict[str, list[tuple[float, str]]]:
    """grade_id of a manually graded answer -> its rubric's criteria."""
    return {c.metadata.get("classroom", {}).get("rubric_for", ""): rubric_points(c)
            for c in notebook.cells if is_rubric(c)}


def _regions(source: str, begin: str, end: str) -> int:
    """How many begin/end regions a source holds; ValueError when they are unbalanced or nested."""
    count, inside = 0, False
    for line in source.splitlines():
        if begin in line:
            if inside:
                raise ValueError(f"nested {begin!r}")
            inside, count = True, count + 1
        elif end in line:
            if not inside:
                raise ValueError(f"{end!r} without {begin!r}")
            inside = False
    if inside:
        raise ValueError(f"{begin!r} without {end!r}")
    return count


def markup_problems(notebook) -> list[str]:
    """What is wrong with a marked notebook's classroom markup ([] when it is well formed)."""
    problems, ids = [], []
    found_rubrics = rubrics(notebook)
    for index, cell in enumerate(notebook.cells):
        meta, where = grading(cell), f"cell {index}"
        if meta.get("grade") or meta.get("solution") or meta.get("task"):
            grade_id = meta.get("grade_id")
            if not grade_id:
                problems.append(f"{where}: nbgrader cell without grade_id")
            ids.append(grade_id)
            where = f"cell {index} ({grade_id})"
            if meta.get("schema_version") != 3:
                problems.append(f"{where}: nbgrader schema_version must be 3")
        try:
            solutions = _regions(cell.source, BEGIN_SOLUTION, END_SOLUTION)
            hidden = _regions(cell.source, BEGIN_HIDDEN, END_HIDDEN)
        except ValueError as error:
            problems.append(f"{where}: {error}")
            continue
        if solutions and not is_answer(cell):
            problems.append(f"{where}: a solution region outside an answer cell (nbgrader solution: true)")
        if hidden and not is_test(cell):
            problems.append(f"{where}: hidden tests outside a test cell (nbgrader grade: true, solution: false)")
        if is_answer(cell):
            if cell.cell_type == "code" and not solutions:
                problems.append(f"{where}: an answer code cell needs a {BEGIN_SOLUTION} ... {END_SOLUTION} region")
            tags = cell.metadata.get("tags", [])
            if "solution" not in tags or not cell.metadata.get("jupyter", {}).get("source_hidden"):
                problems.append(f"{where}: tag an answer cell 'solution' and hide its source (instructor edition)")
        if (is_test(cell) or is_manual(cell)) and not float(meta.get("points") or 0) > 0:
            problems.append(f"{where}: a graded cell needs points > 0")
        if is_test(cell) and not meta.get("locked"):
            problems.append(f"{where}: lock a test cell (nbgrader locked: true)")
        if is_manual(cell):
            criteria = found_rubrics.get(meta.get("grade_id"))
            if not criteria:
                problems.append(f"{where}: a manually graded answer needs a rubric cell (tag 'rubric', "
                                f"metadata classroom.rubric_for = {meta.get('grade_id')!r})")
            elif abs(sum(p for p, _ in criteria) - float(meta.get("points") or 0)) > 1e-9:
                problems.append(f"{where}: its rubric adds up to {sum(p for p, _ in criteria):g} points, "
                                f"the cell gives {meta.get('points')}")
    duplicates = sorted({i for i in ids if i and ids.count(i) > 1})
    if duplicates:
        problems.append(f"grade_id used twice: {duplicates}")
    orphans = sorted(set(found_rubrics) - set(ids))
    if orphans:
        problems.append(f"rubrics for no graded cell: {orphans}")
    tests = sum(is_test(c) for c in notebook.cells)
    if tests < MIN_AUTOGRADED:
        problems.append(f"{tests} autograded test cells; a chapter has at least {MIN_AUTOGRADED}")
    return problems



def marked_notebooks(root: Path = REPO) -> list[Path]:
    """The chapters under ``root/notebooks`` that carry classroom markup."""
    return [p for p in course().notebook_paths(root) if is_marked(nbformat.read(p, as_version=4))]
