"""The autograder: a submission runs in smoke mode, in a fresh kernel, in a sandbox, with time limits.

``make grade SUBMISSION=path/NN_name.ipynb`` (``python -m tools.classroom grade``) prints the score table. The
instructor's test cells (hidden tests included) replace the submission's, matched by grade_id as in nbgrader's
autograde; ``guard.py`` keeps the submission's hands off the course tree.
"""

from __future__ import annotations

import copy
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from tools.classroom.markup import REPO, grading, is_answer, is_manual, is_test, marked_notebooks, rubrics

CELL_TIMEOUT_S = 120
"""Time limit of one cell of a submission (smoke mode: a chapter's slowest cell takes well under a minute)."""
TOTAL_TIMEOUT_S = 600
"""Time limit of a whole submission, restarts and replays included."""


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
