"""The classroom edition (tools/classroom): markup, student edition, autograder, sandbox, guide, and real nbgrader.

Proved on a tiny NumPy chapter, tests/fixtures/classroom/notebooks/99_classroom_fixture.ipynb (3 autograded
exercises worth 2 + 2 + 3 points, one manually graded with a 3-point rubric), and on every chapter of
notebooks/ that carries the markup (``CHAPTERS``): the parametrized tests pick each one up automatically.

What a marked chapter costs CI, and why (every chapter will be marked; a smoke run is the expensive part):

- **Instructor edition, full marks:** no extra run. The chapter's test cells, hidden tests included, are ordinary
  cells of the instructor notebook, so the suite's nbval run of ``notebooks/NN_name.ipynb`` executes every one of
  them in smoke mode and fails on the first that raises; a test cell scores its points exactly when it runs
  without error. ``test_nbval_runs_every_test_cell`` makes sure none is skipped there.
- **Student edition, zero; a wrong answer, exactly its points:** one grading run per chapter
  (``test_student_edition_and_a_wrong_answer_graded_in_one_run``). The grader runs the lesson once, then the
  exercise section twice: first as the student edition has it (stubs), then with the instructor's answers and
  one deliberate mistake (``WRONG_ANSWERS``). Stubs raise before they define anything, and the second copy
  redefines every answer, so the first copy cannot help the second.
"""

from __future__ import annotations

import copy
import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tools import classroom
from tools.classroom import guide

REPO = Path(__file__).resolve().parent.parent
FIXTURE_ROOT = REPO / "tests" / "fixtures" / "classroom"
FIXTURE = FIXTURE_ROOT / "notebooks" / "99_classroom_fixture.ipynb"
FIXTURE_AUTOGRADED = 7
ROOTS = [REPO, FIXTURE_ROOT]
CHAPTERS = classroom.marked_notebooks(REPO)
MARKED = [*CHAPTERS, FIXTURE]
WRONG_ANSWERS = {
    "00_setup_and_tour.ipynb": ("ex3-second-derivative", "return float(outer.gradient(first, x))", "return float(first)"),
    "01_gradient_descent.ipynb": ("ex5-tanh-backprop", "(1 - A**2)", "(1 - A)"),
    "07_convolutional_networks.ipynb": ("ex3-im2col", "(kh, kw), axis=(1, 2))[:", "(kh, kh), axis=(1, 2))[:"),
    "05_overfitting_l2_dropout.ipynb": ("ex2-kernel-norm", "layer.kernel.numpy() for layer in model.layers if isinstance("
                                        "layer, keras.layers.Dense)", "w.numpy() for w in model.trainable_weights"),
    "08_residual_networks.ipynb": ("ex4-preactivation", "return layers.Add()([y, x])",
                                   "return layers.ReLU()(layers.Add()([y, x]))"),
    "06_batch_normalization.ipynb": ("ex1-torch-port", "x.var(axis=0) * m / (m - 1)", "x.var(axis=0)"),
    "11_generative_adversarial_networks.ipynb": ("ex2-generator-gradients", "np.log(d_fake / (1 - d_fake))",
                                                 "np.log(d_fake)"),
    "02_momentum.ipynb": ("ex2-stability-limits", "asymptotic_rate([1.0], middle, momentum, nesterov)",
                          "asymptotic_rate([1.0], middle, momentum)"),
    "03_adaptive_learning_rates.ipynb": ("ex1-uncorrected-adam", "return (1 - beta_1**t) / np.sqrt(1 - beta_2**t)",
                                         "return (1 - 0.9**t) / np.sqrt(1 - 0.999**t)"),
    "04_learning_rate_schedules.ipynb": ("ex4-step-schedule", "decay_steps=2 * steps_per_epoch",
                                         "decay_steps=2 * STEPS_PER_EPOCH"),
    "14_scaling_up.ipynb": ("ex2-tpu-plan", "n_examples // global_batch", "round(n_examples / global_batch)"),
    "12_deep_q_networks.ipynb": ("ex3-sarsa", "q_table[next_state, next_action]", "np.max(q_table[next_state])"),
    "09_recurrent_networks.ipynb": ("ex2-lstm", "units = recurrent_kernel.shape[0]", "units = 16"),
    "13_transformers.ipynb": ("ex2-kv-cache-bytes", "return 2 * depth * context", "return depth * context"),
    "10_attention_seq2seq.ipynb": ("ex3-longer-strings", "= BOS, reverse", "= BOS, string"),
}
"""One deliberate mistake per marked chapter: (answer's grade_id, text of its solution, the mistaken text). Each one
passes the exercise's visible checks (the first derivative is a float, the shapes are right, three numbers come back)
and only the hidden ones catch it."""


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def cell_by_id(notebook, grade_id: str):
    return next(c for c in notebook.cells if classroom.grading(c).get("grade_id") == grade_id)


