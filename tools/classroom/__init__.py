"""The classroom edition: student notebooks without answers, and an autograder, from the one instructor source.

    python -m tools.classroom student                  # make student: student/NN_name.ipynb for every marked chapter
    python -m tools.classroom student --check          # exit 1 when student/ is out of sync with notebooks/
    python -m tools.classroom grade path/NN_name.ipynb # make grade SUBMISSION=...: score table per exercise
    python -m tools.classroom check                    # the markup of every marked chapter is well formed

The markup is nbgrader's (CONTRIBUTING.md, "Exercises and the classroom markup"), so ``nbgrader validate``,
``generate_assignment`` and ``autograde`` work on the same notebooks; these tools need no JupyterHub, no
gradebook database and no course directory, and they keep every lesson output in the student edition
(nbgrader's ``generate_assignment`` clears them all).

- An **answer cell** (nbgrader ``solution: true``) holds a region between ``### BEGIN SOLUTION`` and
  ``### END SOLUTION``; a ``# Hint: ...`` line right after ``### BEGIN SOLUTION`` becomes the message of the
  student stub's ``NotImplementedError``. In the instructor edition it is also tagged ``solution`` with its
  source hidden (the course's convention). A markdown answer cell without a region is replaced whole.
- A **test cell** (``grade: true, solution: false, locked: true, points: N``) is autograded: it scores its
  points when it runs without error. Its ``### BEGIN HIDDEN TESTS`` ... ``### END HIDDEN TESTS`` region is
  removed from the student edition and put back by the grader from the source, as nbgrader's autograde does.
- A **manually graded answer** (``grade: true, solution: true, points: N``) is followed by a markdown cell
  tagged ``rubric`` (metadata ``classroom.rubric_for`` = its ``grade_id``) listing criteria as
  ``- (1 pt) ...`` lines that add up to N points; rubric cells are instructor-only.
"""

from __future__ import annotations

import copy
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[2]
STUDENT_FOLDER = "student"
BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
HINT = re.compile(r"^\s*#\s*Hint:\s*(.+?)\s*$")
RUBRIC_LINE = re.compile(r"^\s*[-*]\s*\((\d+(?:\.\d+)?)\s*pts?\)\s*(.+)$")
TEXT_STUB = "YOUR ANSWER HERE"
BADGE = re.compile(r"\[!\[Open In Colab\]\([^)]*\)\]\([^)]*\)")
CELL_TIMEOUT_S = 120
"""Time limit of one cell of a submission (smoke mode: a chapter's slowest cell takes well under a minute)."""
TOTAL_TIMEOUT_S = 600
"""Time limit of a whole submission, restarts and replays included."""
MIN_AUTOGRADED = 3
"""Autograded exercises (test cells) every marked chapter has at least (issue 20)."""


