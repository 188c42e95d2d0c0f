"""The generated parts of the instructor guide, docs/teaching.md, so that they cannot drift from the notebooks.

    python -m tools.classroom guide            # rewrite the generated blocks of docs/teaching.md
    python -m tools.classroom guide --check    # exit 1 when they are out of date (tests/test_classroom.py)

Two blocks, each between ``<!-- BEGIN GENERATED: name ... -->`` and ``<!-- END GENERATED: name -->``:

- ``chapters``: for every chapter of ``CURRICULUM``, its title, prerequisites and learning goals (from the title
  cell's ``**Prerequisites:**`` and ``**You will learn to:**`` paragraphs), its default-mode run time (the notebook's
  metadata ``course.default_run_seconds``, written by ``make outputs``) and its smoke-mode time (``SMOKE_SECONDS``, measured
  on one core; "not measured" when a chapter is not there);
- ``exercises``: for every marked chapter, each exercise with what it assesses (the answer cell's
  ``classroom.assesses`` metadata), how it is graded, and its points, all read from the classroom markup.

Everything else in the guide is written by hand.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

from tools.classroom.markup import REPO, course, grading, is_answer, is_manual, is_test, marked_notebooks, rubrics
from tools.notebook_template import title_fields

GUIDE = Path("docs") / "teaching.md"
BEGIN = "<!-- BEGIN GENERATED: {name} (python -m tools.classroom guide; do not edit by hand) -->"
END = "<!-- END GENERATED: {name} -->"
SMOKE_SECONDS = {"00": 14.5, "01": 9.7, "02": 14.0, "03": 22.0, "04": 27.0, "05": 38.9, "06": 21.4, "07": 24.5,
                 "08": 34.0, "09": 37.0, "10": 26.6, "11": 55.5, "12": 13.8, "13": 63.0, "14": 39.9}
"""Smoke-mode seconds per chapter, measured on ONE core with one TensorFlow thread on 2026-11-29, after each chapter
got its exercise markup: ``python -m tools.run_notebooks --mode smoke --no-save NN``. Re-measure when you edit a
chapter."""
_EXERCISE_TITLE = re.compile(r"^\s*(\d+)\.\s+\*\*(.+?)\*\*", re.S)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _links_from_docs(text: str) -> str:
    """A title cell's links to sibling chapters (``](01_x.ipynb)``), rewritten for a page in docs/."""
    return re.sub(r"\]\((\d\d_\w+\.ipynb)\)", r"](../notebooks/\1)", text)


def _items(text: str) -> list[str]:
    """A paragraph as list items: its ``- `` lines when it has them, else the whole paragraph as one item."""
    parts = [_one_line(p) for p in re.split(r"(?:^|\n)\s*[-*]\s+", text) if p.strip()]
    return parts or [_one_line(text)]


def title_facts(notebook) -> dict[str, str]:
    """The title cell's title and its labelled paragraphs (``**Prerequisites:** ...`` -> {"Prerequisites": ...})."""
    return {label: _links_from_docs(text) for label, text in title_fields(notebook.cells[0].source).items()}


def _minutes(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds:.0f} s ({seconds / 60:.1f} min)"