def root_of(path: Path) -> Path:
    return path.parent.parent


def test_the_fixture_is_marked_and_found():
    assert FIXTURE in MARKED
    assert classroom.marked_notebooks(FIXTURE_ROOT) == [FIXTURE]


@pytest.mark.parametrize("path", MARKED, ids=lambda p: p.name)
def test_markup_is_well_formed(path):
    assert classroom.markup_problems(read(path)) == []


def test_markup_problems_name_each_mistake():
    notebook = read(FIXTURE)
    broken = copy.deepcopy(notebook)
    broken.cells = [c for c in broken.cells if not classroom.is_rubric(c)]                   # rubric gone
    test_cell = cell_by_id(broken, "test-ex2-add-bias")
    test_cell.source = test_cell.source.replace(classroom.END_HIDDEN, "")                   # unbalanced region
    answer = cell_by_id(broken, "ex3-gradient")
    answer.metadata["tags"] = []                                                             # not tagged 'solution'
    cell_by_id(broken, "test-ex1-mse").metadata["nbgrader"]["points"] = 0                    # no points
    problems = "\n".join(classroom.markup_problems(broken))
    for expected in ("needs a rubric", "without '### END HIDDEN TESTS'", "tag an answer cell 'solution'",
                     "needs points > 0"):
        assert expected in problems, problems
    cell_by_id(notebook, "ex4-why-not-exact").metadata["nbgrader"]["points"] = 4             # rubric adds up to 3
    assert any("adds up to 3 points" in p for p in classroom.markup_problems(notebook))


@pytest.mark.parametrize("root", ROOTS, ids=["notebooks", "fixture"])
def test_committed_student_edition_is_in_sync(root):
    """student/ holds exactly the generated editions of the marked chapters (`make student` writes them)."""
    assert classroom.write_student_editions(root, check=True) == [], "run `make student` and commit student/"


def test_the_sync_check_sees_a_stale_student_file(tmp_path):
    root = tmp_path / "course"
    shutil.copytree(FIXTURE_ROOT, root)
    classroom.write_student_editions(root)             # a course tree of its own: badges relative to it
    assert classroom.write_student_editions(root, check=True) == []
    answer = root / "notebooks" / FIXTURE.name
    text = answer.read_text().replace("average their squares", "average the squares")
    answer.write_text(text)
    assert classroom.write_student_editions(root, check=True) == [f"student/{FIXTURE.name}: out of date"]
    classroom.write_student_editions(root)
    assert classroom.write_student_editions(root, check=True) == []


@pytest.mark.parametrize("path", MARKED, ids=lambda p: p.name)
def test_student_edition_hides_the_answers_and_keeps_the_lesson(path):
    source = read(path)
    student = read(classroom.student_path(path, root_of(path)))
    kept = [c for c in source.cells if not classroom.is_rubric(c)]
    assert len(student.cells) == len(kept)
    for original, cell in zip(kept[1:], student.cells[1:]):
        if classroom.is_answer(original):
            assert classroom.BEGIN_SOLUTION not in cell.source
            answer = {line for line in _region_lines(original.source) if line and not line.startswith("# Hint")}
            assert answer and not answer & {line.strip() for line in cell.source.splitlines()}, "an answer leaks"
            if original.cell_type == "code":
                assert "raise NotImplementedError(" in cell.source
            assert "solution" not in cell.metadata.get("tags", [])
            assert not cell.metadata.get("jupyter", {}).get("source_hidden")
        elif classroom.is_test(original):
            assert classroom.BEGIN_HIDDEN not in cell.source and cell.source in original.source
        else:
            assert cell == original, "a lesson cell (source, outputs, execution count) changed"
        if cell.cell_type == "code" and (classroom.is_answer(original) or classroom.is_test(original)):
            assert cell.outputs == [] and cell.execution_count is None
    relative = classroom.student_path(path, root_of(path)).relative_to(REPO).as_posix()
    assert classroom.course().colab_url(relative) in student.cells[0].source
    assert "/notebooks/" + path.name not in student.cells[0].source