def _course_module():
    """helpers/course.py, loaded without ``helpers/__init__`` (which imports TensorFlow: slow, and not needed here)."""
    spec = importlib.util.spec_from_file_location("_classroom_course", REPO / "helpers" / "course.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_COURSE = _course_module()


# ----------------------------------------------------------------------------------------------- the markup
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


# ---------------------------------------------------------------------------------------- the student edition
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


def colab_url(relative_path: str | Path) -> str:
    """Colab address of any notebook of the repository, by its path from the repository root."""
    return (f"https://colab.research.google.com/github/{_COURSE.REPOSITORY}/blob/{_COURSE.BRANCH}/"
            f"{Path(relative_path).as_posix()}")


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
    badge = f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({colab_url(student_relative_path)})"
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


def marked_notebooks(root: Path = REPO) -> list[Path]:
    """The chapters under ``root/notebooks`` that carry classroom markup."""
    return [p for p in _COURSE.notebook_paths(root) if is_marked(nbformat.read(p, as_version=4))]


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


# ----------------------------------------------------------------------------------------------- the grader
@dataclass
class Check:
    """The grade of one graded cell of a submission."""

    grade_id: str
    points: float
    manual: bool
    score: float | None = None          # None: to be graded by hand
    message: str = ""                   # why it lost its points (the failing check's error), or the rubric


@dataclass
class Report:
    """What grading a submission found."""

    submission: Path
    source: Path
    checks: list[Check] = field(default_factory=list)
    cell_errors: list[str] = field(default_factory=list)     # every cell that failed: "cell N: Error: message"
    lesson_errors: list[str] = field(default_factory=list)   # those in cells that are neither answers nor tests
    course_changes: list[str] = field(default_factory=list)  # course files that changed during the run (must be [])
    rubrics: dict[str, list[tuple[float, str]]] = field(default_factory=dict)  # manually graded: (points, criterion)
    seconds: float = 0.0

    @property
    def autograded(self) -> tuple[float, float]:
        """(score, maximum) over the autograded checks."""
        auto = [c for c in self.checks if not c.manual]
        return sum(c.score or 0 for c in auto), sum(c.points for c in auto)

    def table(self) -> str:
        score, maximum = self.autograded
        manual = sum(c.points for c in self.checks if c.manual)
        width = max([len(c.grade_id) for c in self.checks] + [8])
        lines = [f"{'exercise':<{width}}  points  score  result", "-" * (width + 30)]
        for c in self.checks:
            shown = "-" if c.score is None else f"{c.score:g}"
            result = c.message if c.message else "passed"
            lines.append(f"{c.grade_id:<{width}}  {c.points:>6g}  {shown:>5}  {result}")
        lines.append(f"autograded: {score:g} / {maximum:g} points"
                     + (f"; graded by hand: {manual:g} points" if manual else ""))
        for grade_id, criteria in self.rubrics.items():
            lines += [f"\nrubric for {grade_id}:"] + [f"  ({p:g} pt) {text}" for p, text in criteria]
        if self.lesson_errors:
            lines.append("errors outside the exercises: " + "; ".join(self.lesson_errors))
        if self.course_changes:
            lines.append("COURSE FILES CHANGED DURING GRADING: " + ", ".join(self.course_changes))
        return "\n".join(lines)


def source_for(submission: Path, root: Path = REPO) -> Path:
    """The instructor notebook a submission answers: the marked chapter of the same file name."""
    matches = [p for p in marked_notebooks(root) if p.name == Path(submission).name]
    if not matches:
        raise FileNotFoundError(f"no marked chapter named {Path(submission).name} in {root / 'notebooks'}; "
                                "keep the student file's name, or pass --source")
    return matches[0]


def with_instructor_tests(submission, source) -> tuple[nbformat.NotebookNode, list[str]]:
    """The submission with every test cell's source taken from the instructor's (hidden tests put back).

    Matched by grade_id, as nbgrader's autograde does; a test cell the student deleted is appended at the end,
    so it still runs. Returns the notebook and the grade_ids that had to be appended."""
    notebook = copy.deepcopy(submission)
    tests = {grading(c)["grade_id"]: c for c in source.cells if is_test(c)}
    seen = set()
    for cell in notebook.cells:
        grade_id = grading(cell).get("grade_id")
        if grade_id in tests and grade_id not in seen:
            original = tests[grade_id]
            cell.cell_type, cell.source = "code", original.source
            cell.metadata["nbgrader"] = copy.deepcopy(original.metadata["nbgrader"])
            seen.add(grade_id)
        elif is_test(cell):                         # a test cell the source does not have: not the student's to add
            cell.metadata.pop("nbgrader")
    missing = [g for g in tests if g not in seen]
    for grade_id in missing:
        cell = copy.deepcopy(tests[grade_id])
        cell.outputs, cell.execution_count = [], None
        if "id" in cell:                                # the submission may still hold a cell with the source's id
            cell.id = re.sub(r"[^A-Za-z0-9_-]", "-", f"grader-{grade_id}")[:64]
        notebook.cells.append(cell)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return notebook, missing


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """(size, mtime) of every file of a course tree, less environments, caches and git's own files."""
    skip = {".git", "__pycache__", ".pytest_cache", ".ipynb_checkpoints", ".ruff_cache"}
    found = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in skip and not d.startswith(".venv")]
        for name in files:
            path = Path(folder, name)
            try:
                stat = path.lstat()
            except OSError:
                continue
            found[str(path.relative_to(root))] = (stat.st_size, stat.st_mtime_ns)
    return found


