"""The student edition: answers become stubs, hidden tests and rubrics go, every lesson output stays.

``make student`` (``python -m tools.classroom student``) writes ``student/NN_name.ipynb`` for every marked chapter;
``--check`` (and tests/test_classroom.py) reports a committed student edition that is out of sync.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import nbformat

from tools.classroom.markup import (
    BEGIN_HIDDEN,
    BEGIN_SOLUTION,
    END_HIDDEN,
    END_SOLUTION,
    HINT,
    REPO,
    course,
    grading,
    is_answer,
    is_rubric,
    is_test,
    marked_notebooks,
    markup_problems,
)

STUDENT_FOLDER = "student"
TEXT_STUB = "YOUR ANSWER HERE"
BADGE = re.compile(r"\[!\[Open In Colab\]\([^)]*\)\]\([^)]*\)")


def _stub(lines: list[str], indent: str, grade_id: str) -> list[str]:
    hint = next((m.group(1) for m in map(HINT.match, lines[:3]) if m), None)
    message = f"exercise {grade_id}" + (f". Hint: {hint}" if hint else "")
    quoted = f'"{message}"' if '"' not in message and "\\" not in message else repr(message)
    return [f"{indent}# YOUR CODE HERE", f"{indent}raise NotImplementedError({quoted})"]


def clear_solutions(source: str, grade_id: str, markdown: bool = False) -> str:
    """Replace every solution region of an answer cell's source by a stub raising NotImplementedError
    (by ``YOUR ANSWER HERE`` in a markdown cell)."""
    out, region, indent = [], None, ""
    for line in source.splitlines():
        if BEGIN_SOLUTION in line:
            region, indent = [], re.match(r"\s*", line).group(0)
        elif END_SOLUTION in line:
            out += [TEXT_STUB] if markdown else _stub(region, indent, grade_id)
            region = None
        elif region is not None:
            region.append(line)
        else:
            out.append(line)
    return "\n".join(out)


def clear_hidden_tests(source: str) -> str:
    """Remove every hidden-test region (with its delimiters) from a test cell's source."""
    out, inside = [], False
    for line in source.splitlines():
        if BEGIN_HIDDEN in line:
            inside = True
        elif END_HIDDEN in line:
            inside = False
        elif not inside:
            out.append(line)
    return "\n".join(out).rstrip("\n")


def _clear_outputs(cell) -> None:
    if cell.cell_type == "code":
        cell.outputs, cell.execution_count = [], None


def _show(cell) -> None:
    """Un-hide a cell's source (answer and test cells are what the student works with)."""
    jupyter = cell.metadata.get("jupyter", {})
    jupyter.pop("source_hidden", None)
    if not jupyter:
        cell.metadata.pop("jupyter", None)


def student_edition(source, student_relative_path: str | Path) -> nbformat.NotebookNode:
    """The student edition of a marked instructor notebook (a new notebook; ``source`` is not changed).

    Answers become stubs, hidden tests and rubrics go, outputs of answer and test cells are cleared, and the
    Colab badge opens ``student_relative_path`` (the student file's path from the repository root). Every other
    cell, output and execution count is kept as it is."""
    notebook = copy.deepcopy(source)
    badge = course().colab_badge(Path(student_relative_path).as_posix())
    notebook.cells = [c for c in notebook.cells if not is_rubric(c)]
    title = notebook.cells[0]
    title.source = BADGE.sub(badge.replace("\\", "\\\\"), title.source)
    for cell in notebook.cells:
        grade_id = grading(cell).get("grade_id", "")
        if is_answer(cell):
            if BEGIN_SOLUTION in cell.source:
                cell.source = clear_solutions(cell.source, grade_id, markdown=cell.cell_type == "markdown")
            elif cell.cell_type == "markdown":
                cell.source = TEXT_STUB
            tags = [t for t in cell.metadata.get("tags", []) if t != "solution"]
            cell.metadata["tags"] = tags
            if not tags:
                del cell.metadata["tags"]
            _show(cell)
            _clear_outputs(cell)
        elif is_test(cell):
            cell.source = clear_hidden_tests(cell.source)
            _show(cell)
            _clear_outputs(cell)
    notebook.metadata["classroom"] = {"edition": "student"}
    return notebook



def student_path(source: Path, root: Path = REPO) -> Path:
    return root / STUDENT_FOLDER / source.name


def student_text(source: Path, root: Path = REPO) -> str:
    """The student edition of ``source`` exactly as ``make student`` writes it (deterministic)."""
    target = student_path(source, root).resolve()
    relative = target.relative_to(REPO) if target.is_relative_to(REPO) else target.relative_to(root.resolve())
    text = nbformat.writes(student_edition(nbformat.read(source, as_version=4), relative))
    return text if text.endswith("\n") else text + "\n"


def write_student_editions(root: Path = REPO, check: bool = False) -> list[str]:
    """Write (or with ``check``, compare) ``root/student/`` from the marked chapters; returns what differs.

    Student files whose chapter no longer carries markup are deleted (or reported)."""
    differences, expected = [], {}
    for source in marked_notebooks(root):
        problems = markup_problems(nbformat.read(source, as_version=4))
        if problems:
            raise ValueError(f"{source.name}: classroom markup is not well formed:\n  " + "\n  ".join(problems))
        expected[student_path(source, root)] = student_text(source, root)
    folder = root / STUDENT_FOLDER
    for stale in sorted(set(folder.glob("*.ipynb")) - set(expected)) if folder.is_dir() else []:
        differences.append(f"{stale.relative_to(root)}: no marked chapter of that name")
        if not check:
            stale.unlink()
    for target, text in expected.items():
        if not target.exists() or target.read_text() != text:
            differences.append(f"{target.relative_to(root)}: {'out of date' if target.exists() else 'missing'}")
            if not check:
                target.parent.mkdir(exist_ok=True)
                target.write_text(text)
    return differences