def _region_lines(source: str) -> set[str]:
    lines, inside = set(), False
    for line in source.splitlines():
        if classroom.BEGIN_SOLUTION in line:
            inside = True
        elif classroom.END_SOLUTION in line:
            inside = False
        elif inside:
            lines.add(line.strip())
    return lines


def test_student_edition_is_deterministic_and_leaves_the_source_alone():
    before = FIXTURE.read_bytes()
    first = classroom.student_text(FIXTURE, FIXTURE_ROOT)
    assert classroom.student_text(FIXTURE, FIXTURE_ROOT) == first
    assert FIXTURE.read_bytes() == before


# ---------------------------------------------------------------------------------------------- grading
def scores(report: classroom.Report) -> dict[str, float | None]:
    return {c.grade_id: c.score for c in report.checks}


def test_instructor_edition_scores_full_marks():
    """On the fixture, by the grader itself (for the chapters, nbval's run is this check: see the module's docstring)."""
    report = classroom.grade(FIXTURE, FIXTURE, FIXTURE_ROOT)
    assert report.autograded == (FIXTURE_AUTOGRADED, FIXTURE_AUTOGRADED), report.table()
    assert report.lesson_errors == [] and report.course_changes == []
    assert [c.grade_id for c in report.checks if c.manual] == ["ex4-why-not-exact"]


def test_student_edition_scores_zero_and_otherwise_runs():
    report = classroom.grade(classroom.student_path(FIXTURE, FIXTURE_ROOT), FIXTURE, FIXTURE_ROOT)
    assert report.autograded == (0, FIXTURE_AUTOGRADED), report.table()
    assert report.lesson_errors == [], "the student edition fails outside its exercises"
    assert all("NotImplementedError" in c.message or "NameError" in c.message
               for c in report.checks if not c.manual), report.table()


def submission(tmp_path: Path, notebook, name: str = FIXTURE.name) -> Path:
    path = tmp_path / name
    nbformat.write(notebook, path)
    return path


def test_a_wrong_answer_loses_exactly_its_points(tmp_path):
    """A gradient off by a factor of 2 passes the visible shape test; the hidden finite-difference test fails."""
    notebook = read(classroom.student_path(FIXTURE, FIXTURE_ROOT))
    solved = read(FIXTURE)
    for grade_id in ("ex1-mse", "ex2-add-bias", "ex3-gradient"):                  # a student's full answers...
        cell_by_id(notebook, grade_id).source = cell_by_id(solved, grade_id).source
    wrong = cell_by_id(notebook, "ex3-gradient")
    wrong.source = wrong.source.replace("2.0 / len(y)", "1.0 / len(y)")           # ...with one mistake
    report = classroom.grade(submission(tmp_path, notebook), FIXTURE, FIXTURE_ROOT)
    assert scores(report) == {"test-ex1-mse": 2, "test-ex2-add-bias": 2, "test-ex3-gradient": 0,
                              "ex4-why-not-exact": None}
    failed = next(c for c in report.checks if c.grade_id == "test-ex3-gradient")
    assert failed.message == "AssertionError: the gradient does not match finite differences"
    assert "test-ex3-gradient" in report.table() and "finite differences" in report.table()


def test_tampered_or_deleted_tests_are_restored_from_the_source(tmp_path):
    notebook = read(FIXTURE)
    cell_by_id(notebook, "ex3-gradient").source = "def gradient(w, X, y):\n    return 0 * w"
    cell_by_id(notebook, "test-ex3-gradient").source = "pass  # the student emptied the test"
    notebook.cells.remove(cell_by_id(notebook, "test-ex2-add-bias"))                # and deleted another
    report = classroom.grade(submission(tmp_path, notebook), FIXTURE, FIXTURE_ROOT)
    assert scores(report)["test-ex3-gradient"] == 0 and scores(report)["test-ex2-add-bias"] == 2