def _sandbox(workdir: Path, protect: list[Path]) -> dict[str, str]:
    """Lay out the sandbox (guard, a copy of helpers/) and return the kernel's environment."""
    guard = workdir / "guard"
    guard.mkdir()
    shutil.copy(Path(__file__).with_name("guard.py"), guard / "sitecustomize.py")
    shutil.copytree(REPO / "helpers", workdir / "lib" / "helpers", ignore=shutil.ignore_patterns("__pycache__"))
    (workdir / "home").mkdir()
    env = dict(os.environ)
    env.update({
        "COURSE_MODE": "smoke",
        "COURSE_GRADER_PROTECT": os.pathsep.join(str(p.resolve()) for p in protect),
        "PYTHONPATH": os.pathsep.join([str(guard), str(workdir / "lib")]),
        "PYTHONDONTWRITEBYTECODE": "1",
        "HOME": str(workdir / "home"),
        "MPLBACKEND": "Agg",
    })
    env.setdefault("COURSE_DATA_DIR", str(REPO / "data"))     # the copy of helpers/ would look next to itself
    env.pop("COURSE_SEED", None)
    env.pop("PYTEST_CURRENT_TEST", None)
    return env


def _error_text(cell) -> str | None:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            value = " ".join(str(output.get("evalue", "")).split())
            text = f"{output.get('ename', 'Error')}: {value}" if value else output.get("ename", "Error")
            return text if len(text) <= 240 else text[:237] + "..."
    return None