def chapters_block(root: Path = REPO) -> str:
    paths = {int(p.name[:2]): p for p in course().notebook_paths(root)}
    marked = {p.name for p in marked_notebooks(root)}
    lines = ["Run times: default mode from each notebook's metadata (its last stored run, `make outputs`, 2-core CPU); "
             "smoke mode (what CI and the grader run) measured once on one CPU core. Prerequisites and goals are "
             "quoted from each chapter's title cell.", ""]
    for number, stem in sorted(course().CURRICULUM.items()):
        path = paths.get(number)
        name = f"{number:02d}_{stem}.ipynb"
        if path is None:
            lines += [f"### {number:02d} · {stem.replace('_', ' ').capitalize()}", "", "Not in this checkout yet.", ""]
            continue
        notebook = nbformat.read(path, as_version=4)
        facts = title_facts(notebook)
        seconds = notebook.metadata.get("course", {}).get("default_run_seconds")
        default = _minutes(seconds) if seconds is not None else "not stored yet"
        smoked = f"{SMOKE_SECONDS[name[:2]]} s" if name[:2] in SMOKE_SECONDS else "not measured"
        edition = (f"; student edition [`student/{name}`](../student/{name})" if name in marked
                   else "; exercises not yet marked for grading (worked solutions only)")
        goals = _items(facts.get("You will learn to", "not stated"))
        lines += [f"### {facts['title']}", "",
                  f"[`notebooks/{name}`](../notebooks/{name}){edition}.", "",
                  f"- **Prerequisites:** {_one_line(facts.get('Prerequisites', 'not stated'))}",
                  "- **Learning goals** (the student will learn to):" + (f" {goals[0]}" if len(goals) == 1 else ""),
                  *([f"  - {goal}" for goal in goals] if len(goals) > 1 else []),
                  f"- **Run time:** default mode {default}; smoke mode {smoked}.", ""]
    return "\n".join(lines).rstrip("\n")


def exercises(notebook) -> list[dict]:
    """The exercises of a marked chapter: number, title, grade_id, what it assesses, kind, points, criteria."""
    found, statement = [], None
    criteria = rubrics(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "markdown" and not grading(cell):
            titles = [m for m in map(_EXERCISE_TITLE.match, [cell.source.split("\n\n")[-1]]) if m]
            statement = titles[0] if titles else statement
        elif is_answer(cell):
            meta = grading(cell)
            found.append({"number": statement.group(1) if statement else "?",
                          "title": _one_line(re.sub(r"\s*\([^)]*points?[^)]*\)\.?$", "", statement.group(2)))
                          if statement else "?",
                          "grade_id": meta["grade_id"],
                          "assesses": cell.metadata.get("classroom", {}).get("assesses", ""),
                          "manual": is_manual(cell), "points": float(meta.get("points") or 0),
                          "criteria": len(criteria.get(meta["grade_id"], []))})
        elif is_test(cell) and found:
            found[-1]["points"] += float(grading(cell).get("points") or 0)
            found[-1]["test"] = grading(cell)["grade_id"]
    return found


def exercises_block(root: Path = REPO) -> str:
    lines = []
    for path in marked_notebooks(root):
        notebook = nbformat.read(path, as_version=4)
        rows = exercises(notebook)
        auto = sum(r["points"] for r in rows if not r["manual"])
        manual = sum(r["points"] for r in rows if r["manual"])
        lines += [f"**{title_facts(notebook)['title']}** ({auto:g} points autograded, {manual:g} by hand)", "",
                  "| # | exercise | assesses | graded | points |", "|---|---|---|---|---|"]
        for r in rows:
            graded = (f"by hand, rubric of {r['criteria']} criteria" if r["manual"]
                      else f"autograded (`{r.get('test', '?')}`: visible and hidden checks)")
            lines.append(f"| {r['number']} | {r['title']} | {r['assesses']} | {graded} | {r['points']:g} |")
        lines.append("")
    return "\n".join(lines).rstrip("\n") or "No chapter carries the classroom markup yet."


BLOCKS = {"chapters": chapters_block, "exercises": exercises_block}


def render(text: str, root: Path = REPO) -> str:
    """``text`` (the guide) with every generated block rewritten."""
    for name, make in BLOCKS.items():
        begin, end = BEGIN.format(name=name), END.format(name=name)
        if begin not in text or end not in text:
            raise ValueError(f"{GUIDE}: the markers of the generated block {name!r} are missing:\n{begin}\n{end}")
        head, rest = text.split(begin, 1)
        _, tail = rest.split(end, 1)
        text = f"{head}{begin}\n{make(root)}\n{end}{tail}"
    return text


def write_guide(root: Path = REPO, check: bool = False) -> bool:
    """Rewrite (or with ``check``, compare) the guide's generated blocks; True when they were out of date."""
    path = root / GUIDE
    text = path.read_text()
    new = render(text, root)
    if new != text and not check:
        path.write_text(new)
    return new != text