def test_a_submission_that_lost_its_cell_metadata_is_still_graded(tmp_path):
    """An editor that drops cell metadata leaves no grade_id to match: the instructor's tests run at the end."""
    notebook = read(FIXTURE)
    for cell in notebook.cells:
        cell.metadata = {}
    report = classroom.grade(submission(tmp_path, notebook), FIXTURE, FIXTURE_ROOT)
    assert report.autograded == (FIXTURE_AUTOGRADED, FIXTURE_AUTOGRADED), report.table()


def test_loops_crashes_and_deletions_lose_only_their_points(tmp_path):
    """ex1's answer deletes the course tree (refused: its 2 points go), ex2's loops forever (killed: 2 points),
    a cell in between kills the kernel (nothing graded there); ex3 still scores its 3 points."""
    root = tmp_path / "course"
    shutil.copytree(FIXTURE_ROOT, root)
    canary = root / "notebooks" / "keep.txt"
    canary.write_text("the course's files")
    fixture_hash = hashlib.sha256(FIXTURE.read_bytes()).hexdigest()
    notebook = read(FIXTURE)
    cell_by_id(notebook, "ex1-mse").source = f"import shutil\n\nshutil.rmtree({str(root)!r})\nmse = 0.0"
    cell_by_id(notebook, "ex2-add-bias").source = "while True:\n    pass"
    attempts = f"""import os, pathlib, subprocess, sys
refused = 0
for attempt in (lambda: os.remove({str(canary)!r}), lambda: pathlib.Path({str(canary)!r}).write_text("x"),
                lambda: os.rename({str(canary)!r}, "moved.txt"), lambda: os.system("rm -rf {root}"),
                lambda: subprocess.run(["rm", "-rf", {str(root)!r}]),
                lambda: subprocess.run([sys.executable, "-I", "-c", "import shutil; shutil.rmtree({str(root)!r})"]),
                lambda: subprocess.run([sys.executable, "-c", "import os; os.remove({str(canary)!r})"], check=True),
                lambda: open({str(REPO / "README.md")!r}, "a")):
    try:
        attempt()
    except (PermissionError, subprocess.CalledProcessError):
        refused += 1
assert refused == 8, refused"""
    crash = "import os\n\nos._exit(3)"
    at = notebook.cells.index(cell_by_id(notebook, "ex3-gradient"))
    notebook.cells[at:at] = [nbformat.v4.new_code_cell(attempts), nbformat.v4.new_code_cell(crash)]
    report = classroom.grade(submission(tmp_path, notebook), root / "notebooks" / FIXTURE.name, root, cell_timeout=3)
    assert scores(report) == {"test-ex1-mse": 0, "test-ex2-add-bias": 0, "test-ex3-gradient": 3,
                              "ex4-why-not-exact": None}, report.table()
    messages = {c.grade_id: c.message for c in report.checks}
    assert messages["test-ex1-mse"].startswith("NameError")       # the answer cell was refused, so no mse
    errors = "\n".join(report.cell_errors)
    assert "DeadKernelError" in errors and "TimeoutError" in errors and "PermissionError" in errors, errors
    assert "AssertionError" not in errors, "some attempt to change the course's files was not refused"
    assert report.course_changes == [] and canary.read_text() == "the course's files"
    assert hashlib.sha256(FIXTURE.read_bytes()).hexdigest() == fixture_hash


def test_the_course_tree_check_would_see_a_change(tmp_path):
    (tmp_path / "a.txt").write_text("1")
    before = classroom.snapshot(tmp_path)
    (tmp_path / "a.txt").write_text("22")
    (tmp_path / "b.txt").write_text("new")
    after = classroom.snapshot(tmp_path)
    assert sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k)) == ["a.txt", "b.txt"]


def test_the_sandbox_imports_a_copy_of_helpers_and_starts_in_a_temporary_folder(tmp_path):
    env = classroom.grader._sandbox(tmp_path, [REPO])
    probe = "import importlib.util, os; print(importlib.util.find_spec('helpers').origin); print(os.environ['HOME'])"
    out = subprocess.run([sys.executable, "-c", probe], env=env, cwd=tmp_path, capture_output=True, text=True,
                         check=True).stdout.split()
    assert out[0] == str(tmp_path / "lib" / "helpers" / "__init__.py") and out[1] == str(tmp_path / "home")
    assert env["COURSE_MODE"] == "smoke"