def execute(notebook, workdir: Path, env: dict[str, str], cell_timeout: float, total_timeout: float) -> dict[int, str]:
    """Run every code cell of ``notebook`` (in place) in a fresh kernel started in ``workdir``; index -> error.

    Errors do not stop the run. A cell that exceeds its time limit, or that kills the kernel, gets an error;
    the kernel is then restarted and the cells that had run cleanly are replayed, so the cells after it are
    graded on the state they expect. When the total time is used up, the remaining cells are not run."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    errors: dict[int, str] = {}
    clean: list[int] = []
    todo = [i for i, c in enumerate(notebook.cells) if c.cell_type == "code"]
    start = time.monotonic()
    while todo:
        client = NotebookClient(notebook, kernel_name="python3", allow_errors=True, timeout=int(cell_timeout),
                                resources={"metadata": {"path": str(workdir)}}, startup_timeout=60,
                                shutdown_kernel="immediate")
        restart = False
        # The kernel's own log lines (not the cells' output, which ipykernel captures) would clutter the table.
        with client.setup_kernel(env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL):
            for index in list(clean):                          # replay after a restart: state only, outputs kept
                replay = copy.deepcopy(notebook.cells[index])
                try:
                    client.execute_cell(replay, index, store_history=False)
                except (CellTimeoutError, DeadKernelError):
                    break
            while todo and not restart:
                index = todo.pop(0)
                cell = notebook.cells[index]
                remaining = total_timeout - (time.monotonic() - start)
                if remaining < 1:
                    errors[index] = f"not run: the submission used up its {total_timeout:g} s"
                    continue
                client.timeout = max(1, int(min(cell_timeout, remaining)))
                try:
                    client.execute_cell(cell, index)
                except CellTimeoutError:
                    errors[index], restart = f"TimeoutError: the cell ran longer than {client.timeout} s", True
                except DeadKernelError:
                    errors[index], restart = "DeadKernelError: the cell stopped the Python kernel", True
                else:
                    error = _error_text(cell)
                    if error:
                        errors[index] = error
                    else:
                        clean.append(index)
    return errors


def grade(submission: str | Path, source: str | Path | None = None, root: str | Path = REPO,
          cell_timeout: float = CELL_TIMEOUT_S, total_timeout: float = TOTAL_TIMEOUT_S) -> Report:
    """Grade a submitted notebook against its instructor source, in smoke mode, in a sandbox.

    The submission runs in a fresh kernel whose working directory is a temporary folder holding a copy of it
    and of ``helpers/``; the guard (``tools/classroom/guard.py``) refuses changes to the course tree (``root``
    and this repository), and the course tree is compared before and after (``Report.course_changes``)."""
    root, submission = Path(root).resolve(), Path(submission).resolve()
    source = Path(source).resolve() if source else source_for(submission, root)
    instructor = nbformat.read(source, as_version=4)
    try:
        submitted = nbformat.read(submission, as_version=4)
    except Exception as error:  # noqa: BLE001 (an unreadable file scores zero, it does not crash the grader)
        submitted = nbformat.v4.new_notebook()
        unreadable = f"the submission is not a readable notebook ({type(error).__name__})"
    else:
        unreadable = ""
    notebook, missing = with_instructor_tests(submitted, instructor)
    report = Report(submission=submission, source=source)
    before = snapshot(root)
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="course-grade-") as temporary:
        workdir = Path(temporary)
        env = _sandbox(workdir, [root, REPO])
        nbformat.write(notebook, workdir / submission.name)
        errors = execute(notebook, workdir, env, cell_timeout, total_timeout)
    report.seconds = time.monotonic() - start
    after = snapshot(root)
    report.course_changes = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    found = {grading(c).get("grade_id"): i for i, c in enumerate(notebook.cells) if is_test(c) or is_manual(c)}
    criteria = rubrics(instructor)
    for cell in instructor.cells:
        if not (is_test(cell) or is_manual(cell)):
            continue
        meta = grading(cell)
        check = Check(meta["grade_id"], float(meta.get("points") or 0), manual=is_manual(cell))
        if check.manual:
            check.message = "graded by hand with its rubric (below)"
            report.rubrics[check.grade_id] = criteria.get(check.grade_id, [])
        else:
            index = found.get(check.grade_id)
            error = unreadable or (errors.get(index) if index is not None else "the test cell is missing")
            check.score = 0.0 if error else check.points
            check.message = error or ""
        report.checks.append(check)
    graded = {i for i, c in enumerate(notebook.cells) if is_answer(c) or is_test(c) or is_manual(c)}
    report.cell_errors = [f"cell {i}: {e}" for i, e in sorted(errors.items())]
    report.lesson_errors = [f"cell {i}: {e}" for i, e in sorted(errors.items()) if i not in graded]
    return report


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m tools.classroom", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    student = commands.add_parser("student", help="write student/ from the marked chapters (make student)")
    student.add_argument("--check", action="store_true", help="only report; exit 1 when student/ is out of sync")
    student.add_argument("--root", type=Path, default=REPO, help="course tree holding notebooks/ (default: this one)")
    check = commands.add_parser("check", help="check the classroom markup of every marked chapter")
    check.add_argument("--root", type=Path, default=REPO)
    graded = commands.add_parser("grade", help="grade a submission (make grade SUBMISSION=path.ipynb)")
    graded.add_argument("submission", type=Path)
    graded.add_argument("--source", type=Path, help="instructor notebook (default: the marked chapter of that name)")
    graded.add_argument("--root", type=Path, default=REPO)
    graded.add_argument("--cell-timeout", type=float, default=CELL_TIMEOUT_S, help="seconds per cell")
    graded.add_argument("--timeout", type=float, default=TOTAL_TIMEOUT_S, help="seconds for the whole submission")
    args = parser.parse_args(argv)

    if args.command == "student":
        differences = write_student_editions(args.root.resolve(), check=args.check)
        marked = marked_notebooks(args.root.resolve())
        for line in differences:
            print(("out of sync: " if args.check else "wrote: ") + line)
        print(f"{len(marked)} marked chapter(s); student edition {'in sync' if not differences else 'updated'}"
              if not args.check or not differences else "run `make student` and commit student/")
        return 1 if args.check and differences else 0
    if args.command == "check":
        status = 0
        for path in marked_notebooks(args.root.resolve()):
            problems = markup_problems(nbformat.read(path, as_version=4))
            print(f"{path.name}: " + ("ok" if not problems else "\n  " + "\n  ".join(problems)))
            status |= bool(problems)
        return status
    if not args.submission.is_file():
        parser.error(f"no such submission: {args.submission}")
    try:
        report = grade(args.submission, args.source, args.root, args.cell_timeout, args.timeout)
    except FileNotFoundError as error:
        parser.error(str(error))
    print(f"{args.submission.name}, graded against {report.source.name} in smoke mode "
          f"({args.cell_timeout:g} s per cell, {args.timeout:g} s in all; took {report.seconds:.0f} s)\n")
    print(report.table())
    return 2 if report.course_changes else 0


if __name__ == "__main__":
    sys.exit(main())