def test_the_guard_allows_reading_and_writing_elsewhere(tmp_path):
    protected, elsewhere = tmp_path / "course", tmp_path / "scratch"
    protected.mkdir(), elsewhere.mkdir()
    (protected / "lesson.txt").write_text("read me")
    env = classroom.grader._sandbox(elsewhere, [protected])
    probe = f"""import pathlib, shutil, subprocess, sys
print(pathlib.Path({str(protected / "lesson.txt")!r}).read_text())
pathlib.Path("out.txt").write_text("mine"); shutil.rmtree(pathlib.Path("home"))
print(subprocess.run([sys.executable, "-c", "print('child')"], capture_output=True, text=True).stdout.strip())
try:
    shutil.rmtree({str(protected)!r})
except PermissionError as error:
    print(error)"""
    out = subprocess.run([sys.executable, "-c", probe], env=env, cwd=elsewhere, capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert out[:2] == ["read me", "child"] and out[2].startswith("the grader does not allow changing the course's files")
    assert (elsewhere / "out.txt").read_text() == "mine" and (protected / "lesson.txt").exists()


def test_grade_command_prints_the_table(tmp_path):
    notebook = read(classroom.student_path(FIXTURE, FIXTURE_ROOT))
    completed = subprocess.run([sys.executable, "-m", "tools.classroom", "grade", str(submission(tmp_path, notebook)),
                                "--root", str(FIXTURE_ROOT)], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    assert "autograded: 0 / 7 points; graded by hand: 3 points" in completed.stdout
    assert "NotImplementedError: exercise ex2-add-bias. Hint:" in completed.stdout
    assert "rubric for ex4-why-not-exact:\n  (1 pt) Names the noise" in completed.stdout


def make_dry_run(*arguments: str) -> str:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    return subprocess.run(["make", "-n", "-o", ".venv/.installed", *arguments], cwd=REPO, capture_output=True,
                          text=True, check=True).stdout


def test_make_student_and_make_grade_run_the_classroom_tool():
    assert "-m tools.classroom student" in make_dry_run("student")
    assert "-m tools.classroom grade 'work/99_x.ipynb'" in make_dry_run("grade", "SUBMISSION=work/99_x.ipynb")


# ------------------------------------------------------------------------------------------- real nbgrader
BIN_ON_PATH = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
"""nbgrader runs ``alembic`` (its gradebook's migrations) from PATH: the environment's bin/, active or not."""


def nbgrader(*arguments: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "COURSE_MODE": "smoke", "HOME": str(cwd), "PATH": BIN_ON_PATH}
    return subprocess.run([sys.executable, "-m", "nbgrader", *arguments], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


def test_nbgrader_validate_passes_the_instructor_edition_and_fails_every_test_of_the_student_edition(tmp_path):
    pytest.importorskip("nbgrader")
    shutil.copy(FIXTURE, tmp_path / "instructor.ipynb")
    shutil.copy(classroom.student_path(FIXTURE, FIXTURE_ROOT), tmp_path / "student.ipynb")
    instructor = nbgrader("validate", "instructor.ipynb", cwd=tmp_path)
    assert "Success! Your notebook passes all the tests." in instructor.stdout, instructor.stdout + instructor.stderr
    student = nbgrader("validate", "--invert", "student.ipynb", cwd=tmp_path)
    assert "Success! The notebook does not pass any tests." in student.stdout, student.stdout + student.stderr


def test_nbgrader_autograde_scores_our_student_edition_like_the_course_grader(tmp_path, monkeypatch):
    """The nbgrader workflow without a JupyterHub: source/ -> generate_assignment -> submitted/ -> autograde."""
    pytest.importorskip("nbgrader")
    monkeypatch.setenv("PATH", BIN_ON_PATH)
    from nbgrader.api import Gradebook

    (tmp_path / "source" / "fixture").mkdir(parents=True)
    shutil.copy(FIXTURE, tmp_path / "source" / "fixture" / FIXTURE.name)
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\nc.CourseDirectory.course_id = 'course'\n")
    generated = nbgrader("generate_assignment", "fixture", "--force", cwd=tmp_path)
    assert generated.returncode == 0, generated.stderr
    solved = read(classroom.student_path(FIXTURE, FIXTURE_ROOT))
    for grade_id in ("ex1-mse", "ex2-add-bias", "ex3-gradient"):
        cell_by_id(solved, grade_id).source = cell_by_id(read(FIXTURE), grade_id).source
    cell_by_id(solved, "ex4-why-not-exact").source = "The targets are noisy; more samples would help."
    for student, notebook in (("alice", solved), ("bob", read(classroom.student_path(FIXTURE, FIXTURE_ROOT)))):
        folder = tmp_path / "submitted" / student / "fixture"
        folder.mkdir(parents=True)
        nbformat.write(notebook, folder / FIXTURE.name)
    graded = nbgrader("autograde", "fixture", "--create", "--force", cwd=tmp_path)
    assert graded.returncode == 0, graded.stderr
    with Gradebook(f"sqlite:///{tmp_path / 'gradebook.db'}") as gradebook:
        found = {student: gradebook.find_submission_notebook(FIXTURE.stem, "fixture", student)
                 for student in ("alice", "bob")}
        assert {s: n.code_score for s, n in found.items()} == {"alice": FIXTURE_AUTOGRADED, "bob": 0}
        # Exercise 4 waits for a teacher and its rubric; left as the stub, nbgrader scores it 0 by itself.
        assert {s: n.needs_manual_grade for s, n in found.items()} == {"alice": True, "bob": False}
        assert {s: n.max_score for s, n in found.items()} == {"alice": 10, "bob": 10}


def test_colab_url_takes_a_path_from_the_repository_root():
    base = f"https://colab.research.google.com/github/{classroom.course().REPOSITORY}/blob/{classroom.course().BRANCH}/"
    assert classroom.course().colab_url("00_setup_and_tour.ipynb") == base + "notebooks/00_setup_and_tour.ipynb"
    assert classroom.course().colab_url("student/00_setup_and_tour.ipynb") == base + "student/00_setup_and_tour.ipynb"
    assert classroom.course().colab_url(Path("student") / "01_x.ipynb") == base + "student/01_x.ipynb"


# ------------------------------------------------------------------------------------- the marked chapters
def test_every_marked_chapter_has_a_deliberate_wrong_answer():
    assert sorted(WRONG_ANSWERS) == sorted(p.name for p in CHAPTERS), "add the chapter to WRONG_ANSWERS"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_nbval_runs_every_test_cell(path):
    """The suite's nbval run of the chapter is its full-marks check: every test cell must run there, in smoke mode,
    and raise nothing (a skipped or expected-to-fail test cell would let a broken hidden test through)."""
    assert path.parent == REPO / "notebooks" and "notebooks" in _pytest_testpaths()
    for cell in read(path).cells:
        if classroom.is_test(cell):
            tags = set(cell.metadata.get("tags", []))
            assert not tags & {"nbval-skip", "raises-exception", "skip-execution"}, classroom.grading(cell)["grade_id"]
            assert not [o for o in cell.outputs if o.output_type == "error"], "a test cell failed in the stored run"
            assert cell.execution_count is not None, "the stored default-mode run executed every test cell"


def _pytest_testpaths() -> list[str]:
    """pytest's ``testpaths`` in pyproject.toml (read with a pattern: ``tomllib`` needs Python 3.11, the course 3.10)."""
    found = re.search(r"^testpaths\s*=\s*\[([^\]]*)\]", (REPO / "pyproject.toml").read_text(), re.M)
    return re.findall(r'"([^"]+)"', found.group(1)) if found else []


def _exercise_start(notebook) -> int:
    """Index of the exercise section's heading (the markdown cell that opens with ``## Exercises``)."""
    return next(i for i, c in enumerate(notebook.cells) if c.cell_type == "markdown" and c.source.startswith("## Exercises"))


def _renamed(cells, prefix: str) -> list:
    """Copies of ``cells`` with every grade_id and cell id prefixed, so two copies can sit in one notebook."""
    out = []
    for index, cell in enumerate(copy.deepcopy(cells)):
        if classroom.grading(cell).get("grade_id"):
            cell.metadata["nbgrader"]["grade_id"] = f"{prefix}{cell.metadata['nbgrader']['grade_id']}"
        if "id" in cell:
            cell.id = f"{prefix.strip(':')}-{index}"
        out.append(cell)
    return out


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_student_edition_and_a_wrong_answer_graded_in_one_run(path, tmp_path):
    """One grading run (smoke mode, the course grader's sandbox): the student edition's lesson, its exercise section as
    generated (every autograded exercise scores 0, nothing else fails), then the instructor's answers with one
    deliberate mistake (that exercise alone loses its points)."""
    instructor, student = read(path), read(classroom.student_path(path))
    grade_id, right, wrong = WRONG_ANSWERS[path.name]
    i, s = _exercise_start(instructor), _exercise_start(student)
    answers = [c for c in instructor.cells[i:] if not classroom.is_rubric(c)]
    mistaken = _renamed(answers, "wrong:")
    answer = next(c for c in mistaken if classroom.grading(c).get("grade_id") == f"wrong:{grade_id}")
    assert right in answer.source, f"{grade_id}: the text to break is not in its solution"
    answer.source = answer.source.replace(right, wrong)
    submitted = copy.deepcopy(student)
    submitted.cells = student.cells[:s] + _renamed(student.cells[s:], "student:") + mistaken
    source = copy.deepcopy(instructor)
    tail = instructor.cells[i:]
    source.cells = instructor.cells[:i] + _renamed(tail, "student:") + _renamed(tail, "wrong:")
    (tmp_path / "source").mkdir()
    nbformat.write(source, tmp_path / "source" / path.name)
    report = classroom.grade(submission(tmp_path, submitted, path.name), tmp_path / "source" / path.name, REPO)

    points, answered_by, last_answer = {}, {}, None
    for cell in instructor.cells:
        if classroom.is_answer(cell):
            last_answer = classroom.grading(cell)["grade_id"]
        elif classroom.is_test(cell):
            points[classroom.grading(cell)["grade_id"]] = float(classroom.grading(cell)["points"])
            answered_by[classroom.grading(cell)["grade_id"]] = last_answer
    expected = {f"student:{g}": 0.0 for g in points} | {
        f"wrong:{g}": 0.0 if answered_by[g] == grade_id else p for g, p in points.items()}
    assert list(answered_by.values()).count(grade_id) == 1
    found = {g: v for g, v in scores(report).items() if v is not None}
    assert found == expected, report.table()
    assert report.lesson_errors == [] and report.course_changes == [], report.table()
    messages = [c.message for c in report.checks if c.grade_id.startswith("student:") and not c.manual]
    assert all(m.startswith(("NotImplementedError: exercise", "NameError")) for m in messages), report.table()


def test_nbgrader_generate_assignment_accepts_the_marked_chapters(tmp_path):
    """nbgrader itself reads every marked chapter's markup (no execution: cheap): it registers the graded cells with
    their points and writes a release copy."""
    pytest.importorskip("nbgrader")
    from nbgrader.api import Gradebook

    folder = tmp_path / "source" / "course"
    folder.mkdir(parents=True)
    for path in CHAPTERS:
        shutil.copy(path, folder / path.name)
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\nc.CourseDirectory.course_id = 'course'\n")
    generated = nbgrader("generate_assignment", "course", "--force", cwd=tmp_path)
    assert generated.returncode == 0, generated.stdout + generated.stderr
    with Gradebook(f"sqlite:///{tmp_path / 'gradebook.db'}") as gradebook:
        for path in CHAPTERS:
            graded = [classroom.grading(c) for c in read(path).cells if classroom.is_test(c) or classroom.is_manual(c)]
            notebook = gradebook.find_notebook(path.stem, "course")
            assert notebook.max_score == sum(float(g["points"]) for g in graded), path.name
        assert (tmp_path / "release" / "course" / CHAPTERS[0].name).exists()


def test_the_instructor_guide_is_in_sync():
    """docs/teaching.md's generated blocks (chapters, exercises) match the notebooks and the markup."""
    assert not guide.write_guide(REPO, check=True), "run `python -m tools.classroom guide` and commit"


def test_the_guide_lists_every_exercise_with_its_points():
    text = (REPO / "docs" / "teaching.md").read_text()
    for path in CHAPTERS:
        rows = guide.exercises(read(path))
        graded = [c for c in read(path).cells if classroom.is_test(c) or classroom.is_manual(c)]
        assert len(rows) >= 4
        assert sum(r["points"] for r in rows) == sum(float(classroom.grading(c)["points"]) for c in graded)
        for row in rows:
            assert row["assesses"], f"{path.name} {row['grade_id']}: say what it assesses (metadata classroom.assesses)"
            assert f"| {row['number']} | {row['title']} |" in text
